//! The live counters of one task (one chain × one subtask).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// A task's counters. The task stores its running totals after each step; readers load them.
/// Relaxed ordering: each value is a total in its own right, read a step late at worst.
#[derive(Debug)]
pub struct TaskMetrics {
    records_in: AtomicU64,
    records_out: AtomicU64,
    bytes_out: AtomicU64,
    batches_out: AtomicU64,
    back_pressured_ns: AtomicU64,
    busy_ns: AtomicU64,
    input_watermark: AtomicI64,
    output_watermark: AtomicI64,
}

impl Default for TaskMetrics {
    fn default() -> Self {
        TaskMetrics {
            records_in: AtomicU64::new(0),
            records_out: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            batches_out: AtomicU64::new(0),
            back_pressured_ns: AtomicU64::new(0),
            busy_ns: AtomicU64::new(0),
            input_watermark: AtomicI64::new(i64::MIN),
            output_watermark: AtomicI64::new(i64::MIN),
        }
    }
}

/// What a task did up to a moment: what it stores after a step, and what readers get.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskMetricsSnapshot {
    /// Flink's `numRecordsIn`.
    pub records_in: u64,
    /// Flink's `numRecordsOut`.
    pub records_out: u64,
    /// Estimated bytes of the records sent (Flink's `numBytesOut`).
    pub bytes_out: u64,
    pub batches_out: u64,
    /// Time spent waiting on full output channels (the total behind Flink's
    /// `backPressuredTimeMsPerSecond`).
    pub back_pressured: Duration,
    /// Time spent working: steps that did something, back pressure excluded (the total behind
    /// `busyTimeMsPerSecond`).
    pub busy: Duration,
    /// The task's input watermark (`currentInputWatermark`; `i64::MIN` before the first).
    pub input_watermark: i64,
    /// The watermark it last sent (`currentOutputWatermark`).
    pub output_watermark: i64,
}

impl TaskMetrics {
    /// Stores a task's running totals (the task's thread only).
    pub fn store(&self, t: &TaskMetricsSnapshot) {
        let r = Ordering::Relaxed;
        self.records_in.store(t.records_in, r);
        self.records_out.store(t.records_out, r);
        self.bytes_out.store(t.bytes_out, r);
        self.batches_out.store(t.batches_out, r);
        self.back_pressured_ns.store(nanos(t.back_pressured), r);
        self.busy_ns.store(nanos(t.busy), r);
        self.input_watermark.store(t.input_watermark, r);
        self.output_watermark.store(t.output_watermark, r);
    }

    /// Stores the records taken in so far, before they are processed.
    pub fn set_records_in(&self, records_in: u64) {
        self.records_in.store(records_in, Ordering::Relaxed);
    }

    /// The totals as last stored.
    pub fn snapshot(&self) -> TaskMetricsSnapshot {
        let r = Ordering::Relaxed;
        TaskMetricsSnapshot {
            records_in: self.records_in.load(r),
            records_out: self.records_out.load(r),
            bytes_out: self.bytes_out.load(r),
            batches_out: self.batches_out.load(r),
            back_pressured: Duration::from_nanos(self.back_pressured_ns.load(r)),
            busy: Duration::from_nanos(self.busy_ns.load(r)),
            input_watermark: self.input_watermark.load(r),
            output_watermark: self.output_watermark.load(r),
        }
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The tasks of a running job and their metrics, in plan order.
#[derive(Debug, Default)]
pub struct JobMetrics {
    pub tasks: Vec<TaskMetricsEntry>,
}

/// One task of a job: its name, subtask and counters.
#[derive(Debug)]
pub struct TaskMetricsEntry {
    pub task_name: String,
    pub subtask_index: usize,
    pub parallelism: usize,
    pub metrics: std::sync::Arc<TaskMetrics>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_reads_what_was_stored() {
        let m = TaskMetrics::default();
        assert_eq!(m.snapshot().input_watermark, i64::MIN);
        m.store(&TaskMetricsSnapshot {
            records_in: 3,
            records_out: 2,
            bytes_out: 100,
            batches_out: 1,
            back_pressured: Duration::from_millis(5),
            busy: Duration::from_millis(7),
            input_watermark: 40,
            output_watermark: 39,
        });
        let s = m.snapshot();
        assert_eq!(
            (s.records_in, s.records_out, s.bytes_out, s.batches_out),
            (3, 2, 100, 1)
        );
        assert_eq!(
            (s.back_pressured, s.busy),
            (Duration::from_millis(5), Duration::from_millis(7))
        );
        assert_eq!((s.input_watermark, s.output_watermark), (40, 39));
    }
}
