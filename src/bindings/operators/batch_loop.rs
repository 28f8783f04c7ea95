//! The stateless Python functions of a chain (map, filter, flat_map, a Python sink) run as one
//! generated Python loop per batch (`ferroflow/datastream/_batch_loop.py`). Consecutive such
//! operators merge into one when the chain is built ([`Operator::absorb`]).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyList;

use crate::bindings::udf::Udf;
use crate::bindings::value::PyValue;
use crate::runtime::operator::{Operator, OperatorError, OperatorResult, Output, TaskInfo};
use crate::runtime::record::Record;

static COMPILE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
const FAILED_AT: &str = "__ferroflow_failed_at__";

/// One function of the loop.
pub struct Stage {
    /// map, filter, flat_map or sink.
    pub style: &'static str,
    pub udf: Udf,
    /// The operator's name, for errors.
    pub operator: String,
    /// The user's function, for errors (`MyMap.map`, `<lambda>`).
    pub function: String,
}

pub struct BatchLoop {
    stages: Vec<Stage>,
    /// `run(values) -> outputs` and `run_indexed(values) -> (outputs, input_indexes)`.
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
        match failed_at {
            Some((operator, index)) => {
                let mut e = OperatorError::new(err);
                e.record_in_batch = index;
                e.operator_name = Some(operator);
                e
            }
            None => OperatorError::new(err),
        }
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
            let (run, run_indexed): (Py<PyAny>, Py<PyAny>) =
                compile.bind(py).call1((stages,))?.extract()?;
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
            let values =
                PyList::new(py, batch.drain(..).map(|r| r.value.0)).map_err(OperatorError::new)?;
            if uniform {
                let result = run
                    .bind(py)
                    .call1((values,))
                    .map_err(|e| self.error(py, e))?;
                let outputs = result
                    .cast::<PyList>()
                    .map_err(|e| OperatorError::new(PyErr::from(e)))?;
                out.main.reserve(outputs.len());
                for v in outputs.iter() {
                    out.main
                        .push(Record::with_timestamp(PyValue(v.unbind()), timestamp));
                }
            } else {
                let result = run_indexed
                    .bind(py)
                    .call1((values,))
                    .map_err(|e| self.error(py, e))?;
                let (outputs, indexes): (Bound<'_, PyList>, Vec<usize>) =
                    result.extract().map_err(OperatorError::new)?;
                out.main.reserve(outputs.len());
                for (v, i) in outputs.iter().zip(indexes) {
                    out.main
                        .push(Record::with_timestamp(PyValue(v.unbind()), timestamps[i]));
                }
            }
            Ok(())
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

    fn absorb(&mut self, next: &mut dyn Operator<PyValue>) -> bool {
        if self.stages.last().is_some_and(|s| s.style == "sink") {
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
