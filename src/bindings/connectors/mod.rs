//! Adapters of the file connectors (`crate::connectors::file_source`, `file_sink`) to Python
//! values: the specs the Python API builds, lines as `str`, records written as `str(value)`, and
//! the connectors' errors as Python exceptions.

pub mod file_sink;
pub mod file_source;

use pyo3::exceptions::{
    PyFileNotFoundError, PyOSError, PyPermissionError, PyRuntimeError, PyUnicodeError, PyValueError,
};
use pyo3::prelude::*;

use crate::connectors::charset::Charset;
use crate::connectors::file_error::FileError;
use crate::connectors::file_sink::bucket_assigner::DateTimeFormat;
use crate::connectors::file_sink::time_zone::TimeZone;
use crate::runtime::operator::OperatorError;

/// A file connector's error as the Python exception a user expects (FileNotFoundError,
/// PermissionError, OSError, UnicodeError, RuntimeError for unusable checkpoint state); other
/// errors pass unchanged.
pub fn python_error(error: OperatorError) -> OperatorError {
    let OperatorError {
        cause,
        record_in_batch,
        operator_name,
    } = error;
    let cause: Box<dyn std::error::Error + Send + Sync> = match cause.downcast::<FileError>() {
        Ok(e) => {
            let message = e.to_string();
            let err = match (e.io_kind(), *e) {
                (Some(std::io::ErrorKind::NotFound), _) => PyFileNotFoundError::new_err(message),
                (Some(std::io::ErrorKind::PermissionDenied), _) => PyPermissionError::new_err(message),
                (Some(_), _) => PyOSError::new_err(message),
                (None, FileError::Decode { .. } | FileError::Encode(_)) => PyUnicodeError::new_err(message),
                (None, _) => PyRuntimeError::new_err(message),
            };
            Box::new(err)
        }
        Err(other) => other,
    };
    OperatorError {
        cause,
        record_in_batch,
        operator_name,
    }
}

/// The charset a file connector reads or writes by this name.
pub fn charset(name: &str) -> PyResult<Charset> {
    Charset::parse(name).ok_or_else(|| {
        PyValueError::new_err(format!(
            "the charset '{name}' is not supported by the file connectors: use 'UTF-8', 'US-ASCII' or 'ISO-8859-1'"
        ))
    })
}

/// The time zone of a Java zone id; the system's when None.
pub fn time_zone(id: Option<&str>) -> PyResult<TimeZone> {
    match id {
        None => Ok(TimeZone::local()),
        Some(id) => TimeZone::of_id(id).map_err(PyValueError::new_err),
    }
}

/// Checks a charset name; returns its canonical name (`"UTF-8"`, ...).
#[pyfunction]
pub fn file_connector_charset(name: &str) -> PyResult<&'static str> {
    Ok(charset(name)?.name())
}

/// Checks the arguments of `BucketAssigner.date_time_bucket_assigner`.
#[pyfunction]
#[pyo3(signature = (format_str, timezone_id=None))]
pub fn check_date_time_bucket_assigner(format_str: &str, timezone_id: Option<&str>) -> PyResult<()> {
    DateTimeFormat::parse(format_str).map_err(PyValueError::new_err)?;
    time_zone(timezone_id)?;
    Ok(())
}
