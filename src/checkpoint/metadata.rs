//! The `_metadata` file of a checkpoint: what it holds and where, written last and renamed into
//! place, so that a directory without it is never taken for a complete checkpoint. Reading one
//! checks it (its format version and its checksum, `crate::state::checksum`), and finding the newest complete checkpoint under a directory skips damaged ones.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::state::checksum;

pub const METADATA_FILE: &str = "_metadata";
const FORMAT: &str = "ferroflow-checkpoint";
const VERSION: u32 = 2;

/// One operator of the job, as the checkpoint knows it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct OperatorEntry {
    pub name: String,
    pub parallelism: usize,
    /// The key groups of its keyed state (None: the checkpoint's `max_parallelism`).
    #[serde(default)]
    pub max_parallelism: Option<usize>,
    /// Whether any subtask wrote state (an operator without state may be removed from the job).
    pub has_state: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CheckpointMetadata {
    pub format: String,
    pub version: u32,
    pub job_id: String,
    pub job_name: String,
    pub checkpoint_id: u64,
    /// When the checkpoint was triggered, ms since the epoch.
    pub timestamp: i64,
    /// "checkpoint" or "savepoint".
    pub kind: String,
    pub max_parallelism: usize,
    /// By operator id.
    pub operators: BTreeMap<String, OperatorEntry>,
    pub bytes: u64,
    pub new_bytes: u64,
    /// The CRC-32 of the file (with these digits as `00000000`), filled in when it is written.
    /// Last, so that it is the file's last field.
    #[serde(default)]
    pub checksum: String,
}

/// A checkpoint that cannot be used, with what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataError(pub String);

impl std::fmt::Display for MetadataError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MetadataError {}

impl CheckpointMetadata {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        job_id: &str,
        job_name: &str,
        checkpoint_id: u64,
        timestamp: i64,
        kind: &str,
        max_parallelism: usize,
        operators: BTreeMap<String, OperatorEntry>,
        bytes: u64,
        new_bytes: u64,
    ) -> Self {
        CheckpointMetadata {
            format: FORMAT.into(),
            version: VERSION,
            job_id: job_id.into(),
            job_name: job_name.into(),
            checkpoint_id,
            timestamp,
            kind: kind.into(),
            max_parallelism,
            operators,
            bytes,
            new_bytes,
            checksum: checksum::UNSEALED.into(),
        }
    }

    /// Writes `_metadata` into `directory`: to a temporary file, synced, then renamed into
    /// place and the directory synced, so it is either complete or absent.
    pub fn write_to(&self, directory: &Path) -> std::io::Result<()> {
        let unsealed = CheckpointMetadata {
            checksum: checksum::UNSEALED.into(),
            ..self.clone()
        };
        let text = checksum::seal_json(serde_json::to_vec_pretty(&unsealed).map_err(std::io::Error::other)?);
        let tmp = directory.join(format!("{METADATA_FILE}.inprogress"));
        {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(&text)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, directory.join(METADATA_FILE))?;
        sync_directory(directory);
        Ok(())
    }

    /// Reads and checks the checkpoint at `path`: a checkpoint directory or its `_metadata`.
    /// Also checks that the state directories it names are there.
    pub fn read(path: &Path) -> Result<(PathBuf, CheckpointMetadata), MetadataError> {
        let (directory, file) = if path.is_dir() {
            (path.to_path_buf(), path.join(METADATA_FILE))
        } else if path.file_name().is_some_and(|n| n == METADATA_FILE) {
            (
                path.parent().map(Path::to_path_buf).unwrap_or_default(),
                path.to_path_buf(),
            )
        } else if !path.exists() {
            return Err(MetadataError(format!(
                "the checkpoint {} does not exist",
                path.display()
            )));
        } else {
            return Err(MetadataError(format!(
                "{} is neither a checkpoint directory nor its {METADATA_FILE} file",
                path.display()
            )));
        };
        let bytes = fs::read(&file).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                MetadataError(format!(
                    "{} has no {METADATA_FILE} file: it is not a complete checkpoint (a checkpoint is \
                     complete only once its {METADATA_FILE} is written)",
                    directory.display()
                ))
            } else {
                MetadataError(format!("cannot read {}: {e}", file.display()))
            }
        })?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| MetadataError(format!("{} is corrupt or truncated: {e}", file.display())))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(MetadataError(format!(
                "{} is not the metadata of a ferroflow checkpoint",
                file.display()
            )));
        }
        let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
        if version != u64::from(VERSION) {
            return Err(MetadataError(format!(
                "{} was written by another version of ferroflow (checkpoint format version {version}; \
                 this version reads version {VERSION})",
                file.display()
            )));
        }
        checksum::check_json(&bytes).map_err(|e| MetadataError(format!("{} is corrupt: {e}", file.display())))?;
        let meta: CheckpointMetadata =
            serde_json::from_value(value).map_err(|e| MetadataError(format!("{} is corrupt: {e}", file.display())))?;
        for (id, op) in &meta.operators {
            if !op.has_state {
                continue;
            }
            for subtask in 0..op.parallelism {
                let dir = super::subtask_directory(&directory, id, subtask);
                if !dir.is_dir() {
                    return Err(MetadataError(format!(
                        "the checkpoint {} lacks the state of operator '{id}' subtask {subtask} ({} is missing)",
                        directory.display(),
                        dir.display()
                    )));
                }
            }
        }
        Ok((directory, meta))
    }
}

