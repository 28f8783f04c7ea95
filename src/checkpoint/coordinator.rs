//! The checkpoint coordinator: triggers checkpoint n at the source tasks, collects every task's
//! acknowledgement, writes the checkpoint's metadata (which makes it complete), and only then
//! tells every task that n completed. It also takes the final checkpoint once every task's
//! input has ended, after which the tasks may finish (Flink's checkpoints after tasks finish),
//! so that two-phase-commit sinks commit everything a bounded job wrote.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::metadata::{chk_number, remove_checkpoints_where, sync_directory, CheckpointMetadata, OperatorEntry};
use super::options::{CheckpointOptions, CheckpointingMode};
use super::savepoint::{materialize, SavepointRequest};
use super::{subtask_directory, SnapshotStats};
use crate::runtime::lock::lock;

/// What the coordinator tells a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// (Source tasks) take checkpoint n now and send its barrier on.
    Trigger(u64),
    /// Checkpoint n is complete.
    Complete(u64),
    /// The final checkpoint completed: the task may end.
    Finish,
    /// A savepoint that stops the job completed (its `Complete` came first): the task ends now,
    /// without ending its input (nothing more is emitted or committed).
    Stop,
}

/// What a task tells the coordinator.
#[derive(Debug)]
pub enum Report {
    /// The task snapshotted checkpoint `checkpoint_id`.
    Ack {
        task: usize,
        checkpoint_id: u64,
        stats: SnapshotStats,
        /// How long the task's input was held back for barrier alignment.
        alignment: Duration,
    },
    /// The task could not snapshot checkpoint `checkpoint_id`.
    Declined {
        task: usize,
        checkpoint_id: u64,
        reason: String,
    },
    /// Every input of the task ended and its operators finished.
    Drained { task: usize },
}

/// Checkpoints in progress, for the tasks: when each was triggered and where it goes.
#[derive(Debug, Default)]
pub struct CheckpointRegistry {
    in_progress: Mutex<HashMap<u64, (i64, PathBuf)>>,
}

impl CheckpointRegistry {
    /// `(timestamp, directory)` of checkpoint `id`, while it is in progress.
    pub fn get(&self, id: u64) -> Option<(i64, PathBuf)> {
        lock(&self.in_progress).get(&id).cloned()
    }

    fn insert(&self, id: u64, timestamp: i64, directory: PathBuf) {
        lock(&self.in_progress).insert(id, (timestamp, directory));
    }

    fn remove(&self, id: u64) {
        lock(&self.in_progress).remove(&id);
    }
}

/// A task's end of the control channel.
pub struct TaskControl {
    pub task: usize,
    pub commands: Receiver<Command>,
    pub reports: Sender<Report>,
    pub registry: Arc<CheckpointRegistry>,
    pub mode: CheckpointingMode,
}

/// One completed checkpoint, for statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct CompletedCheckpoint {
    pub id: u64,
    pub directory: PathBuf,
    pub timestamp: i64,
    pub duration: Duration,
    pub bytes: u64,
    pub new_bytes: u64,
    /// The longest any task's input was held back for alignment.
    pub alignment: Duration,
}

/// What the checkpoints of a job (over all its restarts) did: read by the job's owner while it
/// runs and after.
#[derive(Debug, Default)]
pub struct CheckpointHistory {
    pub completed: Vec<CompletedCheckpoint>,
    pub failed: u64,
    /// The id the next checkpoint takes (ids go on across restarts and restores).
    pub next_id: u64,
    /// Why the last failed checkpoint failed.
    pub last_failure: Option<String>,
    /// A checkpoint the job restored from and took over (Flink's CLAIM mode): deleted once the
    /// job's own first checkpoint completed.
    pub claimed: Option<PathBuf>,
}

impl CheckpointHistory {
    pub fn latest(&self) -> Option<&CompletedCheckpoint> {
        self.completed.last()
    }
}

/// The operators a checkpoint describes: id → (name, parallelism).
pub type OperatorList = BTreeMap<String, (String, usize, usize)>;

