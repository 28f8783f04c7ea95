//! `key_by`: runs the key selector once per record and attaches the key, which the keyed
//! exchange routes by and the keyed operator uses.

use pyo3::prelude::*;

use crate::bindings::errors::at_record;
use crate::bindings::key::key_from_py;
use crate::bindings::udf::Udf;
use crate::bindings::value::PyValue;
use crate::runtime::operator::{Operator, OperatorResult, Output, TaskInfo};
use crate::runtime::record::Record;

pub struct KeyBy {
    udf: Udf,
}

impl KeyBy {
    pub fn new(udf: Udf) -> Self {
        KeyBy { udf }
    }
}

impl Operator<PyValue> for KeyBy {
    fn open(&mut self, _info: &TaskInfo) -> OperatorResult {
        self.udf.open()
    }

    fn process_batch(
        &mut self,
        _input: usize,
        batch: &mut Vec<Record<PyValue>>,
        out: &mut Output<PyValue>,
    ) -> OperatorResult {
        Python::attach(|py| {
            let selector = self.udf.calls[0].bind(py);
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
        self.udf.close()
    }
}