/// Syncs a directory's entries (a rename in it) to disk, where the platform can.
pub fn sync_directory(directory: &Path) {
    if let Ok(d) = fs::File::open(directory) {
        let _ = d.sync_all();
    }
}

/// The sub-directories of `dir` (none if it cannot be read).
fn children(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect())
        .unwrap_or_default()
}

/// The checkpoint directories (`chk-<n>`, and savepoints) at most two levels below `root`
/// (root itself, `root/<chk>`, `root/<job-id>/<chk>`).
fn candidates(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if root.join(METADATA_FILE).exists() || is_checkpoint_name(root) {
        found.push(root.to_path_buf());
    }
    for child in children(root) {
        if is_checkpoint_name(&child) {
            found.push(child);
        } else {
            found.extend(children(&child).into_iter().filter(|c| is_checkpoint_name(c)));
        }
    }
    found
}

fn is_checkpoint_name(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("chk-") || n.starts_with("savepoint-"))
}

/// Removes the `chk-<n>` directories directly in `job_directory` that have no `_metadata`: what
/// checkpoints in progress left when their job stopped (a task may still have been writing when
/// the coordinator gave them up). Call it only once the job's tasks have ended.
pub fn remove_incomplete(job_directory: &Path) {
    remove_checkpoints_where(job_directory, |_, complete| !complete);
}

/// The `n` of a `chk-<n>` directory.
pub fn chk_number(path: &Path) -> Option<u64> {
    path.file_name()?.to_str()?.strip_prefix("chk-")?.parse().ok()
}

/// Removes the `chk-<n>` directories directly in `job_directory` for which `remove(n, complete)`
/// holds (`complete`: it has its `_metadata`).
pub fn remove_checkpoints_where(job_directory: &Path, remove: impl Fn(u64, bool) -> bool) {
    for child in children(job_directory) {
        if let Some(n) = chk_number(&child) {
            if remove(n, child.join(METADATA_FILE).is_file()) {
                let _ = fs::remove_dir_all(&child);
            }
        }
    }
}

/// The newest complete checkpoint at or under `root` (by trigger time, then id), skipping
/// incomplete and damaged ones; with the reasons the skipped ones were refused.
pub fn find_latest(root: &Path) -> (Option<(PathBuf, CheckpointMetadata)>, Vec<MetadataError>) {
    let mut best: Option<(PathBuf, CheckpointMetadata)> = None;
    let mut refused = Vec::new();
    for dir in candidates(root) {
        match CheckpointMetadata::read(&dir) {
            Ok((dir, meta)) => {
                let newer = best
                    .as_ref()
                    .is_none_or(|(_, b)| (meta.timestamp, meta.checkpoint_id) > (b.timestamp, b.checkpoint_id));
                if newer {
                    best = Some((dir, meta));
                }
            }
            Err(e) => refused.push(e),
        }
    }
    (best, refused)
}

