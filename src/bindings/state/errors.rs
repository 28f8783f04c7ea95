//! Python exceptions for state errors of the engine.

use pyo3::exceptions::{PyOSError, PyTypeError, PyValueError};
use pyo3::PyErr;

use crate::state::snapshot::SnapshotError;

pub fn snapshot_error(e: SnapshotError) -> PyErr {
    match e {
        SnapshotError::Io { ref error, .. } => PyOSError::new_err((error.raw_os_error().unwrap_or(0), e.to_string())),
        SnapshotError::Value { .. } => PyTypeError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}
