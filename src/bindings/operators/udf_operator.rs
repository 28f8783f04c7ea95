//! The operator that calls user functions: map, flat_map, filter, process, the co-functions of
//! connected streams and Python sinks, keyed or not. One struct, because they differ only in how
//! a call's result becomes output.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::bindings::context::ProcessContext;
use crate::bindings::errors::at_record;
use crate::bindings::key::type_name;
use crate::bindings::state::StateStore;
use crate::bindings::udf::{Emitter, Udf};
use crate::bindings::value::PyValue;
use crate::checkpoint::{SnapshotContext, SnapshotStats};
use crate::runtime::key::Key;
use crate::runtime::key_group::{key_group_range, DEFAULT_MAX_PARALLELISM};
use crate::runtime::operator::{DroppedAtEnd, Operator, OperatorError, OperatorResult, Output, TaskInfo};
use crate::runtime::record::{Record, NO_TIMESTAMP};
use crate::time::clock::Clock;
use crate::time::timer_service::{TimeDomain, TimerService};
use crate::time::timer_snapshot::{restore_timers, write_timers};

/// How a call is made and what its result means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallStyle {
    /// `f(value)` is the one output.
    Map,
    /// `f(value)` is an iterable of outputs.
    FlatMap,
    /// `f(value)` is truthy to keep the value.
    Filter,
    /// `f(value, ctx)` yields outputs, `(OutputTag, value)` for side outputs.
    Process,
    /// `f(value)`, result ignored.
    Sink,
    /// `f(value, ctx)`, result ignored (SinkFunction.invoke).
    SinkWithContext,
}

impl CallStyle {
    pub fn parse(name: &str) -> Option<CallStyle> {
        Some(match name {
            "map" => CallStyle::Map,
            "flat_map" => CallStyle::FlatMap,
            "filter" => CallStyle::Filter,
            "process" => CallStyle::Process,
            "sink" => CallStyle::Sink,
            "sink_with_context" => CallStyle::SinkWithContext,
            _ => return None,
        })
    }

    /// The name a batch loop knows this style by, for the styles it can run.
    pub fn batch_loop_name(self) -> Option<&'static str> {
        Some(match self {
            CallStyle::Map => "map",
            CallStyle::Filter => "filter",
            CallStyle::FlatMap => "flat_map",
            CallStyle::Sink => "sink",
            CallStyle::Process | CallStyle::SinkWithContext => return None,
        })
    }

    fn uses_context(self) -> bool {
        matches!(self, CallStyle::Process | CallStyle::SinkWithContext)
    }
}

pub struct UdfOperator {
    style: CallStyle,
    udf: Udf,
    /// How many of the udf's calls are per input (the rest: `on_timer`).
    inputs: usize,
    on_timer: Option<Py<PyAny>>,
    /// Name of the user method, for error messages (`MyFunction.flat_map`).
    function: String,
    emitter: Emitter,
    ctx: Option<Py<ProcessContext>>,
    keyed: bool,
    timers: TimerService<()>,
    /// The processing-time timers its bounded input's end dropped.
    dropped_at_end: DroppedAtEnd,
    /// Keyed operators: their keyed state (the store's current key is the record's).
    state: Option<Py<StateStore>>,
    max_parallelism: usize,
}

impl UdfOperator {
    /// `has_on_timer`: the udf's last call is its `on_timer`.
    pub fn new(
        style: CallStyle,
        udf: Udf,
        function: String,
        side_ports: Vec<(String, u32)>,
        keyed: bool,
        has_on_timer: bool,
        state: Option<Py<StateStore>>,
    ) -> OperatorResult<Self> {
        let ctx = if style.uses_context() {
            Some(
                Python::attach(|py| Py::new(py, ProcessContext::new(keyed, Clock::System)))
                    .map_err(OperatorError::new)?,
            )
        } else {
            None
        };
        let on_timer = if has_on_timer && udf.calls.len() > 1 {
            udf.calls.last().map(|c| Python::attach(|py| c.clone_ref(py)))
        } else {
            None
        };
        let inputs = udf.calls.len() - usize::from(on_timer.is_some());
        Ok(UdfOperator {
            style,
            udf,
            inputs,
            on_timer,
            function,
            emitter: Emitter::new(side_ports),
            ctx,
            keyed,
            timers: TimerService::default(),
            dropped_at_end: DroppedAtEnd::default(),
            state,
            max_parallelism: DEFAULT_MAX_PARALLELISM,
        })
    }