/// The checkpoints at or under `root` that are complete (they have their `_metadata`) but cannot
/// be restored from, with what is wrong with each: what [`find_latest`] skips beside the
/// incomplete ones, and what its caller should report.
pub fn find_damaged(root: &Path) -> Vec<MetadataError> {
    candidates(root)
        .into_iter()
        .filter(|dir| dir.join(METADATA_FILE).is_file())
        .filter_map(|dir| CheckpointMetadata::read(&dir).err())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d = crate::checkpoint::test_directory(&format!("meta-{name}"));
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn meta(id: u64, ts: i64) -> CheckpointMetadata {
        let mut ops = BTreeMap::new();
        ops.insert(
            "op".to_string(),
            OperatorEntry {
                name: "Op".into(),
                parallelism: 1,
                max_parallelism: None,
                has_state: true,
            },
        );
        CheckpointMetadata::new("job", "name", id, ts, "checkpoint", 128, ops, 10, 10)
    }

    #[test]
    fn round_trip_and_newest() {
        let root = temp("newest");
        for (id, ts) in [(1, 100), (2, 200), (3, 300)] {
            let chk = root.join("job").join(format!("chk-{id}"));
            fs::create_dir_all(chk.join("op").join("0")).unwrap();
            if id != 3 {
                meta(id, ts).write_to(&chk).unwrap();
            }
        }
        let (best, refused) = find_latest(&root);
        let (dir, m) = best.unwrap();
        assert_eq!(m.checkpoint_id, 2);
        assert!(dir.ends_with("chk-2"));
        assert_eq!(refused.len(), 1, "chk-3 has no metadata");
        assert!(refused[0].0.contains("not a complete checkpoint"));
        // A damaged newest falls back to the previous one.
        fs::write(root.join("job/chk-2/_metadata"), b"{\"format\": \"ferroflow-che").unwrap();
        let (best, refused) = find_latest(&root);
        assert_eq!(best.unwrap().1.checkpoint_id, 1);
        assert!(refused.iter().any(|e| e.0.contains("corrupt or truncated")));
        let damaged = find_damaged(&root);
        assert_eq!(damaged.len(), 1, "chk-3 is incomplete, not damaged: {damaged:?}");
        assert!(damaged[0].0.contains("chk-2"), "{damaged:?}");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn foreign_and_incomplete_checkpoints_are_refused() {
        let root = temp("foreign");
        fs::write(root.join(METADATA_FILE), b"{\"format\": \"other\"}").unwrap();
        let e = CheckpointMetadata::read(&root).unwrap_err();
        assert!(e.0.contains("not the metadata of a ferroflow checkpoint"), "{e}");
        meta(1, 1).write_to(&root).unwrap();
        let e = CheckpointMetadata::read(&root).unwrap_err();
        assert!(e.0.contains("lacks the state of operator 'op'"), "{e}");
        fs::create_dir_all(root.join("op/0")).unwrap();
        assert!(CheckpointMetadata::read(&root).is_ok());
        assert!(CheckpointMetadata::read(&root.join("missing"))
            .unwrap_err()
            .0
            .contains("does not exist"));
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn every_changed_byte_of_metadata_is_refused_naming_it() {
        let root = temp("flips");
        fs::create_dir_all(root.join("op/0")).unwrap();
        meta(4, 44).write_to(&root).unwrap();
        let file = root.join(METADATA_FILE);
        crate::state::checksum::assert_every_flip_refused(&file, || {
            CheckpointMetadata::read(&root).map(drop).map_err(|e| e.0)
        });
        let text = fs::read_to_string(&file)
            .unwrap()
            .replace("\"version\": 2", "\"version\": 1");
        fs::write(&file, text).unwrap();
        let e = CheckpointMetadata::read(&root).unwrap_err();
        assert!(e.0.contains("written by another version of ferroflow"), "{e}");
        fs::remove_dir_all(&root).unwrap();
    }
}
