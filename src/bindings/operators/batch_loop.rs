//! The stateless Python functions of a chain (map, filter, flat_map, a Python sink, and a key
//! selector at the end) run as one generated Python loop per batch
//! (`ferroflow/datastream/_batch_loop.py`). Consecutive such operators merge into one when the
//! chain is built ([`Operator::absorb`]).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyList;

use crate::bindings::key::key_from_py;
use crate::bindings::udf::Udf;
use crate::bindings::value::PyValue;
use crate::checkpoint::{subtask_directory, SnapshotContext, SnapshotStats};
use crate::runtime::operator::{Operator, OperatorError, OperatorResult, Output, TaskInfo};
use crate::runtime::record::Record;

static COMPILE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
const FAILED_AT: &str = "__ferroflow_failed_at__";
const PARTIAL: &str = "__ferroflow_partial__";

/// What a loop returns: outputs, the input index of each (when timestamps differ), and the key
/// of each (when the loop ends with a key selector).
type LoopResult<'py> = (Bound<'py, PyList>, Option<Vec<usize>>, Option<Bound<'py, PyList>>);

/// One function of the loop.
pub struct Stage {
    /// map, filter, flat_map, sink, or key (a key selector, always last).
    pub style: &'static str,
    pub udf: Udf,
    /// The operator's name, for errors.
    pub operator: String,
    /// The user's function, for errors (`MyMap.map`, `<lambda>`).
    pub function: String,
    /// The operator's id and subtask: where its function's state goes in checkpoints.
    pub operator_id: String,
    pub subtask: usize,
}

pub struct BatchLoop {
    stages: Vec<Stage>,
    /// `run(values)` and `run_indexed(values)`, both returning a [`LoopResult`].
    loops: Option<(Py<PyAny>, Py<PyAny>)>,
}

impl BatchLoop {
    pub fn new(stage: Stage) -> Self {
        BatchLoop {
            stages: vec![stage],
            loops: None,
        }
    }

    /// The user's exception, with the function that raised it and the record's position.
    fn error(&self, py: Python<'_>, err: PyErr) -> OperatorError {
        let failed_at = err
            .value(py)
            .getattr(FAILED_AT)
            .and_then(|a| a.extract::<(String, Option<usize>)>())
            .ok();
        let mut e = OperatorError::new(err);
        if let Some((operator, index)) = failed_at {
            e.record_in_batch = index;
            e.operator_name = Some(operator);
        }
        e
    }

    /// A key the key selector returned that cannot be a key: names the key selector's
    /// operator, and the record's position when the loop's input count is the selector's (no
    /// filter or flat_map before it).
    fn key_error(&self, err: PyErr, output: usize) -> OperatorError {
        let counts_match = self.stages.iter().all(|s| matches!(s.style, "map" | "key"));
        let mut e = OperatorError::new(err);
        e.record_in_batch = counts_match.then_some(output);
        e.operator_name = self.stages.last().map(|s| s.operator.clone());
        e
    }
}

impl BatchLoop {
    /// Emits what a loop returned (a [`LoopResult`]): each output with the timestamp of the
    /// record it came from, and its key when the last stage is a key selector.
    fn emit(
        &self,
        result: &Bound<'_, PyAny>,
        timestamp: i64,
        timestamps: &[i64],
        out: &mut Output<PyValue>,
    ) -> OperatorResult {
        let (outputs, indexes, keys): LoopResult<'_> = result.extract().map_err(OperatorError::new)?;
        out.main.reserve(outputs.len());
        for (j, v) in outputs.iter().enumerate() {
            let ts = match &indexes {
                Some(idx) => idx
                    .get(j)
                    .and_then(|&i| timestamps.get(i))
                    .copied()
                    .unwrap_or(timestamp),
                None => timestamp,
            };
            let mut record = Record::with_timestamp(PyValue(v.unbind()), ts);
            if let Some(keys) = &keys {
                let key = keys
                    .get_item(j)
                    .and_then(|k| key_from_py(&k))
                    .map_err(|e| self.key_error(e, j))?;
                record.key = Some(key);
            }
            out.main.push(record);
        }
        Ok(())
    }

    /// Runs `f` on every stage, first to last; an error names the stage's operator.
    fn each_stage(&self, f: impl Fn(&Stage) -> OperatorResult) -> OperatorResult {
        for stage in &self.stages {
            f(stage).map_err(|mut e| {
                e.operator_name = Some(stage.operator.clone());
                e
            })?;
        }
        Ok(())
    }
}

