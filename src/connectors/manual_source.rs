//! A source fed by hand, for tests: records with timestamps, watermarks, and the end of input are
//! pushed into a queue that the source task drains.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::runtime::operator::{OperatorResult, Output, Source, SourceStatus};
use crate::runtime::record::{Data, Record};

/// One thing pushed into a manual source.
pub enum ManualItem<V> {
    Record(Record<V>),
    Watermark(i64),
    End,
}

/// The feeding end of a manual source: clone it to push from elsewhere.
pub struct ManualFeed<V> {
    queue: Arc<Mutex<VecDeque<ManualItem<V>>>>,
}

impl<V> Clone for ManualFeed<V> {
    fn clone(&self) -> Self {
        ManualFeed {
            queue: Arc::clone(&self.queue),
        }
    }
}

impl<V> Default for ManualFeed<V> {
    fn default() -> Self {
        ManualFeed {
            queue: Arc::new(Mutex::new(VecDeque::new())),
        }
    }
}

impl<V> ManualFeed<V> {
    pub fn push(&self, item: ManualItem<V>) {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).push_back(item);
    }

    /// The source that reads what this feed gets.
    pub fn source(&self) -> ManualSource<V> {
        ManualSource {
            queue: Arc::clone(&self.queue),
            ended: false,
            watermark: i64::MIN,
        }
    }

    /// Takes everything still queued (to drop it where values may be dropped).
    pub fn drain(&self) -> Vec<ManualItem<V>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).drain(..).collect()
    }
}

pub struct ManualSource<V> {
    queue: Arc<Mutex<VecDeque<ManualItem<V>>>>,
    ended: bool,
    /// The last watermark emitted: watermarks only move forward.
    watermark: i64,
}

impl<V: Data> Source<V> for ManualSource<V> {
    fn poll_batch(&mut self, max: usize, _deadline: Instant, out: &mut Output<V>) -> OperatorResult<SourceStatus> {
        if self.ended {
            return Ok(SourceStatus::Exhausted);
        }
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if queue.is_empty() {
            return Ok(SourceStatus::Idle);
        }
        let mut taken = 0;
        while taken < max {
            match queue.pop_front() {
                None => break,
                Some(ManualItem::Record(r)) => {
                    out.emit(r);
                    taken += 1;
                }
                Some(ManualItem::Watermark(w)) => {
                    if w > self.watermark {
                        self.watermark = w;
                        out.emit_watermark(w);
                    }
                }
                Some(ManualItem::End) => {
                    self.ended = true;
                    return Ok(SourceStatus::Exhausted);
                }
            }
        }
        Ok(SourceStatus::More)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_come_out_in_order_with_watermarks_between_records() {
        let feed: ManualFeed<i64> = ManualFeed::default();
        let mut source = feed.source();
        let mut out = Output::default();
        let now = Instant::now();
        assert_eq!(source.poll_batch(10, now, &mut out).unwrap(), SourceStatus::Idle);
        feed.push(ManualItem::Record(Record::with_timestamp(1, 5)));
        feed.push(ManualItem::Watermark(5));
        feed.push(ManualItem::Watermark(4));
        feed.push(ManualItem::Record(Record::with_timestamp(2, 6)));
        assert_eq!(source.poll_batch(10, now, &mut out).unwrap(), SourceStatus::More);
        assert_eq!(out.main.iter().map(|r| r.value).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(
            out.progress,
            vec![(1, crate::runtime::operator::Progress::Watermark(5))]
        );
        feed.push(ManualItem::End);
        assert_eq!(
            source.poll_batch(10, now, &mut Output::default()).unwrap(),
            SourceStatus::Exhausted
        );
    }
}
