//! A task: one parallel instance of a chain. It reads its inputs (or its source), runs each
//! batch through the chain inside one [`Data::scope`], and sends the output outside it, so it
//! never waits on a channel while holding the interpreter.
//!
//! A task advances in steps ([`Task::step`]) that never block; [`Task::run`] drives the steps on
//! the task's own thread and waits between them, and a test harness can drive the steps of all
//! tasks from one thread instead.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::checkpoint::coordinator::{Report, TaskControl};
use crate::checkpoint::END_OF_INPUT;
use crate::metrics::task::{TaskMetrics, TaskMetricsSnapshot};
use crate::runtime::chain::{ChainError, OperatorChain};
use crate::runtime::input_gate::{GateEvent, InputGate};
use crate::runtime::message::{Message, Origin};
use crate::runtime::operator::{DroppedAtEnd, OperatorError, Output, Source, SourceStatus, TaskInfo};
use crate::runtime::output::{OutputStats, Stopped, TaskOutputs};
use crate::runtime::record::Data;
use crate::runtime::watermark_valve::WatermarkValve;
use crate::time::clock::Clock;

mod checkpointing;

/// How long a task waits for input before it looks at the cancel flag again.
const IDLE_CHECK_INTERVAL: Duration = Duration::from_millis(50);
/// How long a failing task waits for room in full channels to send what it emitted before the
/// failure.
const STOP_FLUSH_TIMEOUT: Duration = Duration::from_secs(1);
/// How often a task stores the metrics that change less often than every step (per-operator
/// counts, operator counters, channel fill).
const DETAILS_INTERVAL: Duration = Duration::from_millis(100);
/// A source task polls as many records as its chain turns into about this many batches' worth
/// of bytes (`FlushPolicy::batch_bytes`), so that large records go in small polls.
const STEP_BATCHES: usize = 8;

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

impl From<Stopped> for TaskFailure {
    fn from(_: Stopped) -> Self {
        TaskFailure::Stopped
    }
}

/// What a finished task did, for metrics.
#[derive(Clone, Debug, Default)]
pub struct TaskStats {
    pub task_name: String,
    pub subtask_index: usize,
    pub records_in: u64,
    pub output: OutputStats,
    /// The operators' own counters (e.g. late records dropped).
    pub counters: Vec<(&'static str, u64)>,
    /// The operators (by name) that dropped processing-time windows or timers at the end of
    /// their input.
    pub dropped_at_end: Vec<(String, DroppedAtEnd)>,
}

/// What a step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Work was done; step again.
    Busy,
    /// Nothing to do until input arrives or, if given, this time passes.
    Idle(Option<Instant>),
    /// The inputs ended and everything was sent: the task is done.
    Finished,
}

pub struct Task<V: Data> {
    pub name: String,
    pub subtask_index: usize,
    /// The source's info, when the task has a source.
    pub source_info: Option<TaskInfo>,
    pub input: TaskInput<V>,
    pub chain: OperatorChain<V>,
    pub outputs: TaskOutputs<V>,
    pub clock: Clock,
    valve: Option<WatermarkValve>,
    source_out: Output<V>,
    records_in: u64,
    /// The estimated bytes a source record became in the last poll (source tasks).
    bytes_per_source_record: Option<usize>,
    /// Time spent in steps that did something, minus time blocked on output.
    busy: Duration,
    /// Time spent waiting for input.
    idle: Duration,
    metrics: Arc<TaskMetrics>,
    /// When the details of the metrics were last stored.
    details_stored: Option<Instant>,
    /// Whether the task stores its metrics while it runs.
    metrics_enabled: bool,
    ended: bool,
    /// With checkpoints: the control channel to the coordinator.
    control: Option<TaskControl>,
    /// With checkpoints: the input ended and the operators finished; the task waits for the
    /// final checkpoint (answering barriers) before it ends.
    drained: bool,
    /// The final checkpoint completed: the task may end.
    may_finish: bool,
}

impl<V: Data> Task<V> {
    pub fn new(
        name: String,
        subtask_index: usize,
        source_info: Option<TaskInfo>,
        input: TaskInput<V>,
        chain: OperatorChain<V>,
        outputs: TaskOutputs<V>,
        clock: Clock,
    ) -> Self {
        let metrics = Arc::new(TaskMetrics::new(
            chain.operator_names(),
            chain.metrics().into_iter().map(|(name, _)| name).collect(),
        ));
        let mut outputs = outputs;
        outputs.show_blocked_in(Some(Arc::clone(&metrics)));
        let valve = match &input {
            TaskInput::Gate(gate) => Some(WatermarkValve::new(gate.channel_count())),
            TaskInput::Source(_) => None,
        };
        Task {
            name,
            subtask_index,
            source_info,
            input,
            chain,
            outputs,
            clock,
            valve,
            source_out: Output::default(),
            records_in: 0,
            bytes_per_source_record: None,
            busy: Duration::ZERO,
            idle: Duration::ZERO,
            metrics,
            details_stored: None,
            metrics_enabled: true,
            ended: false,
            control: None,
            drained: false,
            may_finish: false,
        }
    }

