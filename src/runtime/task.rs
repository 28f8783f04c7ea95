//! A task: one parallel instance of a chain, run by one OS thread. It reads its inputs (or its
//! source), runs each batch through the chain inside one [`Data::scope`], and sends the output
//! outside it, so it never waits on a channel while holding the interpreter.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::runtime::chain::{ChainError, OperatorChain};
use crate::runtime::input_gate::{GateEvent, InputGate};
use crate::runtime::message::Message;
use crate::runtime::operator::{OperatorError, Source, SourceStatus, TaskInfo};
use crate::runtime::output::{OutputStats, Stopped, TaskOutputs};
use crate::runtime::record::{Data, Record};
use crate::runtime::watermark_valve::WatermarkValve;

/// How long a task waits for input before it looks at the cancel flag again.
const IDLE_CHECK_INTERVAL: Duration = Duration::from_millis(50);

/// Where a task's records come from.
pub enum TaskInput<V: Data> {
    Source(Box<dyn Source<V>>),
    Gate(InputGate<V>),
}

/// Why a task stopped before its inputs ended.
#[derive(Debug)]
pub enum TaskFailure {
    /// An operator (or the source) raised an error.
    Operator {
        /// The operator's name.
        operator: String,
        subtask_index: usize,
        parallelism: usize,
        /// Position of the failing record among those the operator received, when known.
        record_index: Option<u64>,
        error: OperatorError,
    },
    /// The job was cancelled, or another task failed.
    Stopped,
}

/// What a finished task did, for metrics.
#[derive(Clone, Debug, Default)]
pub struct TaskStats {
    pub task_name: String,
    pub subtask_index: usize,
    pub records_in: u64,
    pub output: OutputStats,
}

pub struct Task<V: Data> {
    pub name: String,
    pub subtask_index: usize,
    /// The source's info, when the task has a source.
    pub source_info: Option<TaskInfo>,
    pub input: TaskInput<V>,
    pub chain: OperatorChain<V>,
    pub outputs: TaskOutputs<V>,
}

impl From<Stopped> for TaskFailure {
    fn from(_: Stopped) -> Self {
        TaskFailure::Stopped
    }
}

impl<V: Data> Task<V> {
    /// Runs the task to the end of its inputs, to a failure, or until `cancelled` is set.
    pub fn run(mut self, cancelled: &AtomicBool) -> Result<TaskStats, TaskFailure> {
        let result = self.run_to_end(cancelled);
        let close = V::scope(|| {
            self.outputs.discard();
            let chain = self.chain.close();
            let source = match &mut self.input {
                TaskInput::Source(s) => s.close(),
                TaskInput::Gate(_) => Ok(()),
            };
            (chain, source)
        });
        let records_in = match result {
            Ok(n) => n,
            Err(failure) => {
                V::scope(move || drop(self));
                return Err(failure);
            }
        };
        let stats = TaskStats {
            task_name: self.name.clone(),
            subtask_index: self.subtask_index,
            records_in,
            output: self.outputs.stats,
        };
        let (chain_close, source_close) = close;
        let failure = match (chain_close, source_close) {
            (Err(e), _) => Some(self.chain_failure(e)),
            (_, Err(e)) => Some(self.source_failure(e)),
            _ => None,
        };
        V::scope(move || drop(self));
        match failure {
            Some(f) => Err(f),
            None => Ok(stats),
        }
    }

    /// The operator a failure belongs to: chained operator `index`, or the source.
    fn failed_operator(&self, index: Option<usize>) -> (String, usize, usize) {
        let info = index
            .and_then(|i| self.chain.info(i))
            .or(self.source_info.as_ref())
            .or(self.chain.info(0));
        match info {
            Some(i) => (i.operator_name.clone(), i.subtask_index, i.parallelism),
            None => (self.name.clone(), self.subtask_index, 1),
        }
    }

    fn chain_failure(&self, e: ChainError) -> TaskFailure {
        let (mut operator, subtask_index, parallelism) = self.failed_operator(Some(e.operator));
        if let Some(name) = &e.error.operator_name {
            operator = name.clone();
        }
        TaskFailure::Operator {
            operator,
            subtask_index,
            parallelism,
            record_index: e
                .error
                .record_in_batch
                .map(|i| e.records_before_batch + i as u64),
            error: e.error,
        }
    }

    fn source_failure(&self, error: OperatorError) -> TaskFailure {
        let (mut operator, subtask_index, parallelism) = self.failed_operator(None);
        if let Some(name) = &error.operator_name {
            operator = name.clone();
        }
        TaskFailure::Operator {
            operator,
            subtask_index,
            parallelism,
            record_index: None,
            error,
        }
    }

