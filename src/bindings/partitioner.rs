//! `partition_custom(partitioner, key_selector)`: the user's partitioner chooses the receiving
//! subtask from the key the selector extracts.

use pyo3::prelude::*;

use crate::bindings::value::PyValue;
use crate::runtime::operator::{OperatorError, OperatorResult};
use crate::runtime::partitioner::RecordPartitioner;
use crate::runtime::record::Record;

pub struct PyPartitioner {
    /// `partition(key, num_partitions) -> int`.
    pub partition: Py<PyAny>,
    pub key_selector: Py<PyAny>,
}

impl PyPartitioner {
    /// An error of the custom partitioning step, named as the place it happened (not the
    /// operator upstream of the exchange, whose output it was routing).
    fn failed(&self, py: Python<'_>, in_selector: bool, error: impl Into<OperatorError>) -> OperatorError {
        let (what, function) = if in_selector {
            ("key selector", &self.key_selector)
        } else {
            ("partitioner", &self.partition)
        };
        let mut error = error.into();
        error.operator_name = Some(format!("partition_custom {what} {}", function_name(function.bind(py))));
        error
    }
}

/// `'name'` of a function, a bound method or a callable object, as the user wrote it.
fn function_name(f: &Bound<'_, PyAny>) -> String {
    let name = f
        .getattr("__qualname__")
        .or_else(|_| f.get_type().getattr("__qualname__"))
        .and_then(|n| n.extract::<String>())
        .unwrap_or_else(|_| "?".to_string());
    format!("'{name}'")
}

impl RecordPartitioner<PyValue> for PyPartitioner {
    fn select(&mut self, record: &Record<PyValue>, channels: usize) -> OperatorResult<usize> {
        Python::attach(|py| {
            let key = self
                .key_selector
                .bind(py)
                .call1((record.value.0.bind(py),))
                .map_err(|e| self.failed(py, true, OperatorError::new(e)))?;
            let chosen = self
                .partition
                .bind(py)
                .call1((key, channels))
                .and_then(|c| c.extract::<i64>())
                .map_err(|e| self.failed(py, false, OperatorError::new(e)))?;
            match usize::try_from(chosen) {
                Ok(c) if c < channels => Ok(c),
                _ => Err(self.failed(
                    py,
                    false,
                    OperatorError::new(format!(
                        "the partitioner returned {chosen}, but there are {channels} partitions \
                         (expected a number in 0..{channels})"
                    )),
                )),
            }
        })
    }
}
