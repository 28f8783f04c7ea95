//! `FileSink` (row format): writes each record's encoded bytes into part files in buckets under
//! a base path, with Flink's part-file life cycle, so that readers only ever see finished files
//! with exactly-once content:
//!
//! - **in-progress** (hidden, being written) → rolled by the [`RollingPolicy`] → **pending**
//!   (closed) → **finished** (renamed to its visible name) when a checkpoint at or after the
//!   one that recorded it pending completes ([`Operator::notify_checkpoint_complete`]).
//! - At a checkpoint, each in-progress file is flushed, synced and recorded with its length;
//!   pending files are recorded with their finished names; so is the part counter (see
//!   [`state`]).
//! - On restore: the restored pending files are committed (idempotently), each restored
//!   in-progress file is cut back to its recorded length and written on, and in-progress
//!   files of this sink that no restored state references and that an earlier run wrote
//!   (after its last checkpoint) are deleted.
//! - At the end of the input everything is rolled to pending. With checkpointing, the job's
//!   final checkpoint commits it; without, the sink commits at once (`commit_on_finish`).
//! - `close()` never commits: after a failure the hidden files stay for the restore to settle.
//!
//! Records are encoded by a [`RowEncoder`] (Python's `str()` in the bindings).

pub mod bucket_assigner;
pub mod part_file;
pub mod rolling;
pub mod state;
pub mod time_zone;

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use crate::checkpoint::{SnapshotContext, SnapshotStats};
use crate::connectors::file_error::FileError;
use crate::runtime::operator::{Operator, OperatorError, OperatorResult, Output, TaskInfo};
use crate::runtime::record::{Data, Record};
use crate::time::clock::Clock;

pub use self::bucket_assigner::BucketAssigner;
use self::part_file::{commit, InProgressFile, PartNames, Pending};
pub use self::rolling::RollingPolicy;
use self::state::{InProgressState, SinkState};

/// How a file sink writes.
#[derive(Clone, Debug)]
pub struct FileSinkConfig {
    pub base_path: PathBuf,
    pub assigner: BucketAssigner,
    pub rolling: RollingPolicy,
    pub part_prefix: String,
    pub part_suffix: String,
    /// How often (ms) time-based rolling is checked.
    pub bucket_check_interval_ms: i64,
    /// Commit at the end of the input (when the job does not checkpoint: no checkpoint would).
    pub commit_on_finish: bool,
}

/// The encoded records of a batch: record `i` is `bytes[ends[i - 1]..ends[i]]`.
#[derive(Default, Debug)]
pub struct EncodedRows {
    pub bytes: Vec<u8>,
    pub ends: Vec<usize>,
}

impl EncodedRows {
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    /// Ends the row whose bytes were appended since the last one.
    pub fn end_row(&mut self) {
        self.ends.push(self.bytes.len());
    }
}

/// Turns records into the bytes a part file gets.
pub trait RowEncoder<V>: Send {
    /// Drains `batch`, appending one row per record to `rows`, in order.
    fn encode(&mut self, batch: &mut Vec<Record<V>>, rows: &mut EncodedRows) -> OperatorResult;
}

/// A bucket: a directory, and the part file written into it now.
struct Bucket {
    dir: PathBuf,
    in_progress: Option<InProgressFile>,
}

pub struct FileSink<V, E> {
    config: FileSinkConfig,
    encoder: E,
    names: PartNames,
    clock: Clock,
    counter: u64,
    buckets: BTreeMap<String, Bucket>,
    /// Closed since the last checkpoint.
    pending_now: Vec<Pending>,
    /// Closed before the checkpoint they are keyed by (which recorded them).
    pending_by_checkpoint: BTreeMap<u64, Vec<Pending>>,
    next_check: Option<i64>,
    rows: EncodedRows,
    committed: u64,
    _values: PhantomData<fn(V)>,
}

fn failure(e: FileError) -> OperatorError {
    OperatorError::new(e)
}

impl<V: Data, E: RowEncoder<V>> FileSink<V, E> {
    pub fn new(config: FileSinkConfig, encoder: E) -> Self {
        let names = PartNames::new(&config.part_prefix, &config.part_suffix, "", "", 0);
        FileSink {
            config,
            encoder,
            names,
            clock: Clock::System,
            counter: 0,
            buckets: BTreeMap::new(),
            pending_now: Vec::new(),
            pending_by_checkpoint: BTreeMap::new(),
            next_check: None,
            rows: EncodedRows::default(),
            committed: 0,
            _values: PhantomData,
        }
    }

    fn bucket_dir(&self, bucket: &str) -> PathBuf {
        if bucket.is_empty() {
            self.config.base_path.clone()
        } else {
            self.config.base_path.join(bucket)
        }
    }