impl Operator<PyValue> for BatchLoop {
    fn open(&mut self, _info: &TaskInfo) -> OperatorResult {
        for stage in &self.stages {
            stage.udf.open().map_err(|mut e| {
                e.operator_name = Some(stage.operator.clone());
                e
            })?;
        }
        Python::attach(|py| {
            let compile = COMPILE.get_or_try_init(py, || {
                Ok::<_, PyErr>(
                    py.import("ferroflow.datastream._batch_loop")?
                        .getattr("compile_batch_loop")?
                        .unbind(),
                )
            })?;
            let stages = self
                .stages
                .iter()
                .map(|s| {
                    (
                        s.style,
                        s.udf.calls[0].clone_ref(py),
                        s.operator.as_str(),
                        s.function.as_str(),
                    )
                })
                .collect::<Vec<_>>();
            let (run, run_indexed): (Py<PyAny>, Py<PyAny>) = compile.bind(py).call1((stages,))?.extract()?;
            self.loops = Some((run, run_indexed));
            Ok::<_, PyErr>(())
        })
        .map_err(OperatorError::new)
    }

    fn process_batch(
        &mut self,
        _input: usize,
        batch: &mut Vec<Record<PyValue>>,
        out: &mut Output<PyValue>,
    ) -> OperatorResult {
        let Some(first) = batch.first() else {
            return Ok(());
        };
        let timestamp = first.timestamp;
        let uniform = batch.iter().all(|r| r.timestamp == timestamp);
        let timestamps: Vec<i64> = if uniform {
            Vec::new()
        } else {
            batch.iter().map(|r| r.timestamp).collect()
        };
        let Some((run, run_indexed)) = &self.loops else {
            return Err(OperatorError::new("the batch loop was not opened"));
        };
        Python::attach(|py| {
            let values = PyList::new(py, batch.drain(..).map(|r| r.value.0)).map_err(OperatorError::new)?;
            let result = match if uniform { run } else { run_indexed }.bind(py).call1((values,)) {
                Ok(result) => result,
                Err(e) => {
                    // What the records before the failing one produced still goes on.
                    if let Some(partial) = take_partial(py, &e) {
                        let _ = self.emit(&partial, timestamp, &timestamps, out);
                    }
                    return Err(self.error(py, e));
                }
            };
            self.emit(&result, timestamp, &timestamps, out)
        })
    }
    fn close(&mut self) -> OperatorResult {
        let mut first = None;
        for stage in &self.stages {
            if let Err(mut e) = stage.udf.close() {
                e.operator_name = Some(stage.operator.clone());
                first.get_or_insert(e);
            }
        }
        Python::attach(|_py| self.loops = None);
        first.map_or(Ok(()), Err)
    }

    fn finish(&mut self, _out: &mut Output<PyValue>) -> OperatorResult {
        self.each_stage(|stage| stage.udf.finish())
    }

    fn snapshot_state(&mut self, ctx: &SnapshotContext<'_>) -> OperatorResult<SnapshotStats> {
        let mut stats = SnapshotStats::default();
        for stage in &self.stages {
            // Each fused function writes where its own operator's state goes.
            let directory = subtask_directory(ctx.checkpoint_directory, &stage.operator_id, stage.subtask);
            std::fs::create_dir_all(&directory)
                .map_err(|e| OperatorError::new(format!("cannot make the directory {}: {e}", directory.display())))?;
            let s = stage.udf.snapshot(ctx, &directory).map_err(|mut e| {
                e.operator_name = Some(stage.operator.clone());
                e
            })?;
            stats.add(s);
        }
        Ok(stats)
    }

    fn notify_checkpoint_complete(&mut self, checkpoint_id: u64) -> OperatorResult {
        self.each_stage(|stage| stage.udf.notify_checkpoint_complete(checkpoint_id))
    }

    fn absorb(&mut self, next: &mut dyn Operator<PyValue>) -> bool {
        // Nothing follows a sink, and a key selector's keys are for the exchange after it.
        if self.stages.last().is_some_and(|s| matches!(s.style, "sink" | "key")) {
            return false;
        }
        let Some(parts) = next.fusion_parts() else {
            return false;
        };
        match parts.downcast::<Vec<Stage>>() {
            Ok(stages) => {
                self.stages.extend(*stages);
                true
            }
            Err(_) => false,
        }
    }

    fn fusion_parts(&mut self) -> Option<Box<dyn std::any::Any + Send>> {
        Some(Box::new(std::mem::take(&mut self.stages)))
    }
}

/// What a loop that raised `error` had produced before (the `PARTIAL` attribute of
/// `_batch_loop.py`), removed from the exception.
fn take_partial<'py>(py: Python<'py>, error: &PyErr) -> Option<Bound<'py, PyAny>> {
    let value = error.value(py);
    let partial = value.getattr(PARTIAL).ok()?;
    let _ = value.delattr(PARTIAL);
    Some(partial)
}
