//! The file source's state in checkpoints (operator state, see
//! [`crate::connectors::connector_state`]):
//!
//! - `file-source-splits` (list state, split over the subtasks of a restored job): one element
//!   per file this subtask was given and has not finished: `path:bytes offset:u64`, the byte
//!   offset after the last line emitted. A split lives in exactly one subtask's list.
//! - `file-source-taken` (union list state, every subtask gets all): `path:bytes` of every file
//!   some subtask was given (read, being read, or queued), so that a restored job, at any
//!   parallelism, neither reads a finished file again nor a file twice.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::connectors::connector_state::{
    decode_element, element_writer, elements, path_bytes, path_of_bytes, read_old_snapshots,
};
use crate::connectors::file_error::FileError;
use crate::state::codec::{DecodeError, Reader};
use crate::state::operator_state::{Distribution, OperatorStateSnapshot};

pub const SPLITS: &str = "file-source-splits";
pub const TAKEN: &str = "file-source-taken";

/// A file to read, from a byte offset on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub path: PathBuf,
    pub offset: u64,
}

/// What a subtask keeps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceState {
    pub splits: Vec<Split>,
    pub taken: BTreeSet<PathBuf>,
}

fn decode_split(r: &mut Reader<'_>) -> Result<Split, DecodeError> {
    let path = path_of_bytes(r.bytes()?)?;
    let offset = r.u64()?;
    Ok(Split { path, offset })
}

fn decode_path(r: &mut Reader<'_>) -> Result<PathBuf, DecodeError> {
    path_of_bytes(r.bytes()?)
}

impl SourceState {
    pub fn to_snapshot(&self) -> OperatorStateSnapshot {
        let splits = self
            .splits
            .iter()
            .map(|s| {
                let mut w = element_writer();
                w.bytes(&path_bytes(&s.path));
                w.u64(s.offset);
                w.bytes
            })
            .collect();
        let taken = self
            .taken
            .iter()
            .map(|p| {
                let mut w = element_writer();
                w.bytes(&path_bytes(p));
                w.bytes
            })
            .collect();
        let mut snapshot = OperatorStateSnapshot::default();
        snapshot.states.insert(SPLITS.into(), (Distribution::Split, splits));
        snapshot.states.insert(TAKEN.into(), (Distribution::Union, taken));
        snapshot
    }

    /// Subtask `index` of `parallelism`'s share of the state the old subtasks wrote into
    /// `dirs` (in subtask order).
    pub fn restore(dirs: &[PathBuf], index: usize, parallelism: usize) -> Result<SourceState, FileError> {
        let olds = read_old_snapshots(dirs)?;
        // Every element is checked first, so that an error names the snapshot it is in.
        for (dir, old) in dirs.iter().zip(&olds) {
            for e in elements(old, SPLITS) {
                decode_element(dir, SPLITS, e, decode_split)?;
            }
            for e in elements(old, TAKEN) {
                decode_element(dir, TAKEN, e, decode_path)?;
            }
        }
        let first = dirs.first().map_or(Path::new(""), |d| d.as_path());
        let mine = OperatorStateSnapshot::redistribute(&olds, index, parallelism)
            .map_err(|e| FileError::state(first, format!("the file source's state cannot be restored: {e}")))?;
        let mut state = SourceState::default();
        for e in elements(&mine, SPLITS) {
            state.splits.push(decode_element(first, SPLITS, e, decode_split)?);
        }
        for e in elements(&mine, TAKEN) {
            state.taken.insert(decode_element(first, TAKEN, e, decode_path)?);
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(splits: &[(&str, u64)], taken: &[&str]) -> SourceState {
        SourceState {
            splits: splits
                .iter()
                .map(|(p, o)| Split {
                    path: PathBuf::from(p),
                    offset: *o,
                })
                .collect(),
            taken: taken.iter().map(PathBuf::from).collect(),
        }
    }

    fn write(states: &[SourceState], name: &str) -> crate::connectors::TestSnapshots {
        crate::connectors::write_test_snapshots(states.iter().map(SourceState::to_snapshot), name)
    }

    #[test]
    fn state_round_trips_and_redistributes_one_to_two_and_back() {
        let one = state(
            &[("/in/a", 10), ("/in/b", 0), ("/in/c", 3)],
            &["/in/a", "/in/b", "/in/c", "/in/done"],
        );
        let dirs = write(std::slice::from_ref(&one), "source-state-1");
        assert_eq!(SourceState::restore(&dirs, 0, 1).unwrap(), one);

        let halves: Vec<SourceState> = (0..2).map(|i| SourceState::restore(&dirs, i, 2).unwrap()).collect();
        let mut splits: Vec<Split> = halves.iter().flat_map(|h| h.splits.clone()).collect();
        splits.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(splits, one.splits, "every split lives in exactly one subtask");
        assert!(halves.iter().all(|h| h.taken == one.taken && !h.splits.is_empty()));

        let dirs2 = write(&halves, "source-state-2");
        let back = SourceState::restore(&dirs2, 0, 1).unwrap();
        let mut splits = back.splits.clone();
        splits.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(splits, one.splits);
        assert_eq!(back.taken, one.taken);
    }

    #[test]
    fn damaged_elements_are_reported_with_their_snapshot() {
        let dir = crate::connectors::test_dir("source-state-bad");
        let mut snapshot = OperatorStateSnapshot::default();
        snapshot
            .states
            .insert(SPLITS.into(), (Distribution::Split, vec![vec![9, 1, 2]]));
        snapshot.write_to(&dir).unwrap();
        let err = SourceState::restore(&[dir.to_path_buf()], 0, 1)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&dir.display().to_string()) && err.contains("version 9"),
            "{err}"
        );
        snapshot
            .states
            .insert(SPLITS.into(), (Distribution::Split, vec![vec![1, 1, 2]]));
        snapshot.write_to(&dir).unwrap();
        let err = SourceState::restore(&[dir.to_path_buf()], 0, 1)
            .unwrap_err()
            .to_string();
        assert!(err.contains("truncated"), "{err}");
    }
}
