//! Metrics of a running job, readable while it runs: each task's counters live in atomics that
//! the task updates once per step (a batch, not a record) and anyone may read at any time
//! ([`TaskMetrics::snapshot`]), with Flink's names where Flink has one.

pub mod histogram;
pub mod history;
pub mod options;
pub mod task;
pub mod user;
