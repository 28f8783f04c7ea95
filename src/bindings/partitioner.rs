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

impl RecordPartitioner<PyValue> for PyPartitioner {
    fn select(&mut self, record: &Record<PyValue>, channels: usize) -> OperatorResult<usize> {
        Python::attach(|py| {
            let key = self.key_selector.bind(py).call1((record.value.0.bind(py),))?;
            let chosen = self.partition.bind(py).call1((key, channels))?;
            chosen.extract::<i64>()
        })
        .map_err(OperatorError::new)
        .and_then(|c| {
            usize::try_from(c).map_err(|_| {
                OperatorError::new(format!(
                    "the partitioner returned {c}, but partitions are numbered 0..{channels}"
                ))
            })
        })
    }
}
