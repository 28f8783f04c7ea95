//! `KeyedStream.sum/min/max/min_by/max_by`: rolling aggregations by field, computed without
//! calling Python functions per record.
//!
//! For a tuple the result is a new tuple whose field at `position` is aggregated and whose other
//! fields come from the key's first element. Lists and Rows are copied and the field replaced (so
//! results already emitted never change afterwards). A plain number is its own field 0.
//! `min_by`/`max_by` keep the whole element with the smallest/largest field, the earlier one on
//! ties.

use pyo3::exceptions::{PyIndexError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyFloat, PyInt, PyList, PyTuple};

use crate::bindings::errors::at_record;
use crate::bindings::key::type_name;
use crate::bindings::operators::reduce::missing_key;
use crate::bindings::value::PyValue;

use super::accumulators::{Accumulators, FinalValues};
use crate::checkpoint::{SnapshotContext, SnapshotStats};
use crate::runtime::key_group::DEFAULT_MAX_PARALLELISM;
use crate::runtime::operator::{Operator, OperatorError, OperatorResult, Output, TaskInfo};
use crate::runtime::record::Record;

static COPY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregation {
    Sum,
    Min,
    Max,
    MinBy,
    MaxBy,
}

impl Aggregation {
    pub fn parse(name: &str) -> Option<Aggregation> {
        Some(match name {
            "sum" => Aggregation::Sum,
            "min" => Aggregation::Min,
            "max" => Aggregation::Max,
            "min_by" => Aggregation::MinBy,
            "max_by" => Aggregation::MaxBy,
            _ => return None,
        })
    }
}

pub struct KeyedAggregate {
    aggregation: Aggregation,
    /// An int index or a Row field name.
    position: Py<PyAny>,
    state: Accumulators,
    max_parallelism: usize,
    /// BATCH execution: the keys whose final value is emitted at the end.
    final_only: Option<FinalValues>,
}

impl KeyedAggregate {
    pub fn new(aggregation: Aggregation, position: Py<PyAny>, state: Accumulators, final_only: bool) -> Self {
        KeyedAggregate {
            aggregation,
            position,
            state,
            max_parallelism: DEFAULT_MAX_PARALLELISM,
            final_only: final_only.then(FinalValues::default),
        }
    }
}

fn is_number(v: &Bound<'_, PyAny>) -> bool {
    v.is_instance_of::<PyInt>() || v.is_instance_of::<PyFloat>()
}

/// Field `position` of `value`; a number is its own field 0.
fn field<'py>(value: &Bound<'py, PyAny>, position: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    if is_number(value) {
        let zero = position.extract::<i64>().map(|p| p == 0).unwrap_or(false);
        if !zero {
            return Err(PyTypeError::new_err(format!(
                "cannot aggregate field {} of a number ({}): for a stream of plain numbers the position must be 0",
                position.repr()?,
                value.repr()?
            )));
        }
        return Ok(value.clone());
    }
    value.get_item(position).map_err(|e| {
        let message = format!(
            "cannot read field {} of a value of type '{}' ({}): {e}",
            position.repr().map(|r| r.to_string()).unwrap_or_default(),
            type_name(value),
            value.repr().map(|r| r.to_string()).unwrap_or_default(),
        );
        if e.is_instance_of::<PyIndexError>(value.py()) {
            PyIndexError::new_err(message)
        } else {
            PyTypeError::new_err(message)
        }
    })
}

/// `acc` with field `position` replaced by `new`, as a new object.
fn replace_field<'py>(
    acc: &Bound<'py, PyAny>,
    position: &Bound<'py, PyAny>,
    new: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = acc.py();
    if is_number(acc) {
        return Ok(new);
    }
    if let Ok(t) = acc.cast::<PyTuple>() {
        let len = t.len() as i64;
        let mut index: i64 = position.extract()?;
        if index < 0 {
            index += len;
        }
        let mut items: Vec<Bound<'py, PyAny>> = t.iter().collect();
        let slot = usize::try_from(index)
            .ok()
            .filter(|i| *i < items.len())
            .ok_or_else(|| {
                PyIndexError::new_err(format!("position {index} is out of range for a tuple of {len} fields"))
            })?;
        items[slot] = new;
        let tuple = PyTuple::new(py, items)?;
        return if acc.is_exact_instance_of::<PyTuple>() {
            Ok(tuple.into_any())
        } else {
            acc.get_type().call1(tuple)
        };
    }
    let copy = if acc.is_exact_instance_of::<PyList>() {
        acc.cast::<PyList>()?.get_slice(0, usize::MAX).into_any()
    } else {
        COPY.get_or_try_init(py, || Ok::<_, PyErr>(py.import("copy")?.getattr("copy")?.unbind()))?
            .bind(py)
            .call1((acc,))?
    };
    copy.set_item(position, new)?;
    Ok(copy)
}

impl KeyedAggregate {
    fn combine<'py>(&self, acc: &Bound<'py, PyAny>, value: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let position = self.position.bind(acc.py());
        let a = field(acc, position)?;
        let b = field(&value, position)?;
        Ok(match self.aggregation {
            Aggregation::Sum => replace_field(acc, position, a.add(b)?)?,
            Aggregation::Min => {
                let smaller = if b.lt(&a)? { b } else { a };
                replace_field(acc, position, smaller)?
            }
            Aggregation::Max => {
                let larger = if b.gt(&a)? { b } else { a };
                replace_field(acc, position, larger)?
            }
            Aggregation::MinBy => {
                if b.lt(&a)? {
                    value
                } else {
                    acc.clone()
                }
            }
            Aggregation::MaxBy => {
                if b.gt(&a)? {
                    value
                } else {
                    acc.clone()
                }
            }
        })
    }
}

impl Operator<PyValue> for KeyedAggregate {
    fn open(&mut self, info: &TaskInfo) -> OperatorResult {
        self.max_parallelism = info.max_parallelism;
        Ok(())
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
            for (i, r) in batch.drain(..).enumerate() {
                let key = r.key.ok_or_else(|| missing_key(i))?;
                if let Some(final_values) = &mut self.final_only {
                    final_values.note(&key);
                }
                let value = r.value.0.into_bound(py);
                let result = match self.state.get(py, &key).map_err(|e| at_record(e, i))? {
                    None => {
                        // Validate the field on the first element too, so a bad position fails early.
                        field(&value, self.position.bind(py)).map_err(|e| at_record(e, i))?;
                        value
                    }
                    Some(acc) => self.combine(acc.bind(py), value).map_err(|e| at_record(e, i))?,
                };
                self.state
                    .set(py, key, result.clone().unbind())
                    .map_err(|e| at_record(e, i))?;
                if self.final_only.is_none() {
                    out.main
                        .push(Record::with_timestamp(PyValue(result.unbind()), r.timestamp));
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
        Ok(())
    }
}
