//! User functions: instantiating them per subtask, their lifecycle, and turning what they return
//! into records (including side outputs).

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyTuple, PyType};

use crate::bindings::interrupt::closing;
use crate::bindings::key::type_name;
use std::path::{Path, PathBuf};

use crate::bindings::state::{OperatorStateStore, StateView};
use crate::bindings::user_metrics::MetricGroup;
use crate::bindings::value::PyValue;
use crate::checkpoint::{SnapshotContext, SnapshotStats};
use crate::runtime::operator::{OperatorError, OperatorResult, Output, TaskInfo};
use crate::runtime::record::Record;

static OUTPUT_TAG: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// The sub-directory of an operator's checkpoint directory that holds its function's operator
/// state (a CheckpointedFunction's lists).
pub const OPERATOR_SNAPSHOT: &str = "operator";

/// One subtask's instance of a user function: the callables the operator calls per record, and
/// the object whose `open()`/`close()` run once.
pub struct Udf {
    pub calls: Vec<Py<PyAny>>,
    lifecycle: Py<PyAny>,
}

/// The task's identity as the tuple Python's `instantiate(info)` receives:
/// `(job_name, operator_name, task_name, subtask_index, parallelism, max_parallelism, attempt)`.
pub fn info_tuple<'py>(py: Python<'py>, info: &TaskInfo) -> PyResult<Bound<'py, PyTuple>> {
    (
        info.job_name.as_str(),
        info.operator_name.as_str(),
        info.task_name.as_str(),
        info.subtask_index,
        info.parallelism,
        info.max_parallelism,
        info.attempt_number,
    )
        .into_pyobject(py)
}

impl Udf {
    /// Calls `spec.instantiate(info)`, which returns `(callables, lifecycle)`.
    pub fn instantiate(spec: &Py<PyAny>, info: &TaskInfo) -> OperatorResult<Udf> {
        Self::instantiate_keyed(spec, info, None)
    }

    /// Calls `spec.instantiate(info, state)`: the functions' runtime context gets `state` for
    /// `get_state(...)` and friends (keyed operators).
    /// A function that is a CheckpointedFunction gets its operator state back from the
    /// checkpoint `info` restores from.
    pub fn instantiate_keyed(spec: &Py<PyAny>, info: &TaskInfo, state: Option<Py<StateView>>) -> OperatorResult<Udf> {
        Python::attach(|py| {
            let made = spec.bind(py).call_method1(
                "instantiate",
                (info_tuple(py, info)?, state, MetricGroup::of_operator(info)),
            )?;
            let (calls, lifecycle): (Vec<Py<PyAny>>, Py<PyAny>) = made.extract()?;
            let restored: Vec<PathBuf> =
                crate::checkpoint::OperatorRestore::parts_of(info.restore.as_ref(), OPERATOR_SNAPSHOT);
            if !restored.is_empty() {
                let store = py
                    .get_type::<OperatorStateStore>()
                    .call_method1("restore", (restored, info.subtask_index, info.parallelism))?;
                lifecycle.bind(py).setattr("operator_state", store)?;
            }
            Ok::<_, PyErr>(Udf { calls, lifecycle })
        })
        .map_err(OperatorError::new)
    }

    /// Writes the operator state of a CheckpointedFunction (after its `snapshot_state`) into
    /// `directory/operator`; nothing for other functions.
    pub fn snapshot(&self, ctx: &SnapshotContext<'_>, directory: &Path) -> OperatorResult<SnapshotStats> {
        Python::attach(|py| {
            let target = directory.join(OPERATOR_SNAPSHOT);
            let bytes: u64 = self
                .lifecycle
                .bind(py)
                .call_method1(
                    "snapshot_state",
                    (target.to_string_lossy().as_ref(), ctx.checkpoint_id, ctx.timestamp),
                )?
                .extract()?;
            Ok::<_, PyErr>(SnapshotStats::full(bytes))
        })
        .map_err(OperatorError::new)
    }

    /// Checkpoint `id` completed (or, with [`crate::checkpoint::END_OF_INPUT`], the input of a
    /// job without checkpoints ended): the function's `notify_checkpoint_complete`, if it has one.
    pub fn notify_checkpoint_complete(&self, id: u64) -> OperatorResult {
        Python::attach(|py| {
            self.lifecycle
                .bind(py)
                .call_method1("notify_checkpoint_complete", (id,))
                .map(drop)
        })
        .map_err(OperatorError::new)
    }

    /// The input ended: the function's `finish()`, if it has one.
    pub fn finish(&self) -> OperatorResult {
        Python::attach(|py| self.lifecycle.bind(py).call_method0("finish").map(drop)).map_err(OperatorError::new)
    }

    pub fn open(&self) -> OperatorResult {
        Python::attach(|py| self.lifecycle.bind(py).call_method0("open").map(drop)).map_err(OperatorError::new)
    }

    pub fn close(&self) -> OperatorResult {
        Python::attach(|py| closing(py, || self.lifecycle.bind(py).call_method0("close").map(drop)))
            .map_err(OperatorError::new)
    }
}

/// Where the values a process-style function yields go: `(OutputTag, value)` pairs to the side
/// output of that tag (dropped when nothing consumes it), anything else to the main output.
pub struct Emitter {
    side_ports: Vec<(String, u32)>,
}

impl Emitter {
    pub fn new(side_ports: Vec<(String, u32)>) -> Self {
        Emitter { side_ports }
    }

    /// Emits every value of `results` (an iterable, or None for nothing) with `timestamp`.
    pub fn emit_all(
        &self,
        results: &Bound<'_, PyAny>,
        timestamp: i64,
        out: &mut Output<PyValue>,
        function: &str,
    ) -> PyResult<()> {
        if results.is_none() {
            return Ok(());
        }
        let iter = results.try_iter().map_err(|_| {
            PyTypeError::new_err(format!(
                "{function} must yield its results or return an iterable of them (or None), \
                 but it returned a value of type '{}'",
                type_name(results)
            ))
        })?;
        let py = results.py();
        let tag_type = OUTPUT_TAG.import(py, "ferroflow.datastream.output_tag", "OutputTag")?;
        for item in iter {
            let item = item?;
            if let Some(port) = self.side_port(&item, tag_type)? {
                if let Some(port) = port {
                    let value = item.cast::<PyTuple>()?.get_item(1)?;
                    out.emit_side(port, Record::with_timestamp(PyValue(value.unbind()), timestamp));
                }
                continue;
            }
            out.emit(Record::with_timestamp(PyValue(item.unbind()), timestamp));
        }
        Ok(())
    }

    /// `Some(port)` when `item` is a side output: the port of its tag, or `None` when no stream
    /// reads that tag.
    fn side_port(&self, item: &Bound<'_, PyAny>, tag_type: &Bound<'_, PyType>) -> PyResult<Option<Option<u32>>> {
        let Ok(pair) = item.cast_exact::<PyTuple>() else {
            return Ok(None);
        };
        if pair.len() != 2 {
            return Ok(None);
        }
        let first = pair.get_item(0)?;
        if !first.is_instance(tag_type)? {
            return Ok(None);
        }
        let tag_id: String = first.getattr("tag_id")?.extract()?;
        Ok(Some(
            self.side_ports.iter().find(|(t, _)| *t == tag_id).map(|(_, p)| *p),
        ))
    }
}
