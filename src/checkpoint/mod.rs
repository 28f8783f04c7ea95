//! Checkpoints: what an operator is given to snapshot into and to restore from, the layout of a
//! checkpoint on disk, its metadata, the coordinator that triggers checkpoints and completes
//! them, and restart strategies.
//!
//! A checkpoint is a directory `<dir>/<job-id>/chk-<n>/`: one directory per operator (named by
//! its id) and subtask, `<operator-id>/<subtask>/`, into which that operator instance writes what
//! it keeps, and a `_metadata` file written last and renamed into place, so a half-written
//! checkpoint is never taken for a complete one.

pub mod coordinator;
pub mod metadata;
pub mod options;
pub mod positions;
pub mod restart;
pub mod restore;
pub mod savepoint;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The id with which a job that does not checkpoint notifies its operators, once their input
/// ended and they finished, that what they staged is final: as if a last checkpoint completed
/// (Flink's sinks commit with the same marker at the end of a bounded input). Two-phase-commit
/// sinks need no other path for jobs without checkpoints.
pub const END_OF_INPUT: u64 = u64::MAX;

/// An empty directory for one test, under the system's temporary directory.
#[cfg(test)]
pub(crate) fn test_directory(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ff-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// What an operator instance snapshots into, at checkpoint `checkpoint_id`.
#[derive(Debug)]
pub struct SnapshotContext<'a> {
    pub checkpoint_id: u64,
    /// When the checkpoint was triggered (ms since the epoch).
    pub timestamp: i64,
    /// The instance's own directory in the checkpoint (it exists, and is empty).
    pub directory: &'a Path,
    /// The checkpoint's directory (`chk-<n>`), for an operator that absorbed others and writes
    /// their state too (see [`subtask_directory`]).
    pub checkpoint_directory: &'a Path,
}

/// What a snapshot wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SnapshotStats {
    /// Bytes the snapshot holds.
    pub bytes: u64,
    /// Bytes it added to what earlier checkpoints already hold (equal to `bytes` unless the
    /// snapshot is incremental).
    pub new_bytes: u64,
}

impl SnapshotStats {
    pub fn full(bytes: u64) -> Self {
        SnapshotStats {
            bytes,
            new_bytes: bytes,
        }
    }

    pub fn add(&mut self, other: SnapshotStats) {
        self.bytes += other.bytes;
        self.new_bytes += other.new_bytes;
    }
}

/// The state an operator instance restores from: the snapshots of every subtask of the
/// operator in the checkpoint, in subtask order (the old parallelism is their number).
#[derive(Debug, Clone)]
pub struct OperatorRestore {
    pub checkpoint_id: u64,
    pub directories: Vec<PathBuf>,
}

impl OperatorRestore {
    pub fn old_parallelism(&self) -> usize {
        self.directories.len()
    }

    /// The sub-directory `name` of each old subtask's snapshot, where one was written.
    pub fn parts(&self, name: &str) -> Vec<PathBuf> {
        self.directories
            .iter()
            .map(|d| d.join(name))
            .filter(|d| d.is_dir())
            .collect()
    }

    /// [`OperatorRestore::parts`] of the restore of `info`, if it restores.
    pub fn parts_of(restore: Option<&SharedRestore>, name: &str) -> Vec<PathBuf> {
        restore.map(|r| r.parts(name)).unwrap_or_default()
    }
}

/// Restore data shared by the instances of an operator.
pub type SharedRestore = Arc<OperatorRestore>;

/// The id of an operator whose user gave none: derived from its name and its place in the
/// plan, so the same program gives the same ids and a changed plan does not silently match
/// state to the wrong operator.
pub fn derived_operator_id(position: usize, name: &str) -> String {
    let mut slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while slug.contains("--") {
        slug = slug.replace("--", "-");
    }
    let slug = slug.trim_matches('-');
    let slug: String = slug.chars().take(40).collect();
    format!("{position}-{slug}")
}

/// A user's uid as a directory name: kept as it is where it is safe, else escaped.
pub fn operator_directory_name(operator_id: &str) -> String {
    let mut out = String::with_capacity(operator_id.len());
    for c in operator_id.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
            out.push(c);
        } else {
            out.push_str(&format!("%{:02X}", c as u32));
        }
    }
    if out.is_empty() || out.starts_with('.') {
        out.insert(0, '_');
    }
    out
}

/// The directory of subtask `subtask` of operator `operator_id` in checkpoint directory `chk`.
pub fn subtask_directory(chk: &Path, operator_id: &str, subtask: usize) -> PathBuf {
    chk.join(operator_directory_name(operator_id)).join(subtask.to_string())
}

#[cfg(test)]
mod naming_tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_and_readable() {
        assert_eq!(derived_operator_id(3, "Keyed Reduce"), "3-keyed-reduce");
        assert_eq!(
            derived_operator_id(0, "Source: Collection Source"),
            "0-source-collection-source"
        );
    }

    #[test]
    fn uids_become_safe_directory_names() {
        assert_eq!(operator_directory_name("my-op_1"), "my-op_1");
        assert_eq!(operator_directory_name("a/b"), "a%2Fb");
        assert_eq!(operator_directory_name(".."), "_..");
        assert_eq!(operator_directory_name(""), "_");
    }
}
