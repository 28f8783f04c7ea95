//! `KeyedStream.reduce`: a rolling reduce that emits the reduced value after every record (the
//! first record of a key as it is); in BATCH execution, only each key's final value.

use pyo3::prelude::*;

use super::accumulators::{Accumulators, FinalValues};
use crate::bindings::errors::at_record;
use crate::bindings::udf::Udf;
use crate::bindings::value::PyValue;
use crate::checkpoint::{SnapshotContext, SnapshotStats};
use crate::runtime::key_group::DEFAULT_MAX_PARALLELISM;
use crate::runtime::operator::{Operator, OperatorError, OperatorResult, Output, TaskInfo};
use crate::runtime::record::Record;

pub struct KeyedReduce {
    udf: Udf,
    state: Accumulators,
    max_parallelism: usize,
    /// BATCH execution: the keys whose final value is emitted at the end.
    final_only: Option<FinalValues>,
    /// The function keeps keyed state of its own (in the accumulators' store), for the
    /// record's key.
    keyed_state: bool,
}

impl KeyedReduce {
    pub fn new(udf: Udf, state: Accumulators, final_only: bool, keyed_state: bool) -> Self {
        KeyedReduce {
            udf,
            state,
            max_parallelism: DEFAULT_MAX_PARALLELISM,
            final_only: final_only.then(FinalValues::default),
            keyed_state,
        }
    }
}

pub fn missing_key(i: usize) -> OperatorError {
    OperatorError::at_record("a keyed operator received a record without a key", i)
}

impl Operator<PyValue> for KeyedReduce {
    fn open(&mut self, info: &TaskInfo) -> OperatorResult {
        self.max_parallelism = info.max_parallelism;
        self.udf.open()
    }

    fn snapshot_state(&mut self, ctx: &SnapshotContext<'_>) -> OperatorResult<SnapshotStats> {
        Python::attach(|py| self.state.checkpoint(py, ctx.directory, self.max_parallelism)).map_err(OperatorError::new)
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
                if let Some(final_values) = &mut self.final_only {
                    final_values.note(&key);
                }
                let value = match &mut self.state {
                    // The heap's fast path: the accumulator is updated in place.
                    Accumulators::Heap(map) => match map.get_mut(&key) {
                        None => {
                            let v = r.value.0;
                            map.insert(key, v.clone_ref(py));
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
                    },
                    state => {
                        if let (true, Accumulators::Store { store, .. }) = (self.keyed_state, &*state) {
                            // The function's own state belongs to the record's key.
                            store.borrow_mut(py).current_key = Some(key.clone());
                        }
                        let value = match state.get(py, &key).map_err(|e| at_record(e, i))? {
                            None => r.value.0,
                            Some(acc) => f.call1((acc, r.value.0)).map_err(|e| at_record(e, i))?.unbind(),
                        };
                        state.set(py, key, value.clone_ref(py)).map_err(|e| at_record(e, i))?;
                        value
                    }
                };
                if self.final_only.is_none() {
                    out.main.push(Record::with_timestamp(PyValue(value), r.timestamp));
                }
            }
            Ok(())
        })
    }

    fn finish(&mut self, out: &mut Output<PyValue>) -> OperatorResult {
        if let Some(final_values) = &mut self.final_only {
            Python::attach(|py| final_values.emit(py, &mut self.state, out)).map_err(OperatorError::new)?;
        }
        Ok(())
    }

    fn close(&mut self) -> OperatorResult {
        Python::attach(|py| self.state.clear(py));
        self.udf.close()
    }
}
