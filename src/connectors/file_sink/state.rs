//! The file sink's state in checkpoints (operator state, see
//! [`crate::connectors::connector_state`]):
//!
//! - `file-sink-in-progress` (list state, split): one element per bucket with an open part
//!   file: `bucket:bytes path:bytes target:bytes length:u64 creation_time:i64`; the file was
//!   flushed and synced at `length` bytes (Flink's resumable in-progress file).
//! - `file-sink-pending` (list state, split): one element per closed part file not yet
//!   committed: `checkpoint:u64 path:bytes target:bytes length:u64`; `checkpoint` is the one that
//!   recorded it first: its completion commits the file.
//! - `file-sink-counter` (union list state): `counter:u64`, the next part number of a subtask;
//!   a restored subtask goes on from the largest.

use std::path::{Path, PathBuf};

use crate::connectors::connector_state::{
    decode_element, element_writer, elements, path_bytes, path_of_bytes, read_old_snapshots,
};
use crate::connectors::file_error::FileError;
use crate::connectors::file_sink::part_file::Pending;
use crate::state::codec::{DecodeError, Reader};
use crate::state::operator_state::{Distribution, OperatorStateSnapshot};

pub const IN_PROGRESS: &str = "file-sink-in-progress";
pub const PENDING: &str = "file-sink-pending";
pub const COUNTER: &str = "file-sink-counter";

/// An in-progress part file as a checkpoint records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InProgressState {
    pub bucket: String,
    pub path: PathBuf,
    pub target: PathBuf,
    pub length: u64,
    pub creation_time: i64,
}

/// What one subtask of a file sink keeps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SinkState {
    pub in_progress: Vec<InProgressState>,
    /// With the checkpoint that recorded each first.
    pub pending: Vec<(u64, Pending)>,
    pub counter: u64,
}

fn decode_in_progress(r: &mut Reader<'_>) -> Result<InProgressState, DecodeError> {
    Ok(InProgressState {
        bucket: r.str()?.to_string(),
        path: path_of_bytes(r.bytes()?)?,
        target: path_of_bytes(r.bytes()?)?,
        length: r.u64()?,
        creation_time: r.i64()?,
    })
}

fn decode_pending(r: &mut Reader<'_>) -> Result<(u64, Pending), DecodeError> {
    let checkpoint = r.u64()?;
    Ok((
        checkpoint,
        Pending {
            path: path_of_bytes(r.bytes()?)?,
            target: path_of_bytes(r.bytes()?)?,
            length: r.u64()?,
        },
    ))
}

fn decode_counter(r: &mut Reader<'_>) -> Result<u64, DecodeError> {
    r.u64()
}

/// A restored subtask's share, and the in-progress files every old subtask referenced (which
/// are not orphans).
pub struct Restored {
    pub mine: SinkState,
    pub referenced: Vec<PathBuf>,
}

impl SinkState {
    pub fn to_snapshot(&self) -> OperatorStateSnapshot {
        let in_progress = self
            .in_progress
            .iter()
            .map(|f| {
                let mut w = element_writer();
                w.bytes(f.bucket.as_bytes());
                w.bytes(&path_bytes(&f.path));
                w.bytes(&path_bytes(&f.target));
                w.u64(f.length);
                w.i64(f.creation_time);
                w.bytes
            })
            .collect();
        let pending = self
            .pending
            .iter()
            .map(|(checkpoint, p)| {
                let mut w = element_writer();
                w.u64(*checkpoint);
                w.bytes(&path_bytes(&p.path));
                w.bytes(&path_bytes(&p.target));
                w.u64(p.length);
                w.bytes
            })
            .collect();
        let mut counter = element_writer();
        counter.u64(self.counter);
        let mut snapshot = OperatorStateSnapshot::default();
        snapshot
            .states
            .insert(IN_PROGRESS.into(), (Distribution::Split, in_progress));
        snapshot.states.insert(PENDING.into(), (Distribution::Split, pending));
        snapshot
            .states
            .insert(COUNTER.into(), (Distribution::Union, vec![counter.bytes]));
        snapshot
    }