    fn flat_map_error(&self, result: &Bound<'_, PyAny>) -> PyErr {
        PyTypeError::new_err(format!(
            "{} must return an iterable (a list, a generator, ...) of output values, \
             but it returned a value of type '{}'",
            self.function,
            type_name(result)
        ))
    }

    /// Calls the function for each record of `batch`.
    fn process_records(
        &mut self,
        input: usize,
        batch: &mut Vec<Record<PyValue>>,
        out: &mut Output<PyValue>,
    ) -> OperatorResult {
        Python::attach(|py| {
            let f = self.udf.calls[input.min(self.inputs - 1)].clone_ref(py).into_bound(py);
            // Keyed state belongs to the record's key: the store follows each record's key.
            let state = self.state.as_ref().map(|s| s.bind(py).clone());
            let set_key = |key: Option<Key>| {
                if let Some(state) = &state {
                    state.borrow_mut().current_key = key;
                }
            };
            match self.style {
                CallStyle::Map => {
                    out.main.reserve(batch.len());
                    for (i, r) in batch.drain(..).enumerate() {
                        set_key(r.key);
                        let v = f.call1((r.value.0,)).map_err(|e| at_record(e, i))?;
                        out.main.push(Record::with_timestamp(PyValue(v.unbind()), r.timestamp));
                    }
                }
                CallStyle::Filter => {
                    for (i, r) in batch.drain(..).enumerate() {
                        set_key(r.key);
                        let keep = f
                            .call1((r.value.0.bind(py),))
                            .and_then(|v| v.is_truthy())
                            .map_err(|e| at_record(e, i))?;
                        if keep {
                            out.main.push(Record::with_timestamp(r.value, r.timestamp));
                        }
                    }
                }
                CallStyle::FlatMap => {
                    for (i, r) in batch.drain(..).enumerate() {
                        set_key(r.key);
                        let result = f.call1((r.value.0,)).map_err(|e| at_record(e, i))?;
                        let iter = result
                            .try_iter()
                            .map_err(|_| at_record(self.flat_map_error(&result), i))?;
                        for v in iter {
                            let v = v.map_err(|e| at_record(e, i))?;
                            out.main.push(Record::with_timestamp(PyValue(v.unbind()), r.timestamp));
                        }
                    }
                }
                CallStyle::Process | CallStyle::SinkWithContext => {
                    let ctx = self
                        .ctx
                        .as_ref()
                        .expect("process-style operators have a context")
                        .clone_ref(py);
                    let ctx_obj = ctx.bind(py);
                    for (i, r) in batch.drain(..).enumerate() {
                        if state.is_some() {
                            set_key(r.key.clone());
                        }
                        {
                            let mut c = ctx_obj.borrow_mut();
                            c.timestamp = r.timestamp;
                            if r.key.is_some() {
                                c.key = r.key;
                            }
                        }
                        let result = f.call1((r.value.0, ctx_obj)).map_err(|e| at_record(e, i))?;
                        if self.style == CallStyle::Process {
                            self.emitter
                                .emit_all(&result, r.timestamp, out, &self.function)
                                .map_err(|e| at_record(e, i))?;
                        }
                        if self.keyed {
                            self.apply_timer_changes(&mut ctx_obj.borrow_mut());
                        }
                    }
                }
                CallStyle::Sink => {
                    for (i, r) in batch.drain(..).enumerate() {
                        set_key(r.key);
                        f.call1((r.value.0,)).map_err(|e| at_record(e, i))?;
                    }
                }
            }
            Ok(())
        })
    }

    /// Applies the timer changes the last call asked for, for `key`.
    fn apply_timer_changes(&mut self, ctx: &mut ProcessContext) {
        let Some(key) = ctx.key.clone() else {
            ctx.changes.clear();
            return;
        };
        for change in ctx.changes.drain(..) {
            if change.register {
                self.timers.register(change.domain, change.time, key.clone(), ());
            } else {
                self.timers.delete(change.domain, change.time, key.clone(), ());
            }
        }
    }

