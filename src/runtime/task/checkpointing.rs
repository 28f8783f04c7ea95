//! A task's part in checkpoints: it carries out what the coordinator asks (take checkpoint
//! `n`, checkpoint `n` completed, finish, stop), snapshots its source and operators at a barrier
//! and sends the barrier on, and after its input ended answers barriers until the final
//! checkpoint completes.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::{Step, Task, TaskFailure, TaskInput};
use crate::checkpoint::coordinator::{Command, Report};
use crate::checkpoint::{subtask_directory, SnapshotContext, SnapshotStats};
use crate::runtime::input_gate::GateEvent;
use crate::runtime::message::Message;
use crate::runtime::operator::OperatorError;
use crate::runtime::record::Data;

impl<V: Data> Task<V> {
    /// Carries out what the coordinator asked. Returns whether there was anything.
    pub(super) fn handle_commands(&mut self, cancelled: &AtomicBool) -> Result<bool, TaskFailure> {
        let commands: Vec<Command> = match &self.control {
            Some(control) => control.commands.try_iter().collect(),
            None => return Ok(false),
        };
        for command in &commands {
            match *command {
                Command::Trigger(id) => self.checkpoint(id, Duration::ZERO, cancelled)?,
                Command::Complete(id) => self.notify_complete(id)?,
                Command::Finish => self.may_finish = true,
                Command::Stop => self.ended = true,
            }
        }
        Ok(!commands.is_empty())
    }

    /// Notifies the completions the coordinator sent that the task has not handled yet.
    pub(super) fn complete_pending(&mut self) -> Result<(), TaskFailure> {
        let completed: Vec<u64> = match &self.control {
            Some(control) => control
                .commands
                .try_iter()
                .filter_map(|c| match c {
                    Command::Complete(id) => Some(id),
                    _ => None,
                })
                .collect(),
            None => return Ok(()),
        };
        for id in completed {
            self.notify_complete(id)?;
        }
        Ok(())
    }

    /// Tells the source and every operator that checkpoint `id` completed.
    pub(super) fn notify_complete(&mut self, id: u64) -> Result<(), TaskFailure> {
        V::scope(|| {
            if let TaskInput::Source(source) = &mut self.input {
                source.notify_checkpoint_complete(id).map_err(Err)?;
            }
            self.chain.notify_checkpoint_complete(id).map_err(Ok)
        })
        .map_err(|e| match e {
            Ok(chain) => self.chain_failure(chain),
            Err(source) => self.source_failure(source),
        })
    }

    /// Takes checkpoint `id` at this point: the source's position and every operator's state,
    /// then sends the barrier on and acknowledges.
    pub(super) fn checkpoint(
        &mut self,
        id: u64,
        alignment: Duration,
        cancelled: &AtomicBool,
    ) -> Result<(), TaskFailure> {
        let Some(control) = &self.control else {
            return Ok(());
        };
        let task = control.task;
        let Some((timestamp, directory)) = control.registry.get(id) else {
            // The checkpoint expired or failed meanwhile: the barrier still goes on, so that
            // downstream tasks stay aligned.
            V::scope(|| self.outputs.emit_control(|| Message::Barrier(id)));
            return self.outputs.flush(false, cancelled).map_err(TaskFailure::from);
        };
        let source_info = self.source_info.clone();
        let result = V::scope(|| {
            let mut stats = SnapshotStats::default();
            if let (TaskInput::Source(source), Some(info)) = (&mut self.input, &source_info) {
                let dir = subtask_directory(&directory, &info.operator_id, info.subtask_index);
                std::fs::create_dir_all(&dir)
                    .map_err(|e| {
                        OperatorError::new(format!(
                            "checkpoint {id}: cannot make the directory {}: {e}",
                            dir.display()
                        ))
                    })
                    .and_then(|()| {
                        source.snapshot_state(&SnapshotContext {
                            checkpoint_id: id,
                            timestamp,
                            directory: &dir,
                            checkpoint_directory: &directory,
                        })
                    })
                    .map(|s| stats.add(s))
                    .map_err(Err)?;
            }
            stats.add(self.chain.snapshot_state(id, timestamp, &directory).map_err(Ok)?);
            self.outputs.emit_control(|| Message::Barrier(id));
            Ok(stats)
        });
        let stats = result.map_err(|e| match e {
            Ok(chain) => self.chain_failure(chain),
            Err(source) => self.source_failure(source),
        })?;
        if let Some(control) = &self.control {
            let _ = control.reports.send(Report::Ack {
                task,
                checkpoint_id: id,
                stats,
                alignment,
            });
        }
        self.outputs.flush(false, cancelled)?;
        Ok(())
    }

    /// After the input ended, with checkpoints: barriers still pass until the final
    /// checkpoint completes.
    pub(super) fn step_drained(&mut self, cancelled: &AtomicBool) -> Result<Step, TaskFailure> {
        if self.may_finish {
            self.outputs.flush(true, cancelled)?;
            self.ended = true;
            return Ok(Step::Finished);
        }
        let TaskInput::Gate(gate) = &mut self.input else {
            return Ok(Step::Idle(None));
        };
        match gate.poll(Instant::now())? {
            GateEvent::Barrier(id) => {
                let alignment = gate.last_alignment();
                self.checkpoint(id, alignment, cancelled)?;
                Ok(Step::Busy)
            }
            GateEvent::Timeout => Ok(Step::Idle(None)),
            // Nothing but barriers comes after the end of input.
            _ => Ok(Step::Busy),
        }
    }
}
