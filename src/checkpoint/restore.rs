//! Restoring a job from a checkpoint or savepoint: which state each operator gets, and the
//! checks that the checkpoint fits the job.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::metadata::CheckpointMetadata;
use super::{subtask_directory, OperatorRestore, SharedRestore};

/// The checkpoint a run of a job starts from.
#[derive(Clone, Debug)]
pub struct RestorePlan {
    pub directory: PathBuf,
    pub metadata: CheckpointMetadata,
    /// State of operators the job no longer has is dropped instead of refused
    /// (`execution.state-recovery.ignore-unclaimed-state`).
    pub ignore_unclaimed: bool,
}

impl RestorePlan {
    /// The state operator `operator_id` restores from, if the checkpoint holds any.
    pub fn operator(&self, operator_id: &str) -> Option<SharedRestore> {
        let entry = self.metadata.operators.get(operator_id)?;
        if !entry.has_state {
            return None;
        }
        Some(Arc::new(OperatorRestore {
            checkpoint_id: self.metadata.checkpoint_id,
            directories: (0..entry.parallelism)
                .map(|s| subtask_directory(&self.directory, operator_id, s))
                .collect(),
        }))
    }

    /// Checks that the job can take this state: `operators` are the job's operator ids with
    /// their max parallelism (the key groups of their keyed state, which cannot change).
    pub fn check(&self, operators: &BTreeMap<String, usize>) -> Result<(), String> {
        let unclaimed: Vec<&str> = self
            .metadata
            .operators
            .iter()
            .filter(|(id, entry)| entry.has_state && !operators.contains_key(*id))
            .map(|(id, _)| id.as_str())
            .collect();
        if !unclaimed.is_empty() && !self.ignore_unclaimed {
            let names: Vec<String> = unclaimed
                .iter()
                .map(|id| format!("'{id}' ({})", self.metadata.operators[*id].name))
                .collect();
            return Err(format!(
                "the checkpoint {} holds state of operators this job does not have: {}. Give the \
                 operators the same uid() as in the job that wrote it, or set \
                 execution.state-recovery.ignore-unclaimed-state to drop that state",
                self.directory.display(),
                names.join(", ")
            ));
        }
        for (id, max_parallelism) in operators {
            let Some(entry) = self.metadata.operators.get(id).filter(|e| e.has_state) else {
                continue;
            };
            let written = entry.max_parallelism.unwrap_or(self.metadata.max_parallelism);
            if written != *max_parallelism {
                return Err(format!(
                    "the checkpoint {} was written with max parallelism {written} but the job has \
                     {max_parallelism} for operator '{id}' ({}): keyed state is split into \
                     max-parallelism key groups, which cannot change",
                    self.directory.display(),
                    entry.name
                ));
            }
        }
        Ok(())
    }
}
