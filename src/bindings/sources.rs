//! Sources that make Python values: a collection, a number sequence (`from_iterable`'s is in
//! `iterable_source.rs`).

use std::time::Instant;

use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::bindings::value::PyValue;
use crate::checkpoint::positions::{restore_positions, write_positions};
use crate::checkpoint::{SnapshotContext, SnapshotStats};
use crate::runtime::operator::{OperatorError, OperatorResult, Output, Source, SourceStatus, TaskInfo};
use crate::runtime::record::Record;

fn snapshot_error(e: crate::state::snapshot::SnapshotError) -> OperatorError {
    OperatorError::new(e.to_string())
}

fn u64_of(bytes: &[u8]) -> OperatorResult<u64> {
    bytes
        .try_into()
        .map(u64::from_le_bytes)
        .map_err(|_| OperatorError::new("a source position in the checkpoint is damaged (wrong length)"))
}

/// `from_collection`: the elements of a list, in order (parallelism 1).
pub struct CollectionSource {
    items: Py<PyList>,
    next: usize,
}

impl CollectionSource {
    /// The source, at the position the checkpoint `info` restores from holds.
    pub fn new(items: Py<PyList>, info: &TaskInfo) -> OperatorResult<Self> {
        let next = match restore_positions(info).map_err(snapshot_error)? {
            // No saved position: this subtask has nothing (left) to read.
            Some(positions) => match positions.first() {
                Some(p) => u64_of(p)? as usize,
                None => usize::MAX,
            },
            None => 0,
        };
        Ok(CollectionSource { items, next })
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
            let end = self.next.saturating_add(max).min(items.len());
            for i in self.next..end {
                let item = items.get_item(i).map_err(OperatorError::new)?;
                out.emit(Record::new(PyValue(item.unbind())));
            }
            self.next = self.next.max(end);
            Ok(if end >= items.len() {
                SourceStatus::Exhausted
            } else {
                SourceStatus::More
            })
        })
    }

    fn snapshot_state(&mut self, ctx: &SnapshotContext<'_>) -> OperatorResult<SnapshotStats> {
        write_positions(ctx.directory, vec![(self.next as u64).to_le_bytes().to_vec()]).map_err(snapshot_error)
    }

    fn records_total(&self) -> Option<u64> {
        let len = Python::attach(|py| self.items.bind(py).len());
        Some(len.saturating_sub(self.next) as u64)
    }
}

/// `NumberSequenceSource(start, end)`: the integers `start..=end`, split into contiguous ranges,
/// one per subtask. A subtask restored from a checkpoint reads what is left of the ranges it is
/// handed (any number, when the parallelism changed).
pub struct SequenceSource {
    /// Ranges still to read, `(next, end)` with an exclusive end; `i128` so that a sequence
    /// ending at `i64::MAX` is representable. The first is being read.
    ranges: Vec<(i128, i128)>,
}

impl SequenceSource {
    /// The part of `start..=end` that subtask `index` of `parallelism` produces.
    pub fn split(start: i64, end: i64, index: usize, parallelism: usize) -> Self {
        let total = (end as i128 - start as i128 + 1).max(0);
        let from = start as i128 + total * index as i128 / parallelism as i128;
        let to = start as i128 + total * (index as i128 + 1) / parallelism as i128;
        SequenceSource {
            ranges: vec![(from, to)],
        }
    }

    /// Subtask `info`'s part, or what is left of the ranges the checkpoint it restores from
    /// hands it.
    pub fn for_subtask(start: i64, end: i64, info: &TaskInfo) -> OperatorResult<Self> {
        let Some(positions) = restore_positions(info).map_err(snapshot_error)? else {
            return Ok(Self::split(start, end, info.subtask_index, info.parallelism));
        };
        let mut ranges = Vec::with_capacity(positions.len());
        for p in positions {
            if p.len() != 32 {
                return Err(OperatorError::new(
                    "a sequence position in the checkpoint is damaged (wrong length)",
                ));
            }
            let next = i128::from_le_bytes(p[..16].try_into().unwrap_or_default());
            let end = i128::from_le_bytes(p[16..].try_into().unwrap_or_default());
            ranges.push((next, end));
        }
        Ok(SequenceSource { ranges })
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
            let mut left = max as i128;
            while let Some((next, end)) = self.ranges.first_mut() {
                let stop = (*next + left).min(*end);
                while *next < stop {
                    let v = (*next as i64).into_pyobject(py).map_err(OperatorError::new)?;
                    out.emit(Record::new(PyValue(v.into_any().unbind())));
                    *next += 1;
                    left -= 1;
                }
                if *next >= *end {
                    self.ranges.remove(0);
                }
                if left == 0 {
                    break;
                }
            }
            Ok(if self.ranges.is_empty() {
                SourceStatus::Exhausted
            } else {
                SourceStatus::More
            })
        })
    }

    fn snapshot_state(&mut self, ctx: &SnapshotContext<'_>) -> OperatorResult<SnapshotStats> {
        let positions = self
            .ranges
            .iter()
            .map(|(next, end)| {
                let mut p = next.to_le_bytes().to_vec();
                p.extend_from_slice(&end.to_le_bytes());
                p
            })
            .collect();
        write_positions(ctx.directory, positions).map_err(snapshot_error)
    }

    fn records_total(&self) -> Option<u64> {
        let left: i128 = self.ranges.iter().map(|(next, end)| (end - next).max(0)).sum();
        u64::try_from(left).ok()
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
                assert_eq!(s.ranges[0].0, next);
                next = s.ranges[0].1;
            }
            assert_eq!(next, 21);
        }
        let top = SequenceSource::split(i64::MAX - 1, i64::MAX, 0, 1);
        assert_eq!(top.ranges[0].1, i64::MAX as i128 + 1);
    }
}
