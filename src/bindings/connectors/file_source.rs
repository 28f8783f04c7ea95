//! `FileSource` for Python: lines become `str` values.

use std::path::PathBuf;
use std::time::Instant;

use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::bindings::connectors::{charset, python_error};
use crate::bindings::value::PyValue;
use crate::checkpoint::{SnapshotContext, SnapshotStats};
use crate::connectors::file_source::{FileSource, FileSourceConfig, LineConverter, Lines};
use crate::graph::stream_graph::SourceFactory;
use crate::runtime::operator::{OperatorError, OperatorResult, Output, Source, SourceStatus, TaskInfo};
use crate::runtime::record::Record;

/// What `FileSource` (python/ferroflow/datastream/connectors/_file_source.py) hands over, read by
/// attribute name.
#[derive(FromPyObject)]
pub struct FileSourceSpec {
    /// Absolute paths of files and directories.
    pub paths: Vec<String>,
    /// Unbounded with this discovery interval; bounded when None.
    pub monitor_interval_ms: Option<i64>,
    pub charset: String,
}

impl FileSourceSpec {
    pub fn config(&self) -> PyResult<FileSourceConfig> {
        Ok(FileSourceConfig {
            paths: self.paths.iter().map(PathBuf::from).collect(),
            monitor_interval_ms: self.monitor_interval_ms,
            charset: charset(&self.charset)?,
        })
    }
}

/// Each line a Python `str`.
pub struct PyLines;

impl LineConverter<PyValue> for PyLines {
    fn emit(&mut self, lines: &Lines, out: &mut Output<PyValue>) -> OperatorResult {
        Python::attach(|py| {
            for line in lines.iter() {
                out.emit(Record::new(PyValue(PyString::new(py, line).into_any().unbind())));
            }
        });
        Ok(())
    }
}

/// The file source with its errors as Python exceptions.
pub struct PyFileSource(FileSource<PyValue, PyLines>);

impl Source<PyValue> for PyFileSource {
    fn open(&mut self, info: &TaskInfo) -> OperatorResult {
        self.0.open(info).map_err(python_error)
    }

    fn poll_batch(&mut self, max: usize, deadline: Instant, out: &mut Output<PyValue>) -> OperatorResult<SourceStatus> {
        self.0.poll_batch(max, deadline, out).map_err(python_error)
    }

    fn snapshot_state(&mut self, ctx: &SnapshotContext<'_>) -> OperatorResult<SnapshotStats> {
        self.0.snapshot_state(ctx).map_err(python_error)
    }

    fn notify_checkpoint_complete(&mut self, checkpoint_id: u64) -> OperatorResult {
        self.0.notify_checkpoint_complete(checkpoint_id).map_err(python_error)
    }

    fn close(&mut self) -> OperatorResult {
        self.0.close().map_err(python_error)
    }
}

/// Makes the source of each subtask.
pub fn file_source_factory(spec: &FileSourceSpec) -> PyResult<SourceFactory<PyValue>> {
    let config = spec.config()?;
    Ok(Box::new(move |_: &TaskInfo| {
        Ok::<Box<dyn Source<PyValue>>, OperatorError>(Box::new(PyFileSource(FileSource::new(config.clone(), PyLines))))
    }))
}
