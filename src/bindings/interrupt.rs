//! Stopping the Python code a job's task threads run, when the job is cancelled or failed.
//!
//! A task checks for cancellation between batches, but one batch of a slow user function can
//! take minutes. So the threads still running get an asynchronous `KeyboardInterrupt`, which
//! Python raises in them at their next bytecode: the function in progress stops after the call
//! it is in (a `time.sleep` finishes first), and the task ends with the job.
//!
//! A function's `close()` must still run in full, as in Flink: a thread running one is left
//! alone ([`closing`]), and an interrupt queued before it started is discarded.

use std::collections::HashSet;
use std::os::raw::c_long;
use std::sync::{Mutex, PoisonError};

use pyo3::prelude::*;

use crate::runtime::job_handle::JobHandle;

/// The threads (Python thread ids) running a user function's `close()`.
static CLOSING: Mutex<Option<HashSet<u64>>> = Mutex::new(None);

/// Python's id of the calling thread (`threading.get_ident()`).
fn current_thread_id(py: Python<'_>) -> PyResult<u64> {
    py.import("_thread")?.call_method0("get_ident")?.extract()
}

/// Raises `KeyboardInterrupt` in the Python code of `job`'s running task threads, except those
/// running a `close()`.
pub fn interrupt_task_threads(py: Python<'_>, job: &JobHandle) {
    let closing = CLOSING.lock().unwrap_or_else(PoisonError::into_inner);
    for id in job.running_thread_ids() {
        if closing.as_ref().is_some_and(|c| c.contains(&id)) {
            continue;
        }
        interrupt_thread(py, id);
    }
}

/// Raises `KeyboardInterrupt` in the Python code the thread `id` (`threading.get_ident()`)
/// runs, at its next bytecode.
pub fn interrupt_thread(py: Python<'_>, id: u64) {
    let exception = py.get_type::<pyo3::exceptions::PyKeyboardInterrupt>();
    // SAFETY: the interpreter is held (`py`); `exception` is a live type object. A thread with
    // no Python state is skipped by Python (the call returns 0).
    unsafe {
        pyo3::ffi::PyThreadState_SetAsyncExc(id as c_long, exception.as_ptr());
    }
}

/// Runs `close` (a user function's `close()`) safe from interrupts: one queued for this thread
/// is discarded, and none is sent while it runs.
pub fn closing<R>(py: Python<'_>, close: impl FnOnce() -> PyResult<R>) -> PyResult<R> {
    let id = current_thread_id(py)?;
    {
        let mut set = CLOSING.lock().unwrap_or_else(PoisonError::into_inner);
        set.get_or_insert_with(HashSet::new).insert(id);
        // SAFETY: the interpreter is held (`py`); a null exception clears this thread's
        // pending asynchronous exception.
        unsafe {
            pyo3::ffi::PyThreadState_SetAsyncExc(id as c_long, std::ptr::null_mut());
        }
    }
    let result = close();
    if let Some(set) = CLOSING.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
        set.remove(&id);
    }
    result
}