    /// Subtask `index` of `parallelism`'s share of what the old subtasks wrote into `dirs`.
    pub fn restore(dirs: &[PathBuf], index: usize, parallelism: usize) -> Result<Restored, FileError> {
        let olds = read_old_snapshots(dirs)?;
        let mut referenced = Vec::new();
        for (dir, old) in dirs.iter().zip(&olds) {
            for e in elements(old, IN_PROGRESS) {
                referenced.push(decode_element(dir, IN_PROGRESS, e, decode_in_progress)?.path);
            }
            for e in elements(old, PENDING) {
                referenced.push(decode_element(dir, PENDING, e, decode_pending)?.1.path);
            }
            for e in elements(old, COUNTER) {
                decode_element(dir, COUNTER, e, decode_counter)?;
            }
        }
        let first = dirs.first().map_or(Path::new(""), |d| d.as_path());
        let share = OperatorStateSnapshot::redistribute(&olds, index, parallelism)
            .map_err(|e| FileError::state(first, format!("the file sink's state cannot be restored: {e}")))?;
        let mut mine = SinkState::default();
        for e in elements(&share, IN_PROGRESS) {
            mine.in_progress
                .push(decode_element(first, IN_PROGRESS, e, decode_in_progress)?);
        }
        for e in elements(&share, PENDING) {
            mine.pending.push(decode_element(first, PENDING, e, decode_pending)?);
        }
        for e in elements(&share, COUNTER) {
            mine.counter = mine.counter.max(decode_element(first, COUNTER, e, decode_counter)?);
        }
        Ok(Restored { mine, referenced })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(subtask: usize, files: usize) -> SinkState {
        SinkState {
            in_progress: (0..files)
                .map(|i| InProgressState {
                    bucket: format!("b{i}"),
                    path: PathBuf::from(format!("/out/b{i}/.p-{subtask}-{i}.inprogress.t")),
                    target: PathBuf::from(format!("/out/b{i}/p-{subtask}-{i}")),
                    length: 10 + i as u64,
                    creation_time: -5,
                })
                .collect(),
            pending: (0..files)
                .map(|i| {
                    (
                        3 + i as u64,
                        Pending {
                            path: PathBuf::from(format!("/out/.q-{subtask}-{i}")),
                            target: PathBuf::from(format!("/out/q-{subtask}-{i}")),
                            length: i as u64,
                        },
                    )
                })
                .collect(),
            counter: 7 * (subtask as u64 + 1),
        }
    }

    fn write(states: &[SinkState], name: &str) -> crate::connectors::TestSnapshots {
        crate::connectors::write_test_snapshots(states.iter().map(SinkState::to_snapshot), name)
    }

    #[test]
    fn round_trip_and_redistribution_one_to_two_and_two_to_one() {
        let one = sample(0, 3);
        let dirs = write(std::slice::from_ref(&one), "sink-state-1");
        let back = SinkState::restore(&dirs, 0, 1).unwrap();
        assert_eq!(back.mine, one);
        assert_eq!(back.referenced.len(), 6);

        let halves: Vec<SinkState> = (0..2).map(|i| SinkState::restore(&dirs, i, 2).unwrap().mine).collect();
        let mut files: Vec<_> = halves.iter().flat_map(|h| h.in_progress.clone()).collect();
        files.sort_by(|a, b| a.bucket.cmp(&b.bucket));
        assert_eq!(files, one.in_progress, "each in-progress file goes to one subtask");
        let pending: usize = halves.iter().map(|h| h.pending.len()).sum();
        assert_eq!(pending, 3);
        assert!(halves.iter().all(|h| h.counter == 7));

        let two = [sample(0, 2), sample(1, 1)];
        let dirs = write(&two, "sink-state-2");
        let merged = SinkState::restore(&dirs, 0, 1).unwrap();
        assert_eq!(merged.mine.in_progress.len(), 3);
        assert_eq!(merged.mine.pending.len(), 3);
        assert_eq!(merged.mine.counter, 14, "the largest counter");
        assert_eq!(merged.referenced.len(), 6);
    }

    #[test]
    fn a_damaged_snapshot_is_named() {
        let dir = crate::connectors::test_dir("sink-state-bad");
        let mut snapshot = sample(0, 1).to_snapshot();
        snapshot.states.get_mut(PENDING).unwrap().1[0].truncate(5);
        snapshot.write_to(&dir).unwrap();
        let err = SinkState::restore(&[dir.to_path_buf()], 0, 1)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains(&dir.display().to_string()) && err.contains(PENDING),
            "{err}"
        );
    }
}
