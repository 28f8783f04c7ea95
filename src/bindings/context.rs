//! The context object process-style functions receive (`ctx` in `process_element(value, ctx)`
//! and `on_timer(timestamp, ctx)`), which is also its own timer service.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::bindings::key::key_to_py;
use crate::runtime::key::Key;
use crate::runtime::record::NO_TIMESTAMP;
use crate::time::clock::Clock;
use crate::time::timer_service::TimeDomain;

static TIME_DOMAIN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// A timer registration or deletion asked for during one call, for the current key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerChange {
    pub domain: TimeDomain,
    pub time: i64,
    pub register: bool,
}

/// `ctx` of ProcessFunction / KeyedProcessFunction / CoProcessFunction and their keyed
/// variants. One per subtask, updated before each call.
#[pyclass(module = "ferroflow._engine", name = "Context")]
pub struct ProcessContext {
    pub timestamp: i64,
    pub watermark: i64,
    pub key: Option<Key>,
    pub keyed: bool,
    /// Set while `on_timer` runs.
    pub time_domain: Option<TimeDomain>,
    pub clock: Clock,
    /// Timer changes asked for during the current call.
    pub changes: Vec<TimerChange>,
}

impl ProcessContext {
    pub fn new(keyed: bool, clock: Clock) -> Self {
        ProcessContext {
            timestamp: NO_TIMESTAMP,
            watermark: i64::MIN,
            key: None,
            keyed,
            time_domain: None,
            clock,
            changes: Vec::new(),
        }
    }

    fn change(&mut self, domain: TimeDomain, time: i64, register: bool) -> PyResult<()> {
        if !self.keyed {
            return Err(PyRuntimeError::new_err(
                "timers are only supported on a keyed stream: use key_by(...).process(KeyedProcessFunction)",
            ));
        }
        self.changes.push(TimerChange { domain, time, register });
        Ok(())
    }
}

#[pymethods]
impl ProcessContext {
    /// The timestamp of the current record (or of the firing timer), or None when it has none.
    fn timestamp(&self) -> Option<i64> {
        (self.timestamp != NO_TIMESTAMP).then_some(self.timestamp)
    }

    /// The key of the current record (keyed streams only).
    fn get_current_key<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.key {
            Some(k) => key_to_py(py, k),
            None if self.keyed => Ok(py.None().into_bound(py)),
            None => Err(PyRuntimeError::new_err(
                "get_current_key() is only available on a keyed stream: use key_by(...) first",
            )),
        }
    }

    /// In `on_timer`: whether an event-time or a processing-time timer fired.
    fn time_domain<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let Some(domain) = self.time_domain else {
            return Err(PyRuntimeError::new_err("time_domain() is only available in on_timer"));
        };
        let enum_type = TIME_DOMAIN.import(py, "ferroflow.datastream.time_domain", "TimeDomain")?;
        enum_type.call1((if domain == TimeDomain::EventTime { 0 } else { 1 },))
    }

    /// The timer service: this context itself.
    fn timer_service(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn current_processing_time(&self) -> i64 {
        self.clock.now()
    }

    /// The current watermark (-2**63 before the first).
    fn current_watermark(&self) -> i64 {
        self.watermark
    }

    fn register_event_time_timer(&mut self, timestamp: i64) -> PyResult<()> {
        self.change(TimeDomain::EventTime, timestamp, true)
    }

    fn register_processing_time_timer(&mut self, timestamp: i64) -> PyResult<()> {
        self.change(TimeDomain::ProcessingTime, timestamp, true)
    }

    fn delete_event_time_timer(&mut self, timestamp: i64) -> PyResult<()> {
        self.change(TimeDomain::EventTime, timestamp, false)
    }

    fn delete_processing_time_timer(&mut self, timestamp: i64) -> PyResult<()> {
        self.change(TimeDomain::ProcessingTime, timestamp, false)
    }
}
