//! Checkpointing as Python configures it: the plan `env._checkpoint_plan()` gives (read by
//! attribute name), turned into the engine's options, restart strategy and restore plan; and
//! finding the newest complete checkpoint under a directory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::checkpoint::coordinator::CheckpointHistory;
use crate::checkpoint::metadata::{find_damaged, find_latest, CheckpointMetadata};
use crate::checkpoint::options::{CheckpointOptions, CheckpointingMode, Retention};
use crate::checkpoint::restart::RestartStrategy;
use crate::checkpoint::restore::RestorePlan;

/// `RestartPlan` of `python/ferroflow/datastream/_checkpoint_plan.py`.
#[derive(FromPyObject, Clone, Debug)]
pub struct RestartPlan {
    pub kind: String,
    pub attempts: u64,
    pub delay_ms: u64,
    pub max_delay_ms: u64,
    pub multiplier: f64,
    pub reset_threshold_ms: u64,
    pub jitter: f64,
    pub max_failures_per_interval: u64,
    pub failure_interval_ms: u64,
}

/// `CheckpointPlan` of `python/ferroflow/datastream/_checkpoint_plan.py`.
#[derive(FromPyObject, Clone, Debug)]
pub struct CheckpointPlan {
    pub interval_ms: Option<u64>,
    pub mode: String,
    pub timeout_ms: u64,
    pub min_pause_ms: u64,
    pub tolerable_failures: u64,
    pub num_retained: u64,
    pub retention: String,
    pub directory: Option<String>,
    pub restore_path: Option<String>,
    pub ignore_unclaimed: bool,
    pub claim_mode: String,
    pub restart: RestartPlan,
}

fn clamp_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl RestartPlan {
    pub fn strategy(&self) -> PyResult<RestartStrategy> {
        let ms = Duration::from_millis;
        Ok(match self.kind.as_str() {
            "none" => RestartStrategy::None,
            "fixed_delay" => RestartStrategy::FixedDelay {
                attempts: clamp_u32(self.attempts),
                delay: ms(self.delay_ms),
            },
            "failure_rate" => RestartStrategy::FailureRate {
                max_failures: clamp_u32(self.max_failures_per_interval),
                interval: ms(self.failure_interval_ms),
                delay: ms(self.delay_ms),
            },
            "exponential_delay" => RestartStrategy::ExponentialDelay {
                initial: ms(self.delay_ms),
                max: ms(self.max_delay_ms),
                multiplier: self.multiplier,
                reset_threshold: ms(self.reset_threshold_ms),
                jitter: self.jitter,
                attempts: clamp_u32(self.attempts),
            },
            other => return Err(PyValueError::new_err(format!("unknown restart strategy '{other}'"))),
        })
    }
}

impl CheckpointPlan {
    /// The engine's options, when checkpointing is on. Without a configured directory the
    /// checkpoints go to a temporary directory that the job removes when it ends (they still
    /// serve restarts after a failure).
    pub fn options(&self) -> PyResult<Option<CheckpointOptions>> {
        let Some(interval) = self.interval_ms else {
            return Ok(None);
        };
        let (directory, temporary) = match &self.directory {
            Some(d) => (PathBuf::from(d), false),
            None => (std::env::temp_dir().join("ferroflow-checkpoints"), true),
        };
        let mut options = CheckpointOptions::new(Duration::from_millis(interval.max(1)), directory);
        options.temporary = temporary;
        options.mode = match self.mode.as_str() {
            "exactly_once" => CheckpointingMode::ExactlyOnce,
            "at_least_once" => CheckpointingMode::AtLeastOnce,
            other => return Err(PyValueError::new_err(format!("unknown checkpointing mode '{other}'"))),
        };
        options.timeout = Duration::from_millis(self.timeout_ms.max(1));
        options.min_pause = Duration::from_millis(self.min_pause_ms);
        options.tolerable_failures = clamp_u32(self.tolerable_failures);
        options.num_retained = usize::try_from(self.num_retained.max(1)).unwrap_or(usize::MAX);
        options.retention = match self.retention.as_str() {
            "retain_on_cancellation" => Retention::RetainOnCancellation,
            "delete_on_cancellation" | "no_externalized_checkpoints" => Retention::DeleteOnCancellation,
            other => return Err(PyValueError::new_err(format!("unknown checkpoint retention '{other}'"))),
        };
        Ok(Some(options))
    }

