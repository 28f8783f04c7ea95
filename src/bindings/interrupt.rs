//! Stopping the Python code a job's task threads run, when the job is cancelled or failed.
//!
//! A task checks for cancellation between batches, but one batch of a slow user function can
//! take minutes. So the threads still running get an asynchronous `KeyboardInterrupt`, which
//! Python raises in them at their next bytecode: the function in progress stops after the call
//! it is in (a `time.sleep` finishes first), and the task ends with the job.

use std::os::raw::c_long;

use pyo3::prelude::*;

use crate::runtime::job::JobHandle;

/// Raises `KeyboardInterrupt` in the Python code of `job`'s running task threads.
pub fn interrupt_task_threads(py: Python<'_>, job: &JobHandle) {
    let exception = py.get_type::<pyo3::exceptions::PyKeyboardInterrupt>();
    for id in job.running_thread_ids() {
        // SAFETY: the interpreter is held (`py`); `exception` is a live type object. A thread
        // with no Python state is skipped by Python (the call returns 0).
        unsafe {
            pyo3::ffi::PyThreadState_SetAsyncExc(id as c_long, exception.as_ptr());
        }
    }
}
