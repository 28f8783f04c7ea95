//! The runtime: task threads, channels, partitioners, input gates and the job that runs them.

pub mod chain;
pub mod input_gate;
pub mod job;
pub mod job_handle;
pub mod key;
pub mod key_group;
pub mod lock;
pub mod message;
pub mod operator;
pub mod output;
pub mod partitioner;
pub mod record;
pub mod task;
pub mod watermark_valve;

#[cfg(test)]
mod job_tests;
