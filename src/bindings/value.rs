//! Python objects as the values a job carries.

use pyo3::prelude::*;

use crate::runtime::record::Data;

/// A Python object travelling through the engine. Moved, never cloned: fan-out takes a new
/// reference inside the interpreter scope.
#[derive(Debug)]
pub struct PyValue(pub Py<PyAny>);

impl Data for PyValue {
    fn duplicate(&self) -> Self {
        Python::attach(|py| PyValue(self.0.clone_ref(py)))
    }

    fn scope<R>(f: impl FnOnce() -> R) -> R {
        Python::attach(|_py| f())
    }

    fn run_thread<R>(f: impl FnOnce() -> R + Send) -> R
    where
        R: Send,
    {
        // Attach once for the thread's whole life and release the interpreter right away: the
        // thread keeps its Python thread state, so each per-batch `scope` only re-takes the
        // interpreter lock instead of creating and destroying a thread state.
        Python::attach(|py| py.detach(f))
    }
}
