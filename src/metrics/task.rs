//! The live counters of one task (one chain × one subtask).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::metrics::histogram::LatencyHistogram;
use crate::metrics::user::UserMetrics;

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
    idle_ns: AtomicU64,
    input_watermark: AtomicI64,
    output_watermark: AtomicI64,
    /// How full the task's output channels are (the fullest), as `f64` bits.
    out_pool_usage: AtomicU64,
    /// How full its input channels are (the fullest), as `f64` bits.
    in_pool_usage: AtomicU64,
    /// The records a bounded source task will read, when it knows (`u64::MAX` otherwise).
    source_total: AtomicU64,
    /// Latency from the source to the end of this task's processing, per record.
    pub latency: LatencyHistogram,
    /// Records in and out of each operator of the chain, in chain order.
    operators: Box<[OperatorCounts]>,
    /// The operators' own counters (e.g. late records dropped), summed by name.
    counters: Box<[(&'static str, AtomicU64)]>,
    /// What `step_since` and `blocked_since` count from.
    epoch: Instant,
    /// When the step in progress started (nanoseconds since `epoch`, plus one; 0: none), so
    /// that a long step shows as busy while it lasts.
    step_since: AtomicU64,
    /// When the send in progress started waiting on a full channel (as `step_since`).
    blocked_since: AtomicU64,
}

/// The records an operator of a chain took in and emitted.
#[derive(Debug)]
struct OperatorCounts {
    name: String,
    records_in: AtomicU64,
    records_out: AtomicU64,
}

/// One operator's counts, as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorSnapshot {
    pub name: String,
    pub records_in: u64,
    pub records_out: u64,
}

impl Default for TaskMetrics {
    fn default() -> Self {
        TaskMetrics::new(Vec::new(), Vec::new())
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
    /// Time spent waiting for input with nothing else to do (the total behind
    /// `idleTimeMsPerSecond`).
    pub idle: Duration,
    /// The task's input watermark (`currentInputWatermark`; `i64::MIN` before the first).
    pub input_watermark: i64,
    /// The watermark it last sent (`currentOutputWatermark`).
    pub output_watermark: i64,
}

impl TaskMetrics {
    /// The metrics of a task whose chain has operators named `operators` and counters named
    /// `counters`.
    pub fn new(operators: Vec<String>, counters: Vec<&'static str>) -> Self {
        TaskMetrics {
            records_in: AtomicU64::new(0),
            records_out: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            batches_out: AtomicU64::new(0),
            back_pressured_ns: AtomicU64::new(0),
            busy_ns: AtomicU64::new(0),
            idle_ns: AtomicU64::new(0),
            input_watermark: AtomicI64::new(i64::MIN),
            output_watermark: AtomicI64::new(i64::MIN),
            out_pool_usage: AtomicU64::new(0f64.to_bits()),
            in_pool_usage: AtomicU64::new(0f64.to_bits()),
            source_total: AtomicU64::new(u64::MAX),
            latency: LatencyHistogram::default(),
            operators: operators
                .into_iter()
                .map(|name| OperatorCounts {
                    name,
                    records_in: AtomicU64::new(0),
                    records_out: AtomicU64::new(0),
                })
                .collect(),
            counters: counters.into_iter().map(|n| (n, AtomicU64::new(0))).collect(),
            epoch: Instant::now(),
            step_since: AtomicU64::new(0),
            blocked_since: AtomicU64::new(0),
        }
    }

    fn mark(&self, at: Option<Instant>) -> u64 {
        at.map_or(0, |t| nanos(t.saturating_duration_since(self.epoch)).saturating_add(1))
    }

    /// A step started at `at` (the task's thread); [`TaskMetrics::store`] ends it.
    pub fn begin_step(&self, at: Instant) {
        self.step_since.store(self.mark(Some(at)), Ordering::Relaxed);
    }

    /// A send started waiting on a full channel at `at`, or stopped waiting (None).
    pub fn set_blocked(&self, at: Option<Instant>) {
        self.blocked_since.store(self.mark(at), Ordering::Relaxed);
    }

    /// How long the mark `since` has lasted by `now`.
    fn lasted(&self, since: &AtomicU64, now: Instant) -> Duration {
        match since.load(Ordering::Relaxed) {
            0 => Duration::ZERO,
            mark => now
                .saturating_duration_since(self.epoch)
                .saturating_sub(Duration::from_nanos(mark - 1)),
        }
    }

    /// Stores a task's running totals (the task's thread only), after a step.
    pub fn store(&self, t: &TaskMetricsSnapshot) {
        let r = Ordering::Relaxed;
        self.records_in.store(t.records_in, r);
        self.records_out.store(t.records_out, r);
        self.bytes_out.store(t.bytes_out, r);
        self.batches_out.store(t.batches_out, r);
        self.back_pressured_ns.store(nanos(t.back_pressured), r);
        self.busy_ns.store(nanos(t.busy), r);
        self.idle_ns.store(nanos(t.idle), r);
        self.input_watermark.store(t.input_watermark, r);
        self.output_watermark.store(t.output_watermark, r);
        // Last: until now a reader added the step in progress to the old totals.
        self.step_since.store(0, r);
    }

    /// Stores the records taken in so far, before they are processed.
    pub fn set_records_in(&self, records_in: u64) {
        self.records_in.store(records_in, Ordering::Relaxed);
    }

