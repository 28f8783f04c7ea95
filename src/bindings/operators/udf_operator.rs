//! The operator that calls user functions: map, flat_map, filter, process, the co-functions of
//! connected streams and Python sinks, keyed or not. One struct, because they differ only in how
//! a call's result becomes output.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::bindings::context::ProcessContext;
use crate::bindings::errors::at_record;
use crate::bindings::key::type_name;
use crate::bindings::udf::{Emitter, Udf};
use crate::bindings::value::PyValue;
use crate::runtime::operator::{Operator, OperatorError, OperatorResult, Output, TaskInfo};
use crate::runtime::record::Record;

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
    /// Name of the user method, for error messages (`MyFunction.flat_map`).
    function: String,
    emitter: Emitter,
    ctx: Option<Py<ProcessContext>>,
}

impl UdfOperator {
    pub fn new(
        style: CallStyle,
        udf: Udf,
        function: String,
        side_ports: Vec<(String, u32)>,
        keyed: bool,
    ) -> OperatorResult<Self> {
        let ctx = if style.uses_context() {
            Some(Python::attach(|py| Py::new(py, ProcessContext::new(keyed))).map_err(OperatorError::new)?)
        } else {
            None
        };
        Ok(UdfOperator {
            style,
            udf,
            function,
            emitter: Emitter::new(side_ports),
            ctx,
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
}

impl Operator<PyValue> for UdfOperator {
    fn open(&mut self, _info: &TaskInfo) -> OperatorResult {
        self.udf.open()
    }

    fn process_batch(
        &mut self,
        input: usize,
        batch: &mut Vec<Record<PyValue>>,
        out: &mut Output<PyValue>,
    ) -> OperatorResult {
        Python::attach(|py| {
            let f = self.udf.calls[input.min(self.udf.calls.len() - 1)].bind(py);
            match self.style {
                CallStyle::Map => {
                    out.main.reserve(batch.len());
                    for (i, r) in batch.drain(..).enumerate() {
                        let v = f.call1((r.value.0,)).map_err(|e| at_record(e, i))?;
                        out.main.push(Record::with_timestamp(PyValue(v.unbind()), r.timestamp));
                    }
                }
                CallStyle::Filter => {
                    for (i, r) in batch.drain(..).enumerate() {
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
                    let ctx = self.ctx.as_ref().expect("process-style operators have a context");
                    let ctx_obj = ctx.bind(py);
                    for (i, r) in batch.drain(..).enumerate() {
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
                    }
                }
                CallStyle::Sink => {
                    for (i, r) in batch.drain(..).enumerate() {
                        f.call1((r.value.0,)).map_err(|e| at_record(e, i))?;
                    }
                }
            }
            Ok(())
        })
    }

    fn on_watermark(&mut self, watermark: i64, _out: &mut Output<PyValue>) -> OperatorResult<Option<i64>> {
        if let Some(ctx) = &self.ctx {
            Python::attach(|py| ctx.bind(py).borrow_mut().watermark = watermark);
        }
        Ok(Some(watermark))
    }

    fn close(&mut self) -> OperatorResult {
        self.udf.close()
    }
}