    fn run_to_end(&mut self, cancelled: &AtomicBool) -> Result<u64, TaskFailure> {
        let opened = V::scope(|| {
            if let (TaskInput::Source(source), Some(info)) = (&mut self.input, &self.source_info) {
                source.open(info).map_err(Err)?;
            }
            self.chain.open().map_err(Ok)
        });
        if let Err(e) = opened {
            return Err(match e {
                Ok(chain) => self.chain_failure(chain),
                Err(source) => self.source_failure(source),
            });
        }
        match std::mem::replace(&mut self.input, TaskInput::Gate(InputGate::new(Vec::new()))) {
            TaskInput::Source(mut source) => {
                let result = self.run_source(source.as_mut(), cancelled);
                self.input = TaskInput::Source(source);
                result
            }
            TaskInput::Gate(mut gate) => {
                let result = self.run_gate(&mut gate, cancelled);
                self.input = TaskInput::Gate(gate);
                result
            }
        }
    }

    fn run_source(
        &mut self,
        source: &mut dyn Source<V>,
        cancelled: &AtomicBool,
    ) -> Result<u64, TaskFailure> {
        let policy = self.outputs.policy();
        let mut batch: Vec<Record<V>> = Vec::with_capacity(policy.batch_size);
        let mut produced = 0u64;
        loop {
            if cancelled.load(Ordering::Relaxed) {
                return Err(TaskFailure::Stopped);
            }
            let deadline = Instant::now() + policy.buffer_timeout.max(Duration::from_millis(1));
            let step = V::scope(|| {
                let status = source
                    .poll_batch(policy.batch_size, deadline, &mut batch)
                    .map_err(Err)?;
                produced += batch.len() as u64;
                self.chain
                    .process(0, &mut batch, &mut self.outputs)
                    .map_err(Ok)?;
                batch.clear();
                Ok(status)
            });
            let status = match step {
                Ok(s) => s,
                Err(Ok(chain)) => return Err(self.chain_failure(chain)),
                Err(Err(source)) => return Err(self.source_failure(source)),
            };
            self.outputs.flush(false, cancelled)?;
            if status == SourceStatus::Exhausted {
                // A bounded input ends with the final watermark, which fires every event-time
                // timer and window downstream.
                let mut forwarded = i64::MIN;
                self.advance_watermark(i64::MAX, &mut forwarded, cancelled)?;
                self.end_of_input(cancelled)?;
                return Ok(produced);
            }
        }
    }

    fn run_gate(
        &mut self,
        gate: &mut InputGate<V>,
        cancelled: &AtomicBool,
    ) -> Result<u64, TaskFailure> {
        let mut valve = WatermarkValve::new(gate.channel_count());
        let mut forwarded = i64::MIN;
        let mut received = 0u64;
        loop {
            if cancelled.load(Ordering::Relaxed) {
                return Err(TaskFailure::Stopped);
            }
            if gate.is_finished() {
                self.end_of_input(cancelled)?;
                return Ok(received);
            }
            let now = Instant::now();
            let deadline = self
                .outputs
                .next_flush_deadline()
                .map_or(now + IDLE_CHECK_INTERVAL, |d| {
                    d.min(now + IDLE_CHECK_INTERVAL)
                });
            match gate.poll(deadline)? {
                GateEvent::Records { input, mut batch } => {
                    received += batch.len() as u64;
                    V::scope(|| self.chain.process(input, &mut batch, &mut self.outputs))
                        .map_err(|e| self.chain_failure(e))?;
                }
                GateEvent::Watermark { channel, watermark } => {
                    if let Some(w) = valve.on_watermark(channel, watermark) {
                        self.advance_watermark(w, &mut forwarded, cancelled)?;
                    }
                }
                GateEvent::EndOfChannel { channel } => {
                    if let Some(w) = valve.on_end_of_channel(channel) {
                        self.advance_watermark(w, &mut forwarded, cancelled)?;
                    }
                }
                GateEvent::Barrier(id) => {
                    V::scope(|| self.chain.on_barrier(id)).map_err(|e| self.chain_failure(e))?;
                    self.outputs.broadcast(|| Message::Barrier(id), cancelled)?;
                }
                GateEvent::Timeout => {}
            }
            self.outputs.flush(false, cancelled)?;
        }
    }

    /// Event time reached `watermark`: operators react (and may emit), then the watermark the
    /// chain lets through goes downstream if it is newer than the last one sent.
    fn advance_watermark(
        &mut self,
        watermark: i64,
        forwarded: &mut i64,
        cancelled: &AtomicBool,
    ) -> Result<(), TaskFailure> {
        let out = V::scope(|| self.chain.on_watermark(watermark, &mut self.outputs))
            .map_err(|e| self.chain_failure(e))?;
        if let Some(w) = out {
            if w > *forwarded {
                *forwarded = w;
                self.outputs
                    .broadcast(|| Message::Watermark(w), cancelled)?;
            }
        }
        Ok(())
    }

    fn end_of_input(&mut self, cancelled: &AtomicBool) -> Result<(), TaskFailure> {
        V::scope(|| self.chain.finish(&mut self.outputs)).map_err(|e| self.chain_failure(e))?;
        self.outputs.flush(true, cancelled)?;
        self.outputs.broadcast(|| Message::EndOfInput, cancelled)?;
        Ok(())
    }
}