    /// The task's live counters, for readers while it runs.
    pub fn metrics(&self) -> Arc<TaskMetrics> {
        Arc::clone(&self.metrics)
    }

    /// Stores the task's totals where readers see them; the details too when they are due (or
    /// with `all`).
    fn publish_metrics(&mut self, now: Instant, all: bool) {
        if !self.metrics_enabled {
            return;
        }
        let stats = &self.outputs.stats;
        self.metrics.store(&TaskMetricsSnapshot {
            records_in: self.records_in,
            records_out: stats.records_out,
            bytes_out: stats.bytes_out,
            batches_out: stats.batches_out,
            back_pressured: stats.blocked,
            busy: self.busy,
            idle: self.idle,
            input_watermark: self.valve.as_ref().map_or(i64::MIN, WatermarkValve::current),
            output_watermark: self.outputs.watermark(),
        });
        if all
            || self
                .details_stored
                .is_none_or(|t| now.duration_since(t) >= DETAILS_INTERVAL)
        {
            self.details_stored = Some(now);
            let in_pool_usage = match &self.input {
                TaskInput::Gate(gate) => gate.pool_usage(),
                TaskInput::Source(_) => 0.0,
            };
            self.metrics.store_details(
                self.chain.operator_counts(),
                &self.chain.metrics(),
                (in_pool_usage, self.outputs.pool_usage()),
            );
        }
    }

    /// Records that a source handed on at `origin` were processed: their latency so far.
    fn record_latency(&self, origin: Origin, records: u64) {
        if let (Some(origin), true) = (origin, records > 0 && self.metrics_enabled) {
            self.metrics.latency.record(origin.elapsed(), records);
        }
    }

    /// Stores its metrics while it runs (the default), or not.
    pub fn with_metrics(mut self, enabled: bool) -> Self {
        self.metrics_enabled = enabled;
        self.outputs.show_blocked_in(enabled.then(|| Arc::clone(&self.metrics)));
        self
    }

    /// Takes part in checkpoints through `control`.
    pub fn with_control(mut self, control: TaskControl) -> Self {
        self.control = Some(control);
        self
    }

    /// Runs the task on the calling thread to the end of its inputs, to a failure, or until
    /// `cancelled` is set.
    pub fn run(mut self, cancelled: &AtomicBool) -> Result<TaskStats, TaskFailure> {
        let result = self.open().and_then(|()| loop {
            if cancelled.load(Ordering::Relaxed) {
                // Checkpoints completed before the stop still commit (their metadata is
                // durable); nothing else is done.
                self.complete_pending()?;
                break Err(TaskFailure::Stopped);
            }
            let (started, blocked_before) = (Instant::now(), self.outputs.stats.blocked);
            if self.metrics_enabled {
                self.metrics.begin_step(started);
            }
            let step = self.step(cancelled);
            let now = Instant::now();
            if matches!(step, Ok(Step::Busy | Step::Finished)) {
                let blocked = self.outputs.stats.blocked.saturating_sub(blocked_before);
                self.busy += now.duration_since(started).saturating_sub(blocked);
            }
            self.publish_metrics(now, matches!(step, Ok(Step::Finished) | Err(_)));
            match step? {
                Step::Busy => {}
                Step::Finished => break Ok(()),
                Step::Idle(wake) => {
                    let limit = now + IDLE_CHECK_INTERVAL;
                    self.wait(wake.map_or(limit, |w| w.min(limit)));
                    self.idle += now.elapsed();
                }
            }
        });
        self.publish_metrics(Instant::now(), true);
        if result.is_err() {
            // What the operators emitted before the failure or the stop still goes out, so
            // that results computed before a failure reach the user. A failing task waits a
            // little for room in full channels; a cancelled one does not wait.
            let _ = self
                .outputs
                .flush_before_stop(cancelled, Instant::now() + STOP_FLUSH_TIMEOUT);
        }
        self.close(result)
    }

    /// Opens the source and the operators.
    pub fn open(&mut self) -> Result<(), TaskFailure> {
        let opened = V::scope(|| {
            if let (TaskInput::Source(source), Some(info)) = (&mut self.input, &self.source_info) {
                source.open(info).map_err(Err)?;
                self.metrics.set_source_total(source.records_total());
            }
            self.chain.open().map_err(Ok)
        });
        opened.map_err(|e| match e {
            Ok(chain) => self.chain_failure(chain),
            Err(source) => self.source_failure(source),
        })
    }

