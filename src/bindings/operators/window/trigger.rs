//! Custom triggers written in Python, and the built-in triggers of window specs.

use pyo3::exceptions::PyNotImplementedError;
use pyo3::prelude::*;

use crate::bindings::state::{StateStore, StateView};
use crate::bindings::value::PyValue;
use crate::runtime::operator::{OperatorError, OperatorResult};
use crate::state::keyed::Namespace;
use crate::time::timer_service::TimeDomain;
use crate::window::trigger::{CustomTrigger, TriggerContext, TriggerResult};
use crate::window::window::Window;

use super::window_to_py;

/// `ctx` of a custom Trigger's methods.
#[pyclass(module = "ferroflow._engine", name = "TriggerContext")]
pub struct PyTriggerContext {
    watermark: i64,
    processing_time: i64,
    requests: Vec<(TimeDomain, i64, bool)>,
    /// The window being decided about, and the window operator's keyed state.
    window: Window,
    state: Py<StateStore>,
}

#[pymethods]
impl PyTriggerContext {
    fn get_current_processing_time(&self) -> i64 {
        self.processing_time
    }

    fn get_current_watermark(&self) -> i64 {
        self.watermark
    }

    fn register_processing_time_timer(&mut self, time: i64) {
        self.requests.push((TimeDomain::ProcessingTime, time, true));
    }

    fn register_event_time_timer(&mut self, time: i64) {
        self.requests.push((TimeDomain::EventTime, time, true));
    }

    fn delete_processing_time_timer(&mut self, time: i64) {
        self.requests.push((TimeDomain::ProcessingTime, time, false));
    }

    fn delete_event_time_timer(&mut self, time: i64) {
        self.requests.push((TimeDomain::EventTime, time, false));
    }

    /// State of the current key in the current window (e.g. a count of elements).
    fn get_partitioned_state(&self, py: Python<'_>, state_descriptor: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        StateView {
            store: self.state.clone_ref(py),
            namespace: Namespace::Window(self.window),
        }
        .get_any(py, state_descriptor)
    }

    #[pyo3(signature = (*_args))]
    fn merge_partitioned_state(&self, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<()> {
        Err(PyNotImplementedError::new_err(
            "merge_partitioned_state() is not available in this version of ferroflow yet",
        ))
    }
}

/// A user's Trigger subclass.
pub struct PyTrigger {
    trigger: Py<PyAny>,
    can_merge: bool,
    state: Py<StateStore>,
}

impl PyTrigger {
    pub fn new(trigger: Py<PyAny>, state: Py<StateStore>) -> PyResult<Self> {
        let can_merge = Python::attach(|py| trigger.bind(py).call_method0("can_merge")?.is_truthy())?;
        Ok(PyTrigger {
            trigger,
            can_merge,
            state,
        })
    }
}

fn to_result(result: &Bound<'_, PyAny>) -> PyResult<TriggerResult> {
    let fire = result.call_method0("is_fire")?.is_truthy()?;
    let purge = result.call_method0("is_purge")?.is_truthy()?;
    Ok(match (fire, purge) {
        (true, true) => TriggerResult::FireAndPurge,
        (true, false) => TriggerResult::Fire,
        (false, true) => TriggerResult::Purge,
        (false, false) => TriggerResult::Continue,
    })
}

impl PyTrigger {
    /// Runs `f` with a Python trigger context, then passes on the timers it asked for.
    fn with_context<R>(
        &self,
        window: &Window,
        ctx: &mut TriggerContext,
        f: impl FnOnce(Python<'_>, &Bound<'_, PyAny>, &Bound<'_, PyTriggerContext>) -> PyResult<R>,
    ) -> OperatorResult<R> {
        Python::attach(|py| {
            self.state.borrow_mut(py).current_key = ctx.key.clone();
            let py_ctx = Bound::new(
                py,
                PyTriggerContext {
                    watermark: ctx.watermark,
                    processing_time: ctx.processing_time,
                    requests: Vec::new(),
                    window: *window,
                    state: self.state.clone_ref(py),
                },
            )?;
            let result = f(py, self.trigger.bind(py), &py_ctx)?;
            for (domain, time, register) in py_ctx.borrow_mut().requests.drain(..) {
                if register {
                    ctx.register(domain, time);
                } else {
                    ctx.delete(domain, time);
                }
            }
            Ok::<_, PyErr>(result)
        })
        .map_err(OperatorError::new)
    }
}

impl CustomTrigger<PyValue> for PyTrigger {
    fn on_element(
        &mut self,
        value: &PyValue,
        timestamp: i64,
        window: &Window,
        ctx: &mut TriggerContext,
    ) -> OperatorResult<TriggerResult> {
        self.with_context(window, ctx, |py, t, c| {
            let w = window_to_py(py, window)?;
            to_result(&t.call_method1("on_element", (value.0.bind(py), timestamp, w, c))?)
        })
    }