    /// Closes the in-progress file of `bucket`, if any: it is pending.
    fn roll(&mut self, bucket: &str) -> Result<(), FileError> {
        if let Some(file) = self.buckets.get_mut(bucket).and_then(|b| b.in_progress.take()) {
            self.pending_now.push(file.close()?);
        }
        Ok(())
    }

    fn roll_all(&mut self) -> Result<(), FileError> {
        let ids: Vec<String> = self.buckets.keys().cloned().collect();
        for id in ids {
            self.roll(&id)?;
        }
        self.buckets.clear();
        Ok(())
    }

    fn write_rows(&mut self, bucket: String, now: i64) -> Result<(), FileError> {
        if !self.buckets.contains_key(&bucket) {
            let dir = self.bucket_dir(&bucket);
            self.buckets.insert(bucket.clone(), Bucket { dir, in_progress: None });
        }
        let mut start = 0;
        for i in 0..self.rows.ends.len() {
            let end = self.rows.ends[i];
            let roll = match self.buckets.get(&bucket).and_then(|b| b.in_progress.as_ref()) {
                Some(file) => self.config.rolling.should_roll_on_event(&file.info),
                None => true,
            };
            if roll {
                self.roll(&bucket)?;
                let counter = self.counter;
                self.counter += 1;
                let b = self.buckets.get_mut(&bucket).expect("the bucket was just added");
                b.in_progress = Some(InProgressFile::create(
                    b.dir.join(self.names.in_progress(counter)),
                    b.dir.join(self.names.finished(counter)),
                    now,
                )?);
            }
            if let Some(file) = self.buckets.get_mut(&bucket).and_then(|b| b.in_progress.as_mut()) {
                file.write(&self.rows.bytes[start..end], now)?;
            }
            start = end;
        }
        Ok(())
    }

    /// Commits the pending files of checkpoints up to `checkpoint_id`.
    fn commit_up_to(&mut self, checkpoint_id: u64) -> Result<(), FileError> {
        let later = match checkpoint_id.checked_add(1) {
            Some(next) => self.pending_by_checkpoint.split_off(&next),
            None => BTreeMap::new(),
        };
        let due = std::mem::replace(&mut self.pending_by_checkpoint, later);
        for pending in due.into_values().flatten() {
            commit(&pending)?;
            self.committed += 1;
        }
        Ok(())
    }

    /// Settles what the checkpoint being restored recorded (see the module's documentation).
    fn restore(&mut self, dirs: &[PathBuf], info: &TaskInfo, now: i64) -> Result<(), FileError> {
        let restored = SinkState::restore(dirs, info.subtask_index, info.parallelism)?;
        let mine = restored.mine;
        self.counter = self.counter.max(mine.counter);
        for (_, pending) in &mine.pending {
            commit(pending)?;
        }
        for f in mine.in_progress {
            let file = InProgressFile::resume(f.path, f.target, f.length, f.creation_time, now)?;
            match self.buckets.get_mut(&f.bucket) {
                // Two old subtasks wrote this bucket: one file goes on, the other is closed.
                Some(bucket) if bucket.in_progress.is_some() => self.pending_now.push(file.close()?),
                _ => {
                    let dir = self.bucket_dir(&f.bucket);
                    self.buckets.insert(
                        f.bucket,
                        Bucket {
                            dir,
                            in_progress: Some(file),
                        },
                    );
                }
            }
        }
        if info.subtask_index == 0 {
            let referenced: BTreeSet<PathBuf> = restored.referenced.into_iter().collect();
            self.delete_orphans(&self.config.base_path.clone(), &referenced)?;
        }
        Ok(())
    }

