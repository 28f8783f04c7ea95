//! How a job checkpoints: interval, mode, timeouts, retention, where checkpoints go.

use std::path::PathBuf;
use std::time::Duration;

/// Flink's checkpointing modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointingMode {
    /// Aligned barriers: a task holds back the channels that delivered barrier n until every
    /// channel has, so the snapshot holds exactly the records before the barrier.
    ExactlyOnce,
    /// No alignment: records after a barrier may be in a snapshot too, so after a recovery some
    /// results may come twice, none are lost.
    AtLeastOnce,
}

/// What happens to a job's checkpoints when it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retention {
    /// Deleted when the job is cancelled or finishes; kept when it fails (so it can resume).
    DeleteOnCancellation,
    /// Always kept.
    RetainOnCancellation,
}

#[derive(Clone, Debug)]
pub struct CheckpointOptions {
    pub interval: Duration,
    pub mode: CheckpointingMode,
    /// A checkpoint not complete after this long is declared failed.
    pub timeout: Duration,
    /// The least time between the end of one checkpoint and the start of the next.
    pub min_pause: Duration,
    /// How many checkpoint failures in a row the job survives (more fail the job).
    pub tolerable_failures: u32,
    /// How many completed checkpoints are kept (at least 1).
    pub num_retained: usize,
    pub retention: Retention,
    /// Where the job's directory `<job-id>/` goes.
    pub directory: PathBuf,
    /// Whether `directory` is a temporary one of the job's own (no directory was configured):
    /// removed when the job ends, whatever `retention` says.
    pub temporary: bool,
}

impl CheckpointOptions {
    pub fn new(interval: Duration, directory: PathBuf) -> Self {
        CheckpointOptions {
            interval,
            mode: CheckpointingMode::ExactlyOnce,
            timeout: Duration::from_secs(600),
            min_pause: Duration::ZERO,
            tolerable_failures: 0,
            num_retained: 1,
            retention: Retention::DeleteOnCancellation,
            directory,
            temporary: false,
        }
    }
}