    /// Whether the job takes over the checkpoint it restores from (`restore`), deleting it
    /// once its own first checkpoint completed: Flink's CLAIM mode. By default ferroflow
    /// claims checkpoints (so that a resumed job does not leave a stale one behind for the next
    /// "resume from the newest" to pick) and never savepoints, which are the user's.
    pub fn claims(&self, restore: &RestorePlan) -> PyResult<bool> {
        match self.claim_mode.as_str() {
            "claim" => Ok(true),
            "no_claim" => Ok(false),
            "default" => Ok(restore.metadata.kind == "checkpoint"),
            other => Err(PyValueError::new_err(format!("unknown claim mode '{other}'"))),
        }
    }

    /// The checkpoint the job starts from, when `execution.state-recovery.path` is set.
    pub fn restore(&self) -> PyResult<Option<RestorePlan>> {
        let Some(path) = &self.restore_path else {
            return Ok(None);
        };
        read_restore(Path::new(path), self.ignore_unclaimed).map(Some)
    }
}

/// The restore plan of the checkpoint at `path` (a checkpoint directory or its `_metadata`).
pub fn read_restore(path: &Path, ignore_unclaimed: bool) -> PyResult<RestorePlan> {
    let (directory, metadata) = CheckpointMetadata::read(path)
        .map_err(|e| PyValueError::new_err(format!("cannot restore from {}: {e}", path.display())))?;
    Ok(RestorePlan {
        directory,
        metadata,
        ignore_unclaimed,
    })
}

/// Makes `directory` and checks that files can be written there, so that a job whose
/// checkpoints could not be written fails when it starts.
pub fn check_writable(directory: &Path) -> PyResult<()> {
    let probe = directory.join(".ferroflow-write-check");
    std::fs::create_dir_all(directory)
        .and_then(|()| std::fs::write(&probe, b""))
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| {
            PyOSError::new_err(format!(
                "the checkpoint directory {} is not writable: {e} (execution.checkpointing.dir)",
                directory.display()
            ))
        })
}

/// A new job id: 32 hex digits, as Flink's.
pub fn new_job_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut a = std::collections::hash_map::RandomState::new().build_hasher();
    a.write_u128(nanos);
    a.write_u32(std::process::id());
    let mut b = std::collections::hash_map::RandomState::new().build_hasher();
    b.write_u64(a.finish());
    format!("{:016x}{:016x}", a.finish(), b.finish())
}

/// The completed checkpoints of a job as Python dicts (Flink's checkpoint statistics names
/// where it has them).
pub fn history_list<'py>(py: Python<'py>, history: &CheckpointHistory) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for c in &history.completed {
        let d = PyDict::new(py);
        d.set_item("id", c.id)?;
        d.set_item("trigger_timestamp", c.timestamp)?;
        d.set_item("end_to_end_duration_ms", c.duration.as_secs_f64() * 1000.0)?;
        d.set_item("state_size", c.bytes)?;
        d.set_item("checkpointed_size", c.new_bytes)?;
        d.set_item("alignment_duration_ms", c.alignment.as_secs_f64() * 1000.0)?;
        let path = if c.directory.as_os_str().is_empty() {
            None
        } else {
            Some(c.directory.to_string_lossy().into_owned())
        };
        d.set_item("external_path", path)?;
        list.append(d)?;
    }
    Ok(list)
}

/// The newest complete checkpoint at or under `directory` (a checkpoint directory, a job's
/// directory, or the checkpoint directory of many jobs), skipping incomplete or damaged ones;
/// None if there is none.
#[pyfunction]
pub fn latest_checkpoint(directory: PathBuf) -> Option<String> {
    let (best, _refused) = find_latest(&directory);
    best.map(|(dir, _)| dir.to_string_lossy().into_owned())
}

/// What is wrong with each complete checkpoint at or under `directory` that cannot be restored
/// from (incomplete ones, without `_metadata`, are left out).
#[pyfunction]
pub fn damaged_checkpoints(directory: PathBuf) -> Vec<String> {
    find_damaged(&directory).into_iter().map(|e| e.0).collect()
}

/// What is wrong with the checkpoint at `path`, or None when it can be restored from.
#[pyfunction]
pub fn check_checkpoint(path: PathBuf) -> Option<String> {
    CheckpointMetadata::read(&path).err().map(|e| e.0)
}