    /// Does one piece of work, without blocking (a source may take up to the buffer timeout to
    /// fill a batch). Sends what became ready.
    pub fn step(&mut self, cancelled: &AtomicBool) -> Result<Step, TaskFailure> {
        if self.ended {
            return Ok(Step::Finished);
        }
        if self.control.is_some() && self.handle_commands(cancelled)? {
            return Ok(Step::Busy);
        }
        if self.drained {
            return self.step_drained(cancelled);
        }
        if let Some(due) = self.chain.next_processing_time() {
            let now = self.clock.now();
            if due <= now {
                V::scope(|| self.chain.on_processing_time(now, &mut self.outputs))
                    .map_err(|e| self.chain_failure(e))?;
                self.outputs.flush(false, cancelled)?;
                return Ok(Step::Busy);
            }
        }
        let step = if matches!(self.input, TaskInput::Source(_)) {
            self.step_source(cancelled)?
        } else {
            self.step_gate(cancelled)?
        };
        let step = match step {
            Step::Finished => {
                self.end_of_input()?;
                self.outputs.flush(true, cancelled)?;
                if let Some(control) = &self.control {
                    // The task stays for the final checkpoint.
                    let _ = control.reports.send(Report::Drained { task: control.task });
                    self.drained = true;
                    return Ok(Step::Busy);
                }
                // Without checkpoints, what the operators staged is final now.
                self.notify_complete(END_OF_INPUT)?;
                self.ended = true;
                Step::Finished
            }
            Step::Idle(_) => Step::Idle(self.wake_time()),
            Step::Busy => Step::Busy,
        };
        self.outputs.flush(false, cancelled)?;
        Ok(step)
    }

