//! Sources that make Python values: a collection, any Python iterable, a number sequence.

use std::time::Instant;

use pyo3::prelude::*;
use pyo3::types::{PyIterator, PyList};

use crate::bindings::value::PyValue;
use crate::runtime::operator::{OperatorError, OperatorResult, Output, Source, SourceStatus};
use crate::runtime::record::Record;

/// `from_collection`: the elements of a list, in order (parallelism 1).
pub struct CollectionSource {
    items: Py<PyList>,
    next: usize,
}

impl CollectionSource {
    pub fn new(items: Py<PyList>) -> Self {
        CollectionSource { items, next: 0 }
    }
}

impl Source<PyValue> for CollectionSource {
    fn poll_batch(
        &mut self,
        max: usize,
        _deadline: Instant,
        out: &mut Output<PyValue>,
    ) -> OperatorResult<SourceStatus> {
        Python::attach(|py| {
            let items = self.items.bind(py);
            let end = (self.next + max).min(items.len());
            for i in self.next..end {
                let item = items.get_item(i).map_err(OperatorError::new)?;
                out.emit(Record::new(PyValue(item.unbind())));
            }
            self.next = end;
            Ok(if end >= items.len() {
                SourceStatus::Exhausted
            } else {
                SourceStatus::More
            })
        })
    }
}

/// An iterator that takes this long for one record is slow: its records are sent on one by one.
const SLOW_RECORD: std::time::Duration = std::time::Duration::from_millis(1);

/// `from_iterable`: whatever a Python iterator (a generator, a file, ...) yields, bounded or not
/// (parallelism 1). A fast iterator's values go on in batches; a slow one's as they come.
pub struct IterableSource {
    iterator: Py<PyIterator>,
}

impl IterableSource {
    pub fn new(iterator: Py<PyIterator>) -> Self {
        IterableSource { iterator }
    }
}

impl Source<PyValue> for IterableSource {
    fn poll_batch(&mut self, max: usize, deadline: Instant, out: &mut Output<PyValue>) -> OperatorResult<SourceStatus> {
        Python::attach(|py| {
            let mut iterator = self.iterator.bind(py).clone();
            let mut asked = Instant::now();
            for _ in 0..max {
                match iterator.next() {
                    None => return Ok(SourceStatus::Exhausted),
                    Some(Err(e)) => return Err(OperatorError::new(e)),
                    Some(Ok(v)) => out.emit(Record::new(PyValue(v.unbind()))),
                }
                // A slow iterator's records go on as they come (the next one may be long in
                // coming); a fast one's when the batch is full or the buffer timeout passes.
                let now = Instant::now();
                if now.duration_since(asked) >= SLOW_RECORD {
                    return Ok(SourceStatus::MoreLater);
                }
                if now >= deadline {
                    break;
                }
                asked = now;
            }
            Ok(SourceStatus::More)
        })
    }
}

/// `NumberSequenceSource(start, end)`: the integers `start..=end`, split into contiguous ranges,
/// one per subtask.
pub struct SequenceSource {
    next: i64,
    /// Exclusive end; `i128` so that a sequence ending at `i64::MAX` is representable.
    end: i128,
}

impl SequenceSource {
    /// The part of `start..=end` that subtask `index` of `parallelism` produces.
    pub fn split(start: i64, end: i64, index: usize, parallelism: usize) -> Self {
        let total = (end as i128 - start as i128 + 1).max(0);
        let from = start as i128 + total * index as i128 / parallelism as i128;
        let to = start as i128 + total * (index as i128 + 1) / parallelism as i128;
        SequenceSource {
            next: from as i64,
            end: to,
        }
    }
}

impl Source<PyValue> for SequenceSource {
    fn poll_batch(
        &mut self,
        max: usize,
        _deadline: Instant,
        out: &mut Output<PyValue>,
    ) -> OperatorResult<SourceStatus> {
        Python::attach(|py| {
            let stop = (self.next as i128 + max as i128).min(self.end);
            while (self.next as i128) < stop {
                let v = self.next.into_pyobject(py).map_err(OperatorError::new)?;
                out.emit(Record::new(PyValue(v.into_any().unbind())));
                self.next = self.next.wrapping_add(1);
                if self.next == i64::MIN {
                    break;
                }
            }
            Ok(if stop >= self.end {
                SourceStatus::Exhausted
            } else {
                SourceStatus::More
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::SequenceSource;

    #[test]
    fn sequence_splits_cover_the_range_once() {
        for parallelism in 1..6 {
            let mut next = 3i128;
            for i in 0..parallelism {
                let s = SequenceSource::split(3, 20, i, parallelism);
                assert_eq!(s.next as i128, next);
                next = s.end;
            }
            assert_eq!(next, 21);
        }
        let top = SequenceSource::split(i64::MAX - 1, i64::MAX, 0, 1);
        assert_eq!(top.end, i64::MAX as i128 + 1);
    }
}
