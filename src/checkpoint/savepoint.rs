//! Savepoints: a checkpoint taken on request and materialized into a directory the user owns.
//!
//! A savepoint is an ordinary checkpoint (same barriers, same state files) that, once complete,
//! is copied into `<target>/savepoint-<job-id prefix>-<random>/` with hard links (a copy where
//! the file system cannot link) and its `_metadata` rewritten with kind "savepoint". It is never
//! removed by the job's checkpoint retention, and it restores like a checkpoint: at another
//! parallelism (keyed state by key group, operator state redistributed) and after operators were
//! added or removed (matched by operator id).

use std::fs;
use std::path::{Path, PathBuf};

use crossbeam_channel::Sender;

use super::metadata::{sync_directory, CheckpointMetadata};

/// A request for a savepoint, answered with the savepoint's directory or why it failed.
#[derive(Debug)]
pub struct SavepointRequest {
    /// The directory under which the savepoint's own directory is made.
    pub target: PathBuf,
    /// Stop the job once the savepoint completed (no later checkpoint completes).
    pub stop: bool,
    pub reply: Sender<Result<PathBuf, String>>,
}

impl SavepointRequest {
    /// Answers the request (a requester that stopped waiting is not an error).
    pub fn answer(self, result: Result<PathBuf, String>) {
        let _ = self.reply.send(result);
    }
}

/// Copies the complete checkpoint at `checkpoint` into a new savepoint directory under `target`
/// and returns it. The savepoint's `_metadata` is written last, as a checkpoint's is.
pub fn materialize(checkpoint: &Path, target: &Path, job_id: &str) -> Result<PathBuf, String> {
    let (_, mut meta) = CheckpointMetadata::read(checkpoint).map_err(|e| e.to_string())?;
    fs::create_dir_all(target).map_err(|e| format!("cannot make the savepoint directory {}: {e}", target.display()))?;
    let prefix: String = job_id.chars().take(6).collect();
    let directory = (0u32..)
        .map(|attempt| target.join(format!("savepoint-{prefix}-{}", random_suffix(attempt))))
        .find(|d| !d.exists())
        .unwrap_or_else(|| target.join(format!("savepoint-{prefix}")));
    link_tree(checkpoint, &directory)
        .map_err(|e| format!("cannot write the savepoint into {}: {e}", directory.display()))?;
    meta.kind = "savepoint".into();
    meta.write_to(&directory)
        .map_err(|e| format!("cannot write the savepoint's metadata in {}: {e}", directory.display()))?;
    sync_directory(target);
    Ok(directory)
}

/// Twelve hex digits, different for each call and attempt.
fn random_suffix(attempt: u32) -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u32(attempt);
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("{:012x}", h.finish() & 0xffff_ffff_ffff)
}

/// Recreates the tree `from` at `to` (which must not exist) with hard links to its files,
/// copying a file that cannot be linked. The checkpoint's own `_metadata` is left out.
fn link_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let source = entry.path();
        let dest = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            link_tree(&source, &dest)?;
        } else if entry.file_name() == super::metadata::METADATA_FILE {
            continue;
        } else if fs::hard_link(&source, &dest).is_err() {
            fs::copy(&source, &dest)?;
        }
    }
    sync_directory(to);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::checkpoint::metadata::OperatorEntry;

    #[test]
    fn a_savepoint_holds_the_checkpoints_files_and_says_it_is_a_savepoint() {
        let root = crate::checkpoint::test_directory("savepoint-links");
        let chk = root.join("job/chk-3");
        let state = crate::checkpoint::subtask_directory(&chk, "op", 0);
        fs::create_dir_all(&state).unwrap();
        fs::write(state.join("data"), b"state bytes").unwrap();
        let mut operators = BTreeMap::new();
        operators.insert(
            "op".to_string(),
            OperatorEntry {
                name: "Map".into(),
                parallelism: 1,
                max_parallelism: None,
                has_state: true,
            },
        );
        CheckpointMetadata::new("abcdef0123", "job", 3, 7, "checkpoint", 128, operators, 11, 11)
            .write_to(&chk)
            .unwrap();

        let target = root.join("savepoints");
        let sp = materialize(&chk, &target, "abcdef0123").unwrap();
        assert!(sp.starts_with(&target));
        assert!(sp
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("savepoint-abcdef-"));
        // The checkpoint may go: the savepoint keeps its own links.
        fs::remove_dir_all(&chk).unwrap();
        let (_, meta) = CheckpointMetadata::read(&sp).unwrap();
        assert_eq!(meta.kind, "savepoint");
        assert_eq!(meta.checkpoint_id, 3);
        let copied = crate::checkpoint::subtask_directory(&sp, "op", 0).join("data");
        assert_eq!(fs::read(copied).unwrap(), b"state bytes");

        // A second savepoint of the same job gets its own directory.
        let chk2 = root.join("job/chk-4");
        fs::create_dir_all(&chk2).unwrap();
        CheckpointMetadata::new("abcdef0123", "job", 4, 8, "checkpoint", 128, BTreeMap::new(), 0, 0)
            .write_to(&chk2)
            .unwrap();
        let sp2 = materialize(&chk2, &target, "abcdef0123").unwrap();
        assert_ne!(sp, sp2);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn an_incomplete_checkpoint_is_not_made_a_savepoint() {
        let root = crate::checkpoint::test_directory("savepoint-incomplete");
        let chk = root.join("chk-1");
        fs::create_dir_all(&chk).unwrap();
        let err = materialize(&chk, &root.join("sp"), "job").unwrap_err();
        assert!(err.contains("_metadata"), "{err}");
        fs::remove_dir_all(&root).unwrap();
    }
}
