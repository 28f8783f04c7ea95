//! The contract between the runtime and an operator (a map, a keyed reduce, a sink, ...).

use std::error::Error as StdError;
use std::fmt;

use std::sync::Arc;

use crate::checkpoint::{SharedRestore, SnapshotContext, SnapshotStats};
use crate::metrics::user::UserMetrics;
use crate::runtime::record::{Data, Record};
use crate::time::clock::Clock;

/// Who a running operator instance is.
#[derive(Clone, Debug)]
pub struct TaskInfo {
    /// Processing time, as this job sees it.
    pub clock: Clock,
    pub job_name: String,
    /// The operator's name (`ds.name(...)`), or its default name.
    pub operator_name: String,
    /// The name of the task (the chain) the operator runs in.
    pub task_name: String,
    pub subtask_index: usize,
    pub parallelism: usize,
    pub max_parallelism: usize,
    pub attempt_number: usize,
    /// The operator's stable id (its uid, or one derived from its place in the plan): its
    /// state in checkpoints is named by it.
    pub operator_id: String,
    /// The operator's state in the checkpoint the job restores from, if it has any there.
    pub restore: Option<SharedRestore>,
    /// Unique to this run of the job (a restart after a failure is another run), e.g. for
    /// names of files a run writes.
    pub run_id: String,
    /// About how many bytes of records a batch holds at most (the job's
    /// [`FlushPolicy::batch_bytes`](crate::runtime::output::FlushPolicy)): a source reading
    /// large records hands them on in smaller batches.
    pub batch_bytes: usize,
    /// Where the metrics that user functions define are registered (one registry per run).
    pub user_metrics: Arc<UserMetrics>,
}

/// Progress an operator reports downstream, between its records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Event time reached this value.
    Watermark(i64),
    /// The output became idle (true) or active again (false).
    Idle(bool),
}

/// Where an operator puts what it emits: records for its main output, records for its side
/// outputs (port 1, 2, ... as numbered when the graph was built), and progress (watermarks),
/// each after the main records emitted before it. Emitting never blocks and never sends on a
/// channel: the task routes the output after the operator returns.
pub struct Output<V> {
    pub main: Vec<Record<V>>,
    pub side: Vec<(u32, Record<V>)>,
    /// `(n, progress)`: `progress` comes after the first `n` records of `main`.
    pub progress: Vec<(usize, Progress)>,
}

impl<V> Default for Output<V> {
    fn default() -> Self {
        Output {
            main: Vec::new(),
            side: Vec::new(),
            progress: Vec::new(),
        }
    }
}

impl<V> Output<V> {
    pub fn emit(&mut self, record: Record<V>) {
        self.main.push(record);
    }

    pub fn emit_side(&mut self, port: u32, record: Record<V>) {
        self.side.push((port, record));
    }

    /// Emits a watermark after the records emitted so far.
    pub fn emit_watermark(&mut self, watermark: i64) {
        self.progress.push((self.main.len(), Progress::Watermark(watermark)));
    }

    /// Marks the output idle (or active again) after the records emitted so far.
    pub fn emit_idle(&mut self, idle: bool) {
        self.progress.push((self.main.len(), Progress::Idle(idle)));
    }
}

/// An error raised by an operator: usually an exception from a user function, kept as it is so
/// that the caller of `execute()` gets it back unchanged.
#[derive(Debug)]
pub struct OperatorError {
    pub cause: Box<dyn StdError + Send + Sync>,
    /// The position, within the batch being processed, of the record that failed.
    pub record_in_batch: Option<usize>,
    /// For an operator that absorbed others (see [`Operator::absorb`]): the name of the one
    /// that failed.
    pub operator_name: Option<String>,
}

impl OperatorError {
    pub fn new(cause: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        OperatorError {
            cause: cause.into(),
            record_in_batch: None,
            operator_name: None,
        }
    }

    pub fn at_record(cause: impl Into<Box<dyn StdError + Send + Sync>>, index: usize) -> Self {
        OperatorError {
            cause: cause.into(),
            record_in_batch: Some(index),
            operator_name: None,
        }
    }
}

impl fmt::Display for OperatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.cause)
    }
}

pub type OperatorResult<T = ()> = Result<T, OperatorError>;

/// What an operator had pending when its bounded input ended, which never fires: processing-time
/// windows (`windows`, by key and window) and other processing-time timers (`timers`). The job
/// reports them so that their results are not missing without a word.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DroppedAtEnd {
    pub windows: u64,
    pub timers: u64,
}

impl DroppedAtEnd {
    pub fn is_empty(&self) -> bool {
        self.windows == 0 && self.timers == 0
    }
}

/// An operator instance: one per parallel subtask. Every method is called inside
/// [`Data::scope`], one batch at a time.
pub trait Operator<V: Data>: Send {
    /// Called once before the first record.
    fn open(&mut self, _info: &TaskInfo) -> OperatorResult {
        Ok(())
    }