struct Pending {
    id: u64,
    started: Instant,
    timestamp: i64,
    directory: PathBuf,
    acked: HashSet<usize>,
    stats: SnapshotStats,
    alignment: Duration,
    is_final: bool,
    /// The savepoint this checkpoint is taken for.
    savepoint: Option<SavepointRequest>,
}

pub struct Coordinator {
    pub options: CheckpointOptions,
    pub job_id: String,
    pub job_name: String,
    pub max_parallelism: usize,
    pub operators: OperatorList,
    /// One per task, in task order.
    pub commands: Vec<Sender<Command>>,
    /// The tasks that read a source.
    pub source_tasks: Vec<usize>,
    pub reports: Receiver<Report>,
    pub registry: Arc<CheckpointRegistry>,
    pub history: Arc<Mutex<CheckpointHistory>>,
    /// Savepoints asked for while the job runs (shared by every run of the job).
    pub savepoints: Option<Receiver<SavepointRequest>>,
    /// Set once a stopping savepoint completed, before it is answered, so that the job counts
    /// nothing that stopping causes as a failure.
    pub stopped_with_savepoint: Arc<AtomicBool>,
}

/// How the coordinator ended.
#[derive(Debug, PartialEq, Eq)]
pub enum CoordinatorEnd {
    /// The final checkpoint completed and the tasks were told to finish.
    Finished,
    /// The job was cancelled or failed elsewhere.
    Stopped,
    /// Too many checkpoints failed in a row: the job must fail, for this reason.
    Failed(String),
    /// A savepoint that stops the job completed: the tasks must stop now.
    StoppedWithSavepoint,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Coordinator {
    /// The directory of the job's checkpoints.
    pub fn job_directory(options: &CheckpointOptions, job_id: &str) -> PathBuf {
        options.directory.join(job_id)
    }

    /// Runs until the final checkpoint completed, the job stopped (`stopped`), or checkpoints
    /// failed too often.
    pub fn run(self, stopped: &AtomicBool) -> CoordinatorEnd {
        self.run_until(|| stopped.load(Ordering::SeqCst))
    }

    /// As [`Coordinator::run`], stopping when `stopped()` says so.
    pub fn run_until(self, stopped: impl Fn() -> bool) -> CoordinatorEnd {
        let mut state = Run {
            pending: None,
            drained: HashSet::new(),
            next_trigger: Instant::now() + self.options.interval,
            consecutive_failures: 0,
        };
        let tasks = self.commands.len();
        loop {
            if stopped() {
                if let Some(p) = state.pending.take() {
                    self.discard(p, "the job stopped before the savepoint completed");
                }
                return CoordinatorEnd::Stopped;
            }
            let now = Instant::now();
            // Expire a checkpoint that took too long.
            if let Some(p) = &state.pending {
                if now.duration_since(p.started) >= self.options.timeout {
                    let reason = format!(
                        "checkpoint {} expired before completing (timeout {} ms)",
                        p.id,
                        self.options.timeout.as_millis()
                    );
                    if let Some(end) = self.fail(&mut state, reason) {
                        return end;
                    }
                }
            }
            let all_drained = state.drained.len() == tasks;
            if state.pending.is_none() {
                let savepoint = self.savepoints.as_ref().and_then(|r| r.try_recv().ok());
                if savepoint.is_some() || all_drained || now >= state.next_trigger {
                    self.trigger(&mut state, all_drained, savepoint);
                }
            }
            let wake = match &state.pending {
                Some(p) => p.started + self.options.timeout,
                None => state.next_trigger,
            };
            let wait = wake
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(50));
            match self.reports.recv_timeout(wait) {
                Ok(Report::Drained { task }) => {
                    state.drained.insert(task);
                }
                Ok(Report::Ack {
                    task,
                    checkpoint_id,
                    stats,
                    alignment,
                }) => {
                    let Some(p) = state.pending.as_mut().filter(|p| p.id == checkpoint_id) else {
                        continue; // an expired or failed checkpoint
                    };
                    if p.acked.insert(task) {
                        p.stats.add(stats);
                        p.alignment = p.alignment.max(alignment);
                    }
                    if p.acked.len() == tasks {
                        let mut p = state.pending.take().expect("checked above");
                        match self.complete(&p) {
                            Ok(()) => {
                                if let Some(request) = p.savepoint.take() {
                                    let result = materialize(&p.directory, &request.target, &self.job_id);
                                    if request.stop && result.is_ok() {
                                        // `Complete` went first: every task commits, then stops.
                                        self.stopped_with_savepoint.store(true, Ordering::SeqCst);
                                        for c in &self.commands {
                                            let _ = c.send(Command::Stop);
                                        }
                                        request.answer(result);
                                        return CoordinatorEnd::StoppedWithSavepoint;
                                    }
                                    request.answer(result);
                                }
                                state.consecutive_failures = 0;
                                state.next_trigger = Instant::now()
                                    + self
                                        .options
                                        .min_pause
                                        .max(self.options.interval.saturating_sub(p.started.elapsed()));
                                if p.is_final {
                                    for c in &self.commands {
                                        let _ = c.send(Command::Finish);
                                    }
                                    return CoordinatorEnd::Finished;
                                }
                            }
                            Err(reason) => {
                                state.pending = Some(p);
                                if let Some(end) = self.fail(&mut state, reason) {
                                    return end;
                                }
                            }
                        }
                    }
                }
                Ok(Report::Declined {
                    checkpoint_id, reason, ..
                }) => {
                    if state.pending.as_ref().is_some_and(|p| p.id == checkpoint_id) {
                        if let Some(end) =
                            self.fail(&mut state, format!("checkpoint {checkpoint_id} was declined: {reason}"))
                        {
                            return end;
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return CoordinatorEnd::Stopped,
            }
        }
    }

    fn trigger(&self, state: &mut Run, is_final: bool, savepoint: Option<SavepointRequest>) {
        let id = {
            let mut h = lock(&self.history);
            h.next_id = h.next_id.max(1);
            let id = h.next_id;
            h.next_id += 1;
            id
        };
        let directory = Self::job_directory(&self.options, &self.job_id).join(format!("chk-{id}"));
        let timestamp = now_ms();
        if let Err(e) = std::fs::create_dir_all(&directory) {
            let mut h = lock(&self.history);
            h.failed += 1;
            h.last_failure = Some(format!(
                "cannot make the checkpoint directory {}: {e}",
                directory.display()
            ));
            state.consecutive_failures += 1;
            state.next_trigger = Instant::now() + self.options.interval;
            if let Some(request) = savepoint {
                request.answer(Err(format!(
                    "cannot make the checkpoint directory {}: {e}",
                    directory.display()
                )));
            }
            return;
        }
        self.registry.insert(id, timestamp, directory.clone());
        for &t in &self.source_tasks {
            let _ = self.commands[t].send(Command::Trigger(id));
        }
        state.pending = Some(Pending {
            id,
            started: Instant::now(),
            timestamp,
            directory,
            acked: HashSet::new(),
            stats: SnapshotStats::default(),
            alignment: Duration::ZERO,
            is_final,
            savepoint,
        });
    }

    /// Makes checkpoint `p` complete: metadata written and durable, then every task told.
    fn complete(&self, p: &Pending) -> Result<(), String> {
        let mut operators = BTreeMap::new();
        for (id, (name, parallelism, max_parallelism)) in &self.operators {
            let has_state = (0..*parallelism).any(|s| has_files(&subtask_directory(&p.directory, id, s)));
            operators.insert(
                id.clone(),
                OperatorEntry {
                    name: name.clone(),
                    parallelism: *parallelism,
                    max_parallelism: Some(*max_parallelism),
                    has_state,
                },
            );
        }
        let meta = CheckpointMetadata::new(
            &self.job_id,
            &self.job_name,
            p.id,
            p.timestamp,
            "checkpoint",
            self.max_parallelism,
            operators,
            p.stats.bytes,
            p.stats.new_bytes,
        );
        meta.write_to(&p.directory).map_err(|e| {
            format!(
                "checkpoint {}: cannot write its metadata in {}: {e}",
                p.id,
                p.directory.display()
            )
        })?;
        self.registry.remove(p.id);
        for c in &self.commands {
            let _ = c.send(Command::Complete(p.id));
        }
        let mut h = lock(&self.history);
        if let Some(claimed) = h.claimed.take() {
            remove_claimed(&claimed);
        }
        h.completed.push(CompletedCheckpoint {
            id: p.id,
            directory: p.directory.clone(),
            timestamp: p.timestamp,
            duration: p.started.elapsed(),
            bytes: p.stats.bytes,
            new_bytes: p.stats.new_bytes,
            alignment: p.alignment,
        });
        // Keep the newest `num_retained`; older ones go (files they share with a retained one
        // are hard links, so the retained one keeps them).
        let retained = self.options.num_retained.max(1);
        let mut kept = 0;
        for c in h.completed.iter().rev() {
            if c.directory.starts_with(&self.options.directory) {
                kept += 1;
                if kept > retained {
                    let _ = std::fs::remove_dir_all(&c.directory);
                }
            }
        }
        let excess = h.completed.len().saturating_sub(retained);
        // Statistics of removed checkpoints are kept, their directories are not retained.
        for c in h.completed.iter_mut().take(excess) {
            c.directory = PathBuf::new();
        }
        Ok(())
    }

    /// Checkpoint in progress failed: count it, and end the job when too many failed in a row.
    fn fail(&self, state: &mut Run, reason: String) -> Option<CoordinatorEnd> {
        let is_final = state.pending.as_ref().is_some_and(|p| p.is_final);
        if let Some(p) = state.pending.take() {
            self.discard(p, &reason);
        }
        {
            let mut h = lock(&self.history);
            h.failed += 1;
            h.last_failure = Some(reason.clone());
        }
        state.consecutive_failures += 1;
        state.next_trigger = Instant::now() + self.options.min_pause;
        if !is_final {
            state.next_trigger = state.next_trigger.max(Instant::now() + self.options.interval);
        }
        if state.consecutive_failures > self.options.tolerable_failures {
            return Some(CoordinatorEnd::Failed(format!(
                "{reason} (checkpoints failed {} times in a row; {} tolerated, \
                 execution.checkpointing.tolerable-failed-checkpoints)",
                state.consecutive_failures, self.options.tolerable_failures
            )));
        }
        None
    }

    /// Drops checkpoint `p` in progress; a savepoint it was for fails with `reason`.
    fn discard(&self, p: Pending, reason: &str) {
        if let Some(request) = p.savepoint {
            request.answer(Err(format!("savepoint (checkpoint {}) failed: {reason}", p.id)));
        }
        self.registry.remove(p.id);
        let _ = std::fs::remove_dir_all(&p.directory);
        if let Some(parent) = p.directory.parent() {
            sync_directory(parent);
        }
    }
}

struct Run {
    pending: Option<Pending>,
    drained: HashSet<usize>,
    next_trigger: Instant,
    consecutive_failures: u32,
}

/// Deletes a claimed checkpoint. A claimed `chk-<n>` takes with it its job's older checkpoints
/// and the ones that job left incomplete (what resuming from it made obsolete; newer complete
/// ones stay), then the job's directory once nothing else is in it.
fn remove_claimed(checkpoint: &Path) {
    let _ = std::fs::remove_dir_all(checkpoint);
    let Some(claimed) = chk_number(checkpoint) else {
        return;
    };
    let Some(job) = checkpoint.parent() else {
        return;
    };
    remove_checkpoints_where(job, |n, complete| n < claimed || !complete);
    // Fails (and keeps it) unless it is empty.
    let _ = std::fs::remove_dir(job);
}

fn has_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claimed_checkpoint_takes_older_and_incomplete_ones_along_but_not_newer_ones() {
        let root = crate::checkpoint::test_directory("claimed");
        let job = root.join("job");
        for n in 1..=4 {
            let chk = job.join(format!("chk-{n}"));
            std::fs::create_dir_all(&chk).unwrap();
            if n != 3 {
                std::fs::write(chk.join(super::super::metadata::METADATA_FILE), b"{}").unwrap();
            }
        }
        remove_claimed(&job.join("chk-2"));
        let left: Vec<_> = std::fs::read_dir(&job)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, vec!["chk-4".to_string()]);
        remove_claimed(&job.join("chk-4"));
        assert!(!job.exists(), "the dead job's directory goes with its last checkpoint");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
