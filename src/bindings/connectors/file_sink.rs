//! `FileSink` for Python: each value written as `str(value)` (or the stream's type's format, as
//! `print()` shows it) and a newline, in the encoder's charset.

use std::path::PathBuf;

use pyo3::exceptions::{PyUnicodeEncodeError, PyValueError};
use pyo3::prelude::*;

use crate::bindings::connectors::{charset, python_error, time_zone};
use crate::bindings::errors::at_record;
use crate::bindings::value::PyValue;
use crate::checkpoint::{SnapshotContext, SnapshotStats};
use crate::connectors::charset::Charset;
use crate::connectors::file_sink::bucket_assigner::DateTimeFormat;
use crate::connectors::file_sink::{BucketAssigner, EncodedRows, FileSink, FileSinkConfig, RollingPolicy, RowEncoder};
use crate::graph::stream_graph::OperatorFactory;
use crate::runtime::operator::{Operator, OperatorError, OperatorResult, Output, TaskInfo};
use crate::runtime::record::Record;

/// What `FileSink` (python/ferroflow/datastream/connectors/_file_sink.py) hands over, read by
/// attribute name.
#[derive(FromPyObject)]
pub struct FileSinkSpec {
    pub base_path: String,
    /// The encoder's charset.
    pub charset: String,
    /// `format_value(value) -> str` of the stream's type; `str()` when None.
    pub formatter: Option<Py<PyAny>>,
    /// "base_path" or "date_time".
    pub bucket_assigner: String,
    pub date_time_format: String,
    pub timezone_id: Option<String>,
    /// "default" or "on_checkpoint".
    pub rolling_policy: String,
    pub part_size: u64,
    pub rollover_interval_ms: i64,
    pub inactivity_interval_ms: i64,
    pub part_prefix: String,
    pub part_suffix: String,
    pub bucket_check_interval_ms: i64,
}

impl FileSinkSpec {
    /// The engine's configuration; `checkpointing` says whether the job checkpoints (without,
    /// the sink commits at the end of its input).
    pub fn config(&self, checkpointing: bool) -> PyResult<FileSinkConfig> {
        let assigner = match self.bucket_assigner.as_str() {
            "base_path" => BucketAssigner::BasePath,
            "date_time" => BucketAssigner::DateTime {
                format: DateTimeFormat::parse(&self.date_time_format).map_err(PyValueError::new_err)?,
                zone: time_zone(self.timezone_id.as_deref())?,
            },
            other => return Err(PyValueError::new_err(format!("unknown bucket assigner '{other}'"))),
        };
        let rolling = match self.rolling_policy.as_str() {
            "default" => RollingPolicy::Default {
                part_size: self.part_size,
                rollover_interval_ms: self.rollover_interval_ms,
                inactivity_interval_ms: self.inactivity_interval_ms,
            },
            "on_checkpoint" => RollingPolicy::OnCheckpoint,
            other => return Err(PyValueError::new_err(format!("unknown rolling policy '{other}'"))),
        };
        Ok(FileSinkConfig {
            base_path: PathBuf::from(&self.base_path),
            assigner,
            rolling,
            part_prefix: self.part_prefix.clone(),
            part_suffix: self.part_suffix.clone(),
            bucket_check_interval_ms: self.bucket_check_interval_ms,
            commit_on_finish: !checkpointing,
        })
    }
}

/// `Encoder.simple_string_encoder`: the text of each value and a newline.
pub struct PyStringEncoder {
    charset: Charset,
    formatter: Option<Py<PyAny>>,
}

impl RowEncoder<PyValue> for PyStringEncoder {
    fn encode(&mut self, batch: &mut Vec<Record<PyValue>>, rows: &mut EncodedRows) -> OperatorResult {
        Python::attach(|py| {
            for (i, r) in batch.drain(..).enumerate() {
                let value = r.value.0.bind(py);
                let text = match &self.formatter {
                    Some(f) => f.bind(py).call1((value,)).and_then(|s| s.str()),
                    None => value.str(),
                }
                .map_err(|e| at_record(e, i))?;
                let text = text.to_str().map_err(|e| at_record(e, i))?;
                self.charset.encode_into(text, &mut rows.bytes).map_err(|e| {
                    at_record(
                        PyUnicodeEncodeError::new_err(format!("FileSink: {e} (the value's text is {text:?})")),
                        i,
                    )
                })?;
                rows.bytes.push(b'\n');
                rows.end_row();
            }
            Ok(())
        })
    }
}

/// The file sink with its errors as Python exceptions.
pub struct PyFileSink(FileSink<PyValue, PyStringEncoder>);

impl Operator<PyValue> for PyFileSink {
    fn open(&mut self, info: &TaskInfo) -> OperatorResult {
        self.0.open(info).map_err(python_error)
    }

    fn process_batch(
        &mut self,
        input: usize,
        batch: &mut Vec<Record<PyValue>>,
        out: &mut Output<PyValue>,
    ) -> OperatorResult {
        self.0.process_batch(input, batch, out).map_err(python_error)
    }

    fn next_processing_time(&self) -> Option<i64> {
        self.0.next_processing_time()
    }

    fn on_processing_time(&mut self, now: i64, out: &mut Output<PyValue>) -> OperatorResult {
        self.0.on_processing_time(now, out).map_err(python_error)
    }

    fn metrics(&self) -> Vec<(&'static str, u64)> {
        self.0.metrics()
    }

    fn snapshot_state(&mut self, ctx: &SnapshotContext<'_>) -> OperatorResult<SnapshotStats> {
        self.0.snapshot_state(ctx).map_err(python_error)
    }

    fn notify_checkpoint_complete(&mut self, checkpoint_id: u64) -> OperatorResult {
        self.0.notify_checkpoint_complete(checkpoint_id).map_err(python_error)
    }

    fn finish(&mut self, out: &mut Output<PyValue>) -> OperatorResult {
        self.0.finish(out).map_err(python_error)
    }

    fn close(&mut self) -> OperatorResult {
        self.0.close().map_err(python_error)
    }
}

/// Makes the sink of each subtask.
pub fn file_sink_factory(spec: &FileSinkSpec, checkpointing: bool) -> PyResult<OperatorFactory<PyValue>> {
    let config = spec.config(checkpointing)?;
    let charset = charset(&spec.charset)?;
    let formatter = spec.formatter.as_ref().map(|f| Python::attach(|py| f.clone_ref(py)));
    Ok(Box::new(move |_: &TaskInfo| {
        let formatter = formatter.as_ref().map(|f| Python::attach(|py| f.clone_ref(py)));
        let encoder = PyStringEncoder { charset, formatter };
        Ok::<Box<dyn Operator<PyValue>>, OperatorError>(Box::new(PyFileSink(FileSink::new(config.clone(), encoder))))
    }))
}