    /// Deletes this sink's in-progress files under `dir` that earlier runs wrote and that no
    /// restored state references.
    fn delete_orphans(&self, dir: &Path, referenced: &BTreeSet<PathBuf>) -> Result<(), FileError> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(FileError::io(dir, "list the directory")(e)),
        };
        for entry in entries {
            let entry = entry.map_err(FileError::io(dir, "list the directory"))?;
            let path = entry.path();
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            if is_dir {
                self.delete_orphans(&path, referenced)?;
                continue;
            }
            let name = entry.file_name();
            let Some(run) = name.to_str().and_then(|n| self.names.in_progress_run(n)) else {
                continue;
            };
            if run != self.names.run_uuid && !referenced.contains(&path) {
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(FileError::io(&path, "delete the orphaned in-progress file")(e))
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// The state a checkpoint records now: in-progress files flushed and synced (or rolled,
    /// as the policy says), files rolled since the last checkpoint recorded under
    /// `checkpoint_id`.
    fn prepare_snapshot(&mut self, checkpoint_id: u64) -> Result<SinkState, FileError> {
        let ids: Vec<String> = self.buckets.keys().cloned().collect();
        let mut in_progress = Vec::new();
        for id in ids {
            let roll = self.buckets[&id]
                .in_progress
                .as_ref()
                .is_some_and(|f| self.config.rolling.should_roll_on_checkpoint(&f.info));
            if roll {
                self.roll(&id)?;
                self.buckets.remove(&id);
            } else if let Some(file) = self.buckets.get_mut(&id).and_then(|b| b.in_progress.as_mut()) {
                let length = file.persist()?;
                in_progress.push(InProgressState {
                    bucket: id.clone(),
                    path: file.path.clone(),
                    target: file.target.clone(),
                    length,
                    creation_time: file.info.creation_time,
                });
            }
        }
        if !self.pending_now.is_empty() {
            let now = std::mem::take(&mut self.pending_now);
            self.pending_by_checkpoint.entry(checkpoint_id).or_default().extend(now);
        }
        Ok(SinkState {
            in_progress,
            pending: self
                .pending_by_checkpoint
                .iter()
                .flat_map(|(id, files)| files.iter().map(move |p| (*id, p.clone())))
                .collect(),
            counter: self.counter,
        })
    }
}

impl<V: Data, E: RowEncoder<V>> Operator<V> for FileSink<V, E> {
    fn open(&mut self, info: &TaskInfo) -> OperatorResult {
        self.clock = info.clock.clone();
        self.names = PartNames::new(
            &self.config.part_prefix,
            &self.config.part_suffix,
            &info.run_id,
            &info.operator_id,
            info.subtask_index,
        );
        let now = self.clock.now();
        if let Some(restore) = &info.restore {
            self.restore(&restore.directories, info, now).map_err(failure)?;
        }
        if self.config.rolling.rolls_on_time() {
            self.next_check = Some(now.saturating_add(self.config.bucket_check_interval_ms.max(1)));
        }
        Ok(())
    }

    fn process_batch(&mut self, _input: usize, batch: &mut Vec<Record<V>>, _out: &mut Output<V>) -> OperatorResult {
        self.rows.clear();
        self.encoder.encode(batch, &mut self.rows)?;
        if self.rows.ends.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        let bucket = self.config.assigner.bucket_id(now);
        self.write_rows(bucket, now).map_err(failure)
    }

    fn next_processing_time(&self) -> Option<i64> {
        self.next_check
    }

    fn on_processing_time(&mut self, now: i64, _out: &mut Output<V>) -> OperatorResult {
        let Some(due) = self.next_check else { return Ok(()) };
        if now < due {
            return Ok(());
        }
        let ids: Vec<String> = self.buckets.keys().cloned().collect();
        for id in ids {
            let roll = self.buckets[&id]
                .in_progress
                .as_ref()
                .is_none_or(|f| self.config.rolling.should_roll_on_processing_time(&f.info, now));
            if roll {
                self.roll(&id).map_err(failure)?;
                self.buckets.remove(&id);
            }
        }
        self.next_check = Some(now.saturating_add(self.config.bucket_check_interval_ms.max(1)));
        Ok(())
    }

    fn snapshot_state(&mut self, ctx: &SnapshotContext<'_>) -> OperatorResult<SnapshotStats> {
        let state = self.prepare_snapshot(ctx.checkpoint_id).map_err(failure)?;
        let bytes = state
            .to_snapshot()
            .write_to(ctx.directory)
            .map_err(OperatorError::new)?;
        Ok(SnapshotStats::full(bytes))
    }

    fn notify_checkpoint_complete(&mut self, checkpoint_id: u64) -> OperatorResult {
        self.commit_up_to(checkpoint_id).map_err(failure)
    }

    fn finish(&mut self, _out: &mut Output<V>) -> OperatorResult {
        self.roll_all().map_err(failure)?;
        if self.config.commit_on_finish {
            let pending = std::mem::take(&mut self.pending_now);
            self.pending_by_checkpoint.entry(u64::MAX).or_default().extend(pending);
            self.commit_up_to(u64::MAX).map_err(failure)?;
        }
        Ok(())
    }

    fn metrics(&self) -> Vec<(&'static str, u64)> {
        vec![("numPartFilesCommitted", self.committed)]
    }

    fn close(&mut self) -> OperatorResult {
        // Never commits: after a failure, the files stay hidden for a restore to settle.
        for bucket in self.buckets.values_mut() {
            if let Some(mut file) = bucket.in_progress.take() {
                let _ = file.persist();
            }
        }
        self.buckets.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests;
