//! The context object process-style functions receive (`ctx` in `process_element(value, ctx)`),
//! which is also its own timer service.

use std::time::{SystemTime, UNIX_EPOCH};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::bindings::key::key_to_py;
use crate::runtime::key::Key;
use crate::runtime::record::NO_TIMESTAMP;

/// `ctx` of ProcessFunction / KeyedProcessFunction / CoProcessFunction. One per subtask, updated
/// before each call.
#[pyclass(module = "ferroflow._engine", name = "Context")]
pub struct ProcessContext {
    pub timestamp: i64,
    pub watermark: i64,
    pub key: Option<Key>,
    pub keyed: bool,
}

impl ProcessContext {
    pub fn new(keyed: bool) -> Self {
        ProcessContext {
            timestamp: NO_TIMESTAMP,
            watermark: i64::MIN,
            key: None,
            keyed,
        }
    }
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[pymethods]
impl ProcessContext {
    /// The timestamp of the current record, or None when it has none.
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

    /// The timer service: this context itself.
    fn timer_service(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn current_processing_time(&self) -> i64 {
        now_millis()
    }

    fn current_watermark(&self) -> i64 {
        self.watermark
    }

    fn register_event_time_timer(&self, _timestamp: i64) -> PyResult<()> {
        self.timers_unavailable()
    }

    fn register_processing_time_timer(&self, _timestamp: i64) -> PyResult<()> {
        self.timers_unavailable()
    }

    fn delete_event_time_timer(&self, _timestamp: i64) -> PyResult<()> {
        self.timers_unavailable()
    }

    fn delete_processing_time_timer(&self, _timestamp: i64) -> PyResult<()> {
        self.timers_unavailable()
    }
}

impl ProcessContext {
    fn timers_unavailable(&self) -> PyResult<()> {
        if self.keyed {
            Err(PyRuntimeError::new_err(
                "timers are not available in this version of ferroflow yet",
            ))
        } else {
            Err(PyRuntimeError::new_err(
                "timers are only supported on a keyed stream: use key_by(...).process(KeyedProcessFunction)",
            ))
        }
    }
}
