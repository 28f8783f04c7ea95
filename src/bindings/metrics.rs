//! A job's metrics as Python values: one dict per task and subtask, with Flink's metric names.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::metrics::history::{unix_now, Sample, TaskView};

/// One row per task and subtask, read now (see [`view_row`]).
pub fn metrics_rows<'py>(py: Python<'py>, views: &[TaskView]) -> PyResult<Bound<'py, PyList>> {
    let now = unix_now();
    let rows = PyList::empty(py);
    for view in views {
        rows.append(view_row(py, view, now)?)?;
    }
    Ok(rows)
}

/// One row per sample, task and subtask, oldest first, each with its `time`.
pub fn history_rows<'py>(py: Python<'py>, samples: &[Sample]) -> PyResult<Bound<'py, PyList>> {
    let rows = PyList::empty(py);
    for sample in samples {
        for view in &sample.tasks {
            let row = view_row(py, view, sample.time)?;
            row.set_item("time", sample.time)?;
            row.set_item("run", sample.run)?;
            rows.append(row)?;
        }
    }
    Ok(rows)
}

/// A task's metrics at Unix time `now` (seconds):
/// - `task`, `subtask` (from 0), `parallelism`;
/// - totals since the run started: `numRecordsIn`, `numRecordsOut`, `numBytesOut`,
///   `numBatchesOut`, `backPressuredTimeMs`, `busyTimeMs`, `idleTimeMs`, and the operators'
///   counters (`numLateRecordsDropped`, ...);
/// - rates over the last sample interval: `numRecordsInPerSecond`, `numRecordsOutPerSecond`,
///   `busyTimeMsPerSecond`, `idleTimeMsPerSecond`, `backPressuredTimeMsPerSecond`;
/// - `currentInputWatermark`, `currentOutputWatermark` (None before the first),
///   `watermarkLagMs` (wall clock minus the output watermark);
/// - `inPoolUsage`, `outPoolUsage` (0 to 1: the fullest input and output channel);
/// - `latencyP50Ms`, `latencyP95Ms`, `latencyP99Ms`: from the source to this task, None without
///   records that carried their origin;
/// - `sourceRecordsTotal`: the records the task's source will read, when it knows;
/// - `operators`: `{"operator", "numRecordsIn", "numRecordsOut"}` per chained operator;
/// - `user`: the metrics the task's functions defined, by dotted name.
fn view_row<'py>(py: Python<'py>, view: &TaskView, now: f64) -> PyResult<Bound<'py, PyDict>> {
    let m = &view.totals;
    let row = PyDict::new(py);
    row.set_item("task", &view.task_name)?;
    row.set_item("subtask", view.subtask_index)?;
    row.set_item("parallelism", view.parallelism)?;
    row.set_item("numRecordsIn", m.records_in)?;
    row.set_item("numRecordsOut", m.records_out)?;
    row.set_item("numBytesOut", m.bytes_out)?;
    row.set_item("numBatchesOut", m.batches_out)?;
    row.set_item("backPressuredTimeMs", m.back_pressured.as_secs_f64() * 1000.0)?;
    row.set_item("busyTimeMs", m.busy.as_secs_f64() * 1000.0)?;
    row.set_item("idleTimeMs", m.idle.as_secs_f64() * 1000.0)?;
    let r = &view.rates;
    row.set_item("numRecordsInPerSecond", r.records_in)?;
    row.set_item("numRecordsOutPerSecond", r.records_out)?;
    row.set_item("busyTimeMsPerSecond", r.busy_ms)?;
    row.set_item("idleTimeMsPerSecond", r.idle_ms)?;
    row.set_item("backPressuredTimeMsPerSecond", r.back_pressured_ms)?;
    row.set_item("currentInputWatermark", watermark(m.input_watermark))?;
    row.set_item("currentOutputWatermark", watermark(m.output_watermark))?;
    let lag = watermark(m.output_watermark)
        .filter(|w| *w != i64::MAX)
        .map(|w| now * 1000.0 - w as f64);
    row.set_item("watermarkLagMs", lag)?;
    row.set_item("inPoolUsage", view.in_pool_usage)?;
    row.set_item("outPoolUsage", view.out_pool_usage)?;
    let latency = view.latency;
    row.set_item("latencyP50Ms", latency.map(|p| p.p50))?;
    row.set_item("latencyP95Ms", latency.map(|p| p.p95))?;
    row.set_item("latencyP99Ms", latency.map(|p| p.p99))?;
    row.set_item("sourceRecordsTotal", view.source_total)?;
    row.set_item("numLateRecordsDropped", 0u64)?;
    for (name, value) in &view.counters {
        row.set_item(*name, value)?;
    }
    let operators = PyList::empty(py);
    for o in &view.operators {
        let d = PyDict::new(py);
        d.set_item("operator", &o.name)?;
        d.set_item("numRecordsIn", o.records_in)?;
        d.set_item("numRecordsOut", o.records_out)?;
        operators.append(d)?;
    }
    row.set_item("operators", operators)?;
    let user = PyDict::new(py);
    for (name, value) in &view.user {
        user.set_item(name, value)?;
    }
    row.set_item("user", user)?;
    Ok(row)
}

/// A watermark for Python: None before the first one.
fn watermark(w: i64) -> Option<i64> {
    (w != i64::MIN).then_some(w)
}
