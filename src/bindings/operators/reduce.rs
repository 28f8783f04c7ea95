//! `KeyedStream.reduce`: a rolling reduce that emits the reduced value after every record (the
//! first record of a key as it is).

use pyo3::prelude::*;

use crate::bindings::errors::at_record;
use crate::bindings::udf::Udf;
use crate::bindings::value::PyValue;
use crate::runtime::key::KeyMap;
use crate::runtime::operator::{Operator, OperatorError, OperatorResult, Output, TaskInfo};
use crate::runtime::record::Record;

pub struct KeyedReduce {
    udf: Udf,
    state: KeyMap<Py<PyAny>>,
}

impl KeyedReduce {
    pub fn new(udf: Udf) -> Self {
        KeyedReduce {
            udf,
            state: KeyMap::default(),
        }
    }
}

pub fn missing_key(i: usize) -> OperatorError {
    OperatorError::at_record("a keyed operator received a record without a key", i)
}

impl Operator<PyValue> for KeyedReduce {
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
            let f = self.udf.calls[0].bind(py);
            out.main.reserve(batch.len());
            for (i, r) in batch.drain(..).enumerate() {
                let key = r.key.ok_or_else(|| missing_key(i))?;
                let value = match self.state.get_mut(&key) {
                    None => {
                        let v = r.value.0;
                        self.state.insert(key, v.clone_ref(py));
                        v
                    }
                    Some(acc) => {
                        let reduced = f
                            .call1((acc.bind(py), r.value.0))
                            .map_err(|e| at_record(e, i))?
                            .unbind();
                        *acc = reduced.clone_ref(py);
                        reduced
                    }
                };
                out.main.push(Record::with_timestamp(PyValue(value), r.timestamp));
            }
            Ok(())
        })
    }

    fn close(&mut self) -> OperatorResult {
        Python::attach(|_py| self.state.clear());
        self.udf.close()
    }
}
