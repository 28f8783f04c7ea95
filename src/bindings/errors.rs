//! Errors across the boundary: Python exceptions carried through the engine and back, and the
//! engine's own errors as Python exceptions.

use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::graph::stream_graph::GraphError;
use crate::runtime::job::{DeployError, JobError};
use crate::runtime::operator::OperatorError;
use crate::runtime::task::TaskFailure;

/// A Python exception raised while processing the record at `index` of the batch.
pub fn at_record(err: PyErr, index: usize) -> OperatorError {
    OperatorError::at_record(err, index)
}

/// The Python exception an operator error stands for: the user's own exception when it is one.
fn into_pyerr(error: OperatorError) -> PyErr {
    match error.cause.downcast::<PyErr>() {
        Ok(e) => *e,
        Err(other) => PyRuntimeError::new_err(other.to_string()),
    }
}

/// Adds a note to `err`: shown under the traceback from Python 3.11 on; before that it is in the
/// exception's `__notes__` list.
fn add_note(py: Python<'_>, err: &PyErr, note: String) {
    let value = err.value(py);
    if value.hasattr("add_note").unwrap_or(false) {
        let _ = value.call_method1("add_note", (note,));
        return;
    }
    let notes = match value.getattr("__notes__") {
        Ok(notes) => notes,
        Err(_) => {
            let list = PyList::empty(py).into_any();
            if value.setattr("__notes__", &list).is_err() {
                return;
            }
            list
        }
    };
    let _ = notes.call_method1("append", (note,));
}

pub fn graph_error(e: GraphError) -> PyErr {
    PyValueError::new_err(e.0)
}

pub fn deploy_error(py: Python<'_>, e: DeployError) -> PyErr {
    match e {
        DeployError::Graph(g) => graph_error(g),
        DeployError::Restore(message) => PyValueError::new_err(message),
        DeployError::Instantiate { operator, error } => {
            let err = into_pyerr(error);
            add_note(
                py,
                &err,
                format!("ferroflow: raised while setting up operator '{operator}'"),
            );
            err
        }
    }
}

/// The exception `execute()` raises for a job that did not end well: the user's exception
/// unchanged (type, message, traceback), with a note naming the operator and the record.
pub fn job_error(py: Python<'_>, e: JobError) -> PyErr {
    match e {
        JobError::Cancelled => PyKeyboardInterrupt::new_err("the job was cancelled"),
        JobError::Failed(TaskFailure::Stopped) => PyRuntimeError::new_err("the job stopped"),
        JobError::Failed(TaskFailure::Operator {
            operator,
            subtask_index,
            parallelism,
            record_index,
            error,
        }) => {
            let err = into_pyerr(error);
            let position = match record_index {
                Some(i) => format!(" while processing its record #{} (counting from 1)", i + 1),
                None => String::new(),
            };
            add_note(
                py,
                &err,
                format!(
                    "ferroflow: raised in operator '{operator}' (subtask {} of {parallelism}){position}",
                    subtask_index + 1
                ),
            );
            err
        }
    }
}
