//! Positions of sources in checkpoints: each subtask's list of positions (one per split it
//! reads) as operator list state, so that a job restored at another parallelism hands each
//! old split to exactly one new subtask.

use std::path::{Path, PathBuf};

use crate::checkpoint::SnapshotStats;
use crate::runtime::operator::TaskInfo;
use crate::state::operator_state::{Distribution, OperatorStateSnapshot};
use crate::state::snapshot::SnapshotError;

/// The sub-directory of a source's checkpoint directory that holds its positions.
const POSITIONS_DIR: &str = "positions";
const POSITIONS: &str = "positions";

/// Writes `positions` (one element per split) into `directory`.
pub fn write_positions(directory: &Path, positions: Vec<Vec<u8>>) -> Result<SnapshotStats, SnapshotError> {
    let mut snapshot = OperatorStateSnapshot::default();
    snapshot
        .states
        .insert(POSITIONS.to_string(), (Distribution::Split, positions));
    snapshot
        .write_to(&directory.join(POSITIONS_DIR))
        .map(SnapshotStats::full)
}

/// The positions this subtask resumes from: None when the job does not restore this source
/// (it starts from the beginning), else its share of the old subtasks' positions (maybe none).
pub fn restore_positions(info: &TaskInfo) -> Result<Option<Vec<Vec<u8>>>, SnapshotError> {
    let Some(restore) = &info.restore else {
        return Ok(None);
    };
    let dirs: Vec<PathBuf> = restore
        .directories
        .iter()
        .map(|d| d.join(POSITIONS_DIR))
        .filter(|d| d.is_dir())
        .collect();
    if dirs.is_empty() {
        return Ok(None);
    }
    let paths: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    let mut mine = OperatorStateSnapshot::restore_from(&paths, info.subtask_index, info.parallelism)?;
    Ok(Some(mine.states.remove(POSITIONS).map(|(_, e)| e).unwrap_or_default()))
}