    fn on_event_time(&mut self, time: i64, window: &Window, ctx: &mut TriggerContext) -> OperatorResult<TriggerResult> {
        self.with_context(window, ctx, |py, t, c| {
            let w = window_to_py(py, window)?;
            to_result(&t.call_method1("on_event_time", (time, w, c))?)
        })
    }

    fn on_processing_time(
        &mut self,
        time: i64,
        window: &Window,
        ctx: &mut TriggerContext,
    ) -> OperatorResult<TriggerResult> {
        self.with_context(window, ctx, |py, t, c| {
            let w = window_to_py(py, window)?;
            to_result(&t.call_method1("on_processing_time", (time, w, c))?)
        })
    }

    fn can_merge(&self) -> bool {
        self.can_merge
    }

    fn on_merge(&mut self, window: &Window, ctx: &mut TriggerContext) -> OperatorResult {
        self.with_context(window, ctx, |py, t, c| {
            let w = window_to_py(py, window)?;
            t.call_method1("on_merge", (w, c)).map(drop)
        })
    }

    fn clear(&mut self, window: &Window, ctx: &mut TriggerContext) -> OperatorResult {
        self.with_context(window, ctx, |py, t, c| {
            let w = window_to_py(py, window)?;
            t.call_method1("clear", (w, c)).map(drop)
        })
    }
}

/// The trigger a trigger spec tuple describes. `state`: the window operator's keyed state, for a
/// Python trigger's partitioned state.
pub fn parse_trigger(
    spec: &Bound<'_, PyAny>,
    state: &Py<StateStore>,
) -> PyResult<crate::window::operator::WindowTrigger<PyValue>> {
    use crate::window::operator::WindowTrigger;
    if spec.get_item(0)?.extract::<String>()? == "python" {
        let state = state.clone_ref(spec.py());
        // Each subtask its own copy: attributes of the trigger are per subtask.
        let trigger = spec
            .py()
            .import("ferroflow.datastream._udf")?
            .getattr("subtask_copy")?
            .call1((spec.get_item(1)?,))?;
        return Ok(WindowTrigger::Custom(Box::new(PyTrigger::new(
            trigger.unbind(),
            state,
        )?)));
    }
    Ok(WindowTrigger::BuiltIn(parse_builtin_trigger(spec)?))
}

fn parse_builtin_trigger(spec: &Bound<'_, PyAny>) -> PyResult<crate::window::trigger::Trigger> {
    use crate::window::trigger::Trigger;
    let kind: String = spec.get_item(0)?.extract()?;
    Ok(match kind.as_str() {
        "event_time" => Trigger::EventTime,
        "processing_time" => Trigger::ProcessingTime,
        "count" => Trigger::Count(spec.get_item(1)?.extract()?),
        "continuous_event_time" => Trigger::ContinuousEventTime(spec.get_item(1)?.extract()?),
        "continuous_processing_time" => Trigger::ContinuousProcessingTime(spec.get_item(1)?.extract()?),
        "never" => Trigger::Never,
        "purging" => {
            let inner = spec.get_item(1)?;
            if inner.get_item(0)?.extract::<String>()? == "python" {
                return Err(pyo3::exceptions::PyValueError::new_err(
                    "PurgingTrigger.of(...) takes a built-in trigger; a custom trigger can return \
                     TriggerResult.FIRE_AND_PURGE itself",
                ));
            }
            Trigger::Purging(Box::new(parse_builtin_trigger(&inner)?))
        }
        other => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "unknown trigger '{other}'"
            )))
        }
    })
}
