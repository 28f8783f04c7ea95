//! A user's own source that can rewind (`RewindableSource` in Python): its splits are dealt out
//! to the subtasks, each read by the user's `read(split, position)` generator, which yields
//! `(record, position)` pairs. The position after the last record emitted goes into each
//! checkpoint (pickled, as operator list state: one element per split); a restored job calls
//! `read` again from that position, at any parallelism.

use std::time::Instant;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyIterator, PyList, PyTuple};

use crate::bindings::value::PyValue;
use crate::checkpoint::positions::{restore_positions, write_positions};
use crate::checkpoint::{SnapshotContext, SnapshotStats};
use crate::runtime::operator::{OperatorError, OperatorResult, Output, Source, SourceStatus, TaskInfo};
use crate::runtime::record::Record;

/// One split this subtask reads.
struct Split {
    split: Py<PyAny>,
    /// Where to resume: None to start at the beginning.
    position: Py<PyAny>,
    reader: Option<Py<PyIterator>>,
    done: bool,
}

pub struct RewindableSource {
    source: Py<PyAny>,
    name: String,
    splits: Vec<Split>,
    /// The split the next poll reads first (the splits take turns, batch by batch).
    turn: usize,
}

fn pickle(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    py.import("pickle")
}

impl RewindableSource {
    /// The subtask's source: split `i` of `splits` goes to subtask `i % parallelism`, or, when
    /// the job restores, this subtask's share of the saved positions.
    pub fn new(source: &Py<PyAny>, splits: &Py<PyList>, info: &TaskInfo) -> OperatorResult<Self> {
        let restored = restore_positions(info).map_err(|e| OperatorError::new(e.to_string()))?;
        Python::attach(|py| {
            let name = source
                .bind(py)
                .get_type()
                .qualname()
                .map_or_else(|_| "RewindableSource".to_string(), |n| n.to_string());
            let mut mine = Vec::new();
            match restored {
                Some(positions) => {
                    let loads = pickle(py)
                        .and_then(|p| p.getattr("loads"))
                        .map_err(OperatorError::new)?;
                    for bytes in positions {
                        let saved = loads
                            .call1((PyBytes::new(py, &bytes),))
                            .and_then(|t| t.extract::<(Py<PyAny>, Py<PyAny>, bool)>())
                            .map_err(|e| {
                                OperatorError::new(format!("{name}: a position in the checkpoint cannot be read: {e}"))
                            })?;
                        mine.push(Split {
                            split: saved.0,
                            position: saved.1,
                            reader: None,
                            done: saved.2,
                        });
                    }
                }
                None => {
                    for (i, split) in splits.bind(py).iter().enumerate() {
                        if i % info.parallelism == info.subtask_index {
                            mine.push(Split {
                                split: split.unbind(),
                                position: py.None(),
                                reader: None,
                                done: false,
                            });
                        }
                    }
                }
            }
            Ok(RewindableSource {
                source: source.clone_ref(py),
                name,
                splits: mine,
                turn: 0,
            })
        })
    }

    /// Reads up to `max` records of split `index`; returns whether it ended.
    fn read_split(
        &mut self,
        py: Python<'_>,
        index: usize,
        max: usize,
        deadline: Instant,
        out: &mut Output<PyValue>,
    ) -> OperatorResult<bool> {
        let split = &mut self.splits[index];
        let mut reader = match &split.reader {
            Some(r) => r.bind(py).clone(),
            None => {
                let iterator = self
                    .source
                    .bind(py)
                    .call_method1("read", (split.split.bind(py), split.position.bind(py)))
                    .and_then(|g| g.try_iter())
                    .map_err(OperatorError::new)?;
                split.reader = Some(iterator.clone().unbind());
                iterator
            }
        };
        for _ in 0..max {
            let item = match reader.next() {
                None => {
                    split.done = true;
                    split.reader = None;
                    return Ok(true);
                }
                Some(item) => item.map_err(OperatorError::new)?,
            };
            let pair = item.cast::<PyTuple>().ok().filter(|t| t.len() == 2).ok_or_else(|| {
                OperatorError::new(format!(
                    "{}.read() must yield (record, position) pairs, got {}",
                    self.name,
                    item.repr().map_or_else(|_| "?".into(), |r| r.to_string())
                ))
            })?;
            let record = pair.get_item(0).map_err(OperatorError::new)?;
            split.position = pair.get_item(1).map_err(OperatorError::new)?.unbind();
            out.emit(Record::new(PyValue(record.unbind())));
            if Instant::now() >= deadline {
                break;
            }
        }
        Ok(false)
    }
}

impl Source<PyValue> for RewindableSource {
    fn poll_batch(&mut self, max: usize, deadline: Instant, out: &mut Output<PyValue>) -> OperatorResult<SourceStatus> {
        Python::attach(|py| {
            let n = self.splits.len();
            for step in 0..n {
                let index = (self.turn + step) % n;
                if self.splits[index].done {
                    continue;
                }
                self.turn = (index + 1) % n;
                self.read_split(py, index, max, deadline, out)?;
                return Ok(SourceStatus::More);
            }
            Ok(SourceStatus::Exhausted)
        })
    }

    fn snapshot_state(&mut self, ctx: &SnapshotContext<'_>) -> OperatorResult<SnapshotStats> {
        let positions = Python::attach(|py| -> OperatorResult<Vec<Vec<u8>>> {
            let dumps = pickle(py)
                .and_then(|p| p.getattr("dumps"))
                .map_err(OperatorError::new)?;
            self.splits
                .iter()
                .map(|s| {
                    let saved = (s.split.bind(py), s.position.bind(py), s.done);
                    dumps.call1((saved,)).and_then(|b| b.extract::<Vec<u8>>()).map_err(|e| {
                        OperatorError::new(format!(
                            "{}: the position of a split cannot be pickled for the checkpoint: {e}",
                            self.name
                        ))
                    })
                })
                .collect()
        })?;
        write_positions(ctx.directory, positions).map_err(|e| OperatorError::new(e.to_string()))
    }
}