    /// The totals as last stored, with the time of a step in progress counted as busy (or back
    /// pressured, while it waits on a full channel).
    pub fn snapshot(&self) -> TaskMetricsSnapshot {
        let r = Ordering::Relaxed;
        let now = Instant::now();
        let blocked = self.lasted(&self.blocked_since, now);
        let in_step = self.lasted(&self.step_since, now);
        TaskMetricsSnapshot {
            records_in: self.records_in.load(r),
            records_out: self.records_out.load(r),
            bytes_out: self.bytes_out.load(r),
            batches_out: self.batches_out.load(r),
            back_pressured: Duration::from_nanos(self.back_pressured_ns.load(r)) + blocked,
            busy: Duration::from_nanos(self.busy_ns.load(r)) + in_step.saturating_sub(blocked),
            idle: Duration::from_nanos(self.idle_ns.load(r)),
            input_watermark: self.input_watermark.load(r),
            output_watermark: self.output_watermark.load(r),
        }
    }
}

impl TaskMetrics {
    /// Stores what changes less often than every step: each operator's records in and out
    /// (by chain position), the operators' counters (by name) and how full the input and
    /// output channels are (`pool_usage`: in, out).
    pub fn store_details(
        &self,
        operators: impl Iterator<Item = (u64, u64)>,
        counters: &[(&'static str, u64)],
        pool_usage: (f64, f64),
    ) {
        let (in_pool_usage, out_pool_usage) = pool_usage;
        self.in_pool_usage.store(in_pool_usage.to_bits(), Ordering::Relaxed);
        let r = Ordering::Relaxed;
        for (slot, (records_in, records_out)) in self.operators.iter().zip(operators) {
            slot.records_in.store(records_in, r);
            slot.records_out.store(records_out, r);
        }
        for (name, value) in counters {
            if let Some((_, slot)) = self.counters.iter().find(|(n, _)| n == name) {
                slot.store(*value, r);
            }
        }
        self.out_pool_usage.store(out_pool_usage.to_bits(), r);
    }

    /// Stores how many records the task's source will read in all.
    pub fn set_source_total(&self, total: Option<u64>) {
        self.source_total.store(total.unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    pub fn source_total(&self) -> Option<u64> {
        let total = self.source_total.load(Ordering::Relaxed);
        (total != u64::MAX).then_some(total)
    }

    /// How full the input channels are.
    pub fn in_pool_usage(&self) -> f64 {
        f64::from_bits(self.in_pool_usage.load(Ordering::Relaxed))
    }

    /// How full the output channels are: 1 while a send waits on a full one.
    pub fn out_pool_usage(&self) -> f64 {
        if self.blocked_since.load(Ordering::Relaxed) != 0 {
            return 1.0;
        }
        f64::from_bits(self.out_pool_usage.load(Ordering::Relaxed))
    }

    /// Each operator's records in and out, in chain order.
    pub fn operators(&self) -> Vec<OperatorSnapshot> {
        let r = Ordering::Relaxed;
        self.operators
            .iter()
            .map(|o| OperatorSnapshot {
                name: o.name.clone(),
                records_in: o.records_in.load(r),
                records_out: o.records_out.load(r),
            })
            .collect()
    }

    /// The operators' counters, by name (e.g. `numLateRecordsDropped`).
    pub fn counters(&self) -> Vec<(&'static str, u64)> {
        self.counters
            .iter()
            .map(|(n, v)| (*n, v.load(Ordering::Relaxed)))
            .collect()
    }

    /// One counter, 0 when the chain has none of that name.
    pub fn counter(&self, name: &str) -> u64 {
        self.counters
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, v)| v.load(Ordering::Relaxed))
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The tasks of a running job and their metrics, in plan order, and the metrics its functions
/// defined.
#[derive(Debug, Default)]
pub struct JobMetrics {
    pub tasks: Vec<TaskMetricsEntry>,
    pub user: Arc<UserMetrics>,
}

/// One task of a job: its name, subtask and counters.
#[derive(Debug)]
pub struct TaskMetricsEntry {
    pub task_name: String,
    pub subtask_index: usize,
    pub parallelism: usize,
    pub metrics: Arc<TaskMetrics>,
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
            idle: Duration::from_millis(9),
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
        assert_eq!(s.idle, Duration::from_millis(9));
    }

    #[test]
    fn details_are_stored_by_position_and_name() {
        let m = TaskMetrics::new(vec!["Map".into(), "Sink".into()], vec!["numLateRecordsDropped"]);
        m.store_details(
            [(10, 8), (8, 0)].into_iter(),
            &[("numLateRecordsDropped", 2), ("other", 1)],
            (0.25, 0.5),
        );
        let ops = m.operators();
        assert_eq!(
            (ops[0].name.as_str(), ops[0].records_in, ops[0].records_out),
            ("Map", 10, 8)
        );
        assert_eq!((ops[1].records_in, ops[1].records_out), (8, 0));
        assert_eq!(m.counter("numLateRecordsDropped"), 2);
        assert_eq!(m.counter("other"), 0);
        assert_eq!((m.in_pool_usage(), m.out_pool_usage()), (0.25, 0.5));
        assert_eq!(m.source_total(), None);
        m.set_source_total(Some(7));
        assert_eq!(m.source_total(), Some(7));
    }
}
