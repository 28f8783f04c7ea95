//! A running job's metrics as Python values: one dict per task and subtask, with Flink's metric
//! names.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::metrics::task::JobMetrics;

/// One row per task and subtask: `task`, `subtask` (from 0), `parallelism`, `numRecordsIn`,
/// `numRecordsOut`, `numBytesOut`, `numBatchesOut`, `backPressuredTimeMs`, `busyTimeMs` (totals
/// since the task started) and `currentInputWatermark`/`currentOutputWatermark` (None before the
/// first watermark).
pub fn metrics_rows<'py>(py: Python<'py>, metrics: &JobMetrics) -> PyResult<Bound<'py, PyList>> {
    let rows = PyList::empty(py);
    for entry in &metrics.tasks {
        let m = entry.metrics.snapshot();
        let row = PyDict::new(py);
        row.set_item("task", &entry.task_name)?;
        row.set_item("subtask", entry.subtask_index)?;
        row.set_item("parallelism", entry.parallelism)?;
        row.set_item("numRecordsIn", m.records_in)?;
        row.set_item("numRecordsOut", m.records_out)?;
        row.set_item("numBytesOut", m.bytes_out)?;
        row.set_item("numBatchesOut", m.batches_out)?;
        row.set_item("backPressuredTimeMs", m.back_pressured.as_secs_f64() * 1000.0)?;
        row.set_item("busyTimeMs", m.busy.as_secs_f64() * 1000.0)?;
        row.set_item("currentInputWatermark", watermark(m.input_watermark))?;
        row.set_item("currentOutputWatermark", watermark(m.output_watermark))?;
        rows.append(row)?;
    }
    Ok(rows)
}

/// A watermark for Python: None before the first one.
fn watermark(w: i64) -> Option<i64> {
    (w != i64::MIN).then_some(w)
}
