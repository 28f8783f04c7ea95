//! `key_by`: runs the key selector once per record and attaches the key, which the keyed
//! exchange routes by and the keyed operator uses. After Python functions of the chain it is
//! merged into their batch loop instead.

use pyo3::prelude::*;

use crate::bindings::errors::at_record;
use crate::bindings::key::key_from_py;
use crate::bindings::operators::batch_loop::Stage;
use crate::bindings::udf::Udf;
use crate::bindings::value::PyValue;
use crate::runtime::operator::{Operator, OperatorError, OperatorResult, Output, TaskInfo};
use crate::runtime::record::Record;

pub struct KeyBy {
    /// Taken by a batch loop that absorbs this operator (which is then dropped unused).
    udf: Option<Udf>,
    operator: String,
    function: String,
    operator_id: String,
    subtask: usize,
}

impl KeyBy {
    /// The key selector `udf` of the operator `info` describes.
    pub fn new(udf: Udf, info: &TaskInfo, function: String) -> Self {
        KeyBy {
            udf: Some(udf),
            operator: info.operator_name.clone(),
            function,
            operator_id: info.operator_id.clone(),
            subtask: info.subtask_index,
        }
    }

    fn udf(&self) -> OperatorResult<&Udf> {
        self.udf
            .as_ref()
            .ok_or_else(|| OperatorError::new("the key selector was merged into another operator"))
    }
}

impl Operator<PyValue> for KeyBy {
    fn open(&mut self, _info: &TaskInfo) -> OperatorResult {
        self.udf()?.open()
    }

    fn process_batch(
        &mut self,
        _input: usize,
        batch: &mut Vec<Record<PyValue>>,
        out: &mut Output<PyValue>,
    ) -> OperatorResult {
        let selector = self.udf()?;
        Python::attach(|py| {
            let selector = selector.calls[0].bind(py);
            out.main.reserve(batch.len());
            for (i, mut r) in batch.drain(..).enumerate() {
                let key = selector
                    .call1((r.value.0.bind(py),))
                    .and_then(|k| key_from_py(&k))
                    .map_err(|e| at_record(e, i))?;
                r.key = Some(key);
                out.main.push(r);
            }
            Ok(())
        })
    }

    fn close(&mut self) -> OperatorResult {
        match &self.udf {
            Some(udf) => udf.close(),
            None => Ok(()),
        }
    }

    fn fusion_parts(&mut self) -> Option<Box<dyn std::any::Any + Send>> {
        let udf = self.udf.take()?;
        Some(Box::new(vec![Stage {
            style: "key",
            udf,
            operator: self.operator.clone(),
            function: self.function.clone(),
            operator_id: self.operator_id.clone(),
            subtask: self.subtask,
        }]))
    }
}