    /// Fires the timers of `domain` due at `now`, in time order; timers they register that are
    /// due fire too.
    fn fire_timers(&mut self, domain: TimeDomain, now: i64, out: &mut Output<PyValue>) -> OperatorResult {
        let Some(ctx) = self.ctx.as_ref().map(|c| Python::attach(|py| c.clone_ref(py))) else {
            return Ok(());
        };
        while let Some(timer) = self.timers.pop_due(domain, now) {
            let Some(on_timer) = self.on_timer.as_ref().map(|f| Python::attach(|py| f.clone_ref(py))) else {
                continue;
            };
            Python::attach(|py| {
                let ctx_obj = ctx.bind(py);
                {
                    let mut c = ctx_obj.borrow_mut();
                    c.key = Some(timer.key.clone());
                    c.timestamp = timer.time;
                    c.time_domain = Some(domain);
                }
                if let Some(state) = &self.state {
                    state.borrow_mut(py).current_key = Some(timer.key.clone());
                }
                // The function may be a generator: it runs while its results are taken, so the
                // context stays set until then.
                // As in Flink: results of an event-time timer carry the timer's time; those of a
                // processing-time timer no timestamp (wall-clock time is not event time).
                let timestamp = match domain {
                    TimeDomain::EventTime => timer.time,
                    TimeDomain::ProcessingTime => NO_TIMESTAMP,
                };
                let emitted = on_timer
                    .bind(py)
                    .call1((timer.time, ctx_obj))
                    .and_then(|result| self.emitter.emit_all(&result, timestamp, out, &self.function));
                ctx_obj.borrow_mut().time_domain = None;
                emitted.map_err(OperatorError::new)?;
                self.apply_timer_changes(&mut ctx_obj.borrow_mut());
                Ok::<_, OperatorError>(())
            })?;
        }
        Ok(())
    }
}

impl Operator<PyValue> for UdfOperator {
    fn open(&mut self, info: &TaskInfo) -> OperatorResult {
        if let Some(ctx) = &self.ctx {
            Python::attach(|py| ctx.bind(py).borrow_mut().clock = info.clock.clone());
        }
        self.max_parallelism = info.max_parallelism;
        if let Some(restore) = &info.restore {
            let key_groups = key_group_range(info.subtask_index, info.parallelism, info.max_parallelism);
            restore_timers(
                &restore.directories,
                key_groups,
                info.max_parallelism,
                &mut self.timers,
                |_| Ok(()),
            )
            .map_err(|e| OperatorError::new(e.to_string()))?;
        }
        self.udf.open()
    }

    fn snapshot_state(&mut self, ctx: &SnapshotContext<'_>) -> OperatorResult<SnapshotStats> {
        let mut stats = self.udf.snapshot(ctx, ctx.directory)?;
        if let Some(state) = &self.state {
            let keyed = Python::attach(|py| {
                let mut store = state
                    .try_borrow_mut(py)
                    .map_err(|e| OperatorError::new(e.to_string()))?;
                store
                    .checkpoint(py, ctx.directory, self.max_parallelism)
                    .map_err(OperatorError::new)
            })?;
            stats.add(keyed);
        }
        let timers =
            write_timers(ctx.directory, &self.timers, |_| Vec::new()).map_err(|e| OperatorError::new(e.to_string()))?;
        stats.add(SnapshotStats::full(timers));
        Ok(stats)
    }

    fn process_batch(
        &mut self,
        input: usize,
        batch: &mut Vec<Record<PyValue>>,
        out: &mut Output<PyValue>,
    ) -> OperatorResult {
        self.process_records(input, batch, out)
    }

    fn on_watermark(&mut self, watermark: i64, out: &mut Output<PyValue>) -> OperatorResult<Option<i64>> {
        if let Some(ctx) = &self.ctx {
            Python::attach(|py| ctx.bind(py).borrow_mut().watermark = watermark);
        }
        self.fire_timers(TimeDomain::EventTime, watermark, out)?;
        Ok(Some(watermark))
    }

    fn next_processing_time(&self) -> Option<i64> {
        self.timers.next_processing_time()
    }

    fn on_processing_time(&mut self, now: i64, out: &mut Output<PyValue>) -> OperatorResult {
        self.fire_timers(TimeDomain::ProcessingTime, now, out)
    }

    fn finish(&mut self, _out: &mut Output<PyValue>) -> OperatorResult {
        // A bounded input ends without firing processing-time timers (Flink's STREAMING mode);
        // the job reports how many there were.
        self.dropped_at_end.timers += self.timers.clear_processing() as u64;
        self.udf.finish()
    }

    fn dropped_at_end(&self) -> DroppedAtEnd {
        self.dropped_at_end
    }

    fn notify_checkpoint_complete(&mut self, checkpoint_id: u64) -> OperatorResult {
        self.udf.notify_checkpoint_complete(checkpoint_id)
    }

    fn close(&mut self) -> OperatorResult {
        let closed = self.udf.close();
        if let Some(state) = &self.state {
            Python::attach(|py| {
                if let Ok(mut store) = state.try_borrow_mut(py) {
                    store.release(py);
                }
            });
        }
        closed
    }
}