    /// When the task next has something to do without new input: a batch to flush, or a
    /// processing-time timer (on the system clock).
    fn wake_time(&self) -> Option<Instant> {
        let flush = self.outputs.next_flush_deadline();
        let timer = self.chain.next_processing_time().and_then(|t| self.clock.instant_of(t));
        match (flush, timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Blocks until input (or a command from the checkpoint coordinator) may be available or
    /// `until` passes.
    pub fn wait(&mut self, until: Instant) {
        let commands = self.control.as_ref().map(|c| &c.commands);
        match &mut self.input {
            TaskInput::Gate(gate) => gate.wait_or(until, commands),
            TaskInput::Source(_) => match commands {
                Some(commands) => {
                    let mut select = crossbeam_channel::Select::new();
                    select.recv(commands);
                    let _ = select.ready_deadline(until);
                }
                None => {
                    let now = Instant::now();
                    if until > now {
                        std::thread::sleep(until - now);
                    }
                }
            },
        }
    }

    fn step_source(&mut self, cancelled: &AtomicBool) -> Result<Step, TaskFailure> {
        let TaskInput::Source(source) = &mut self.input else {
            return Ok(Step::Idle(None));
        };
        let policy = self.outputs.policy();
        let deadline = Instant::now()
            + policy
                .buffer_timeout
                .clamp(Duration::from_millis(1), Duration::from_secs(1));
        // As many records as keep what the chain emits for them within one channel's worth of
        // bytes, going by what the records of the last poll became (one record at first).
        let max = match self.bytes_per_source_record {
            None if policy.batch_bytes < usize::MAX => 1,
            Some(per_record) if per_record > 0 => {
                let budget = policy.batch_bytes.saturating_mul(STEP_BATCHES);
                (budget / per_record).clamp(1, policy.batch_size)
            }
            _ => policy.batch_size,
        };
        let (records_before, bytes_before) = (self.records_in, self.outputs.stats.bytes_out);
        let status = V::scope(|| {
            let status = source.poll_batch(max, deadline, &mut self.source_out).map_err(Err)?;
            self.records_in += self.source_out.main.len() as u64;
            // Seen while the batch is processed, which may take long.
            if self.metrics_enabled {
                self.metrics.set_records_in(self.records_in);
            }
            let origin = Some(Instant::now());
            self.outputs.set_origin(origin);
            self.chain.ingest(&mut self.source_out, &mut self.outputs).map_err(Ok)?;
            self.outputs.set_origin(None);
            Ok((status, origin))
        });
        let polled = self.records_in - records_before;
        let status = status.map(|(status, origin)| {
            self.record_latency(origin, polled);
            status
        });
        if let Some(per_record) = (self.outputs.stats.bytes_out - bytes_before).checked_div(polled) {
            self.bytes_per_source_record = usize::try_from(per_record).ok();
        }
        match status {
            Ok(SourceStatus::Exhausted) => Ok(Step::Finished),
            Ok(SourceStatus::More) => Ok(Step::Busy),
            Ok(SourceStatus::MoreLater) => {
                self.outputs.flush(true, cancelled)?;
                Ok(Step::Busy)
            }
            Ok(SourceStatus::Idle) => Ok(Step::Idle(None)),
            Err(Ok(chain)) => Err(self.chain_failure(chain)),
            Err(Err(source)) => Err(self.source_failure(source)),
        }
    }

    fn step_gate(&mut self, cancelled: &AtomicBool) -> Result<Step, TaskFailure> {
        let TaskInput::Gate(gate) = &mut self.input else {
            return Ok(Step::Idle(None));
        };
        if gate.is_finished() {
            return Ok(Step::Finished);
        }
        let event = gate.poll(Instant::now())?;
        let valve = self.valve.as_mut().expect("a task with a gate has a valve");
        let advanced = match event {
            GateEvent::Records {
                input,
                mut batch,
                origin,
            } => {
                let records = batch.len() as u64;
                self.records_in += records;
                // Seen while the batch is processed, which may take long.
                if self.metrics_enabled {
                    self.metrics.set_records_in(self.records_in);
                }
                self.outputs.set_origin(origin);
                let processed = V::scope(|| self.chain.process(input, &mut batch, &mut self.outputs));
                self.outputs.set_origin(None);
                processed.map_err(|e| self.chain_failure(e))?;
                self.record_latency(origin, records);
                return Ok(Step::Busy);
            }
            GateEvent::Watermark { channel, watermark } => valve.on_watermark(channel, watermark),
            GateEvent::Idle { channel, idle } => {
                let advanced = valve.on_idle(channel, idle);
                let all_idle = valve.all_idle();
                V::scope(|| self.outputs.emit_idle(all_idle));
                advanced
            }
            GateEvent::EndOfChannel { channel } => valve.on_end_of_channel(channel),
            GateEvent::Barrier(id) => {
                let alignment = gate.last_alignment();
                if self.control.is_some() {
                    return self.checkpoint(id, alignment, cancelled).map(|()| Step::Busy);
                }
                // Without checkpoints there is nothing to snapshot: the barrier goes on.
                V::scope(|| self.outputs.emit_control(|| Message::Barrier(id)));
                return Ok(Step::Busy);
            }
            GateEvent::Timeout => return Ok(Step::Idle(None)),
        };
        if let Some(w) = advanced {
            V::scope(|| self.chain.on_watermark(w, &mut self.outputs)).map_err(|e| self.chain_failure(e))?;
        }
        Ok(Step::Busy)
    }

    /// Every input ended. A source's end is the final watermark (inputs behind a gate deliver it
    /// through the valve), then operators finish and every channel gets the end marker.
    fn end_of_input(&mut self) -> Result<(), TaskFailure> {
        let from_source = matches!(self.input, TaskInput::Source(_));
        V::scope(|| {
            if from_source {
                self.chain.on_watermark(i64::MAX, &mut self.outputs)?;
            }
            self.chain.finish(&mut self.outputs)?;
            self.outputs.emit_control(|| Message::EndOfInput);
            Ok(())
        })
        .map_err(|e| self.chain_failure(e))
    }

    /// Closes operators and source, drops everything inside the scope, and reports.
    pub fn close(mut self, result: Result<(), TaskFailure>) -> Result<TaskStats, TaskFailure> {
        let (chain_close, source_close) = V::scope(|| {
            self.outputs.discard();
            let chain = self.chain.close();
            let source = match &mut self.input {
                TaskInput::Source(s) => s.close(),
                TaskInput::Gate(_) => Ok(()),
            };
            (chain, source)
        });
        let outcome = match result {
            Err(failure) => Err(failure),
            Ok(()) => match (chain_close, source_close) {
                (Err(e), _) => Err(self.chain_failure(e)),
                (_, Err(e)) => Err(self.source_failure(e)),
                _ => Ok(TaskStats {
                    task_name: self.name.clone(),
                    subtask_index: self.subtask_index,
                    records_in: self.records_in,
                    output: self.outputs.stats,
                    counters: self.chain.metrics(),
                    dropped_at_end: self.chain.dropped_at_end(),
                }),
            },
        };
        V::scope(move || drop(self));
        outcome
    }

    /// The operator a failure belongs to: chained operator `index`, or the source.
    pub(crate) fn failed_operator(&self, index: Option<usize>) -> (String, usize, usize) {
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
            record_index: e.error.record_in_batch.map(|i| e.records_before_batch + i as u64),
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
}