    /// Processes a batch of records that arrived on logical input `input` (0, or 1 for the
    /// second input of a two-input operator). The operator drains `batch`.
    fn process_batch(&mut self, input: usize, batch: &mut Vec<Record<V>>, out: &mut Output<V>) -> OperatorResult;

    /// Event time advanced to `watermark`. Returns the watermark to forward downstream, if any
    /// (an operator that generates its own watermarks swallows upstream ones).
    fn on_watermark(&mut self, watermark: i64, _out: &mut Output<V>) -> OperatorResult<Option<i64>> {
        Ok(Some(watermark))
    }

    /// The processing time (ms) at which this operator next wants [`Operator::on_processing_time`].
    fn next_processing_time(&self) -> Option<i64> {
        None
    }

    /// Processing time reached `now`: fire what is due (processing-time timers, periodic
    /// watermarks).
    fn on_processing_time(&mut self, _now: i64, _out: &mut Output<V>) -> OperatorResult {
        Ok(())
    }

    /// What was still pending when the operator's bounded input ended and so never fired
    /// (processing-time windows and timers; Flink's STREAMING mode does not fire them either).
    fn dropped_at_end(&self) -> DroppedAtEnd {
        DroppedAtEnd::default()
    }

    /// Counters for the job's metrics, e.g. `("numLateRecordsDropped", 3)`.
    fn metrics(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }

    /// Checkpoint `ctx.checkpoint_id` is taken at this point between records: write everything
    /// the operator keeps (keyed state, timers, buffers, positions) into `ctx.directory`, so
    /// that an instance made with [`TaskInfo::restore`] pointing there continues from here.
    fn snapshot_state(&mut self, _ctx: &SnapshotContext<'_>) -> OperatorResult<SnapshotStats> {
        Ok(SnapshotStats::default())
    }

    /// Checkpoint `checkpoint_id` completed: its metadata is durable. Sinks that make output
    /// visible only for completed checkpoints (two-phase commit) commit here, everything up to
    /// `checkpoint_id` (notifications of earlier checkpoints may have been skipped).
    fn notify_checkpoint_complete(&mut self, _checkpoint_id: u64) -> OperatorResult {
        Ok(())
    }

    /// Every input has ended (after the final watermark). Last chance to emit.
    fn finish(&mut self, _out: &mut Output<V>) -> OperatorResult {
        Ok(())
    }

    /// Called once at the end, also when the job failed or was cancelled.
    fn close(&mut self) -> OperatorResult {
        Ok(())
    }

    /// Offers the next operator of the chain to be merged into this one, before either is
    /// opened. Returns whether it was: then `next` gave its parts away (see
    /// [`Operator::fusion_parts`]) and is dropped. Python operators use this to run several
    /// functions in one loop over a batch.
    fn absorb(&mut self, _next: &mut dyn Operator<V>) -> bool {
        false
    }

    /// Gives this operator's parts to an operator absorbing it, if it can be absorbed.
    fn fusion_parts(&mut self) -> Option<Box<dyn std::any::Any + Send>> {
        None
    }
}

/// Whether a source has more to give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceStatus {
    More,
    /// More may come, but not soon (the source is slow): what was emitted is sent on now
    /// rather than when the buffer timeout passes.
    MoreLater,
    /// Nothing available now (an unbounded source waiting for data, or fed by hand).
    Idle,
    Exhausted,
}

/// A source instance: one per parallel subtask. Called inside [`Data::scope`].
pub trait Source<V: Data>: Send {
    fn open(&mut self, _info: &TaskInfo) -> OperatorResult {
        Ok(())
    }

    /// Emits up to `max` records into `out` (and, if the source knows event time, watermarks
    /// between them). A source that would wait for data should stop early once `deadline` has
    /// passed, so that what it has is sent on.
    fn poll_batch(
        &mut self,
        max: usize,
        deadline: std::time::Instant,
        out: &mut Output<V>,
    ) -> OperatorResult<SourceStatus>;

    /// Writes the source's position into `ctx.directory` (see [`Operator::snapshot_state`]): a
    /// source made with [`TaskInfo::restore`] pointing there emits what follows it.
    fn snapshot_state(&mut self, _ctx: &SnapshotContext<'_>) -> OperatorResult<SnapshotStats> {
        Ok(SnapshotStats::default())
    }

    fn notify_checkpoint_complete(&mut self, _checkpoint_id: u64) -> OperatorResult {
        Ok(())
    }

    /// How many records this subtask will emit, from where it starts (after a restore: what is
    /// left), when it is bounded and knows; for progress bars. Called after `open`.
    fn records_total(&self) -> Option<u64> {
        None
    }

    fn close(&mut self) -> OperatorResult {
        Ok(())
    }
}
