//! The elements that travel on a channel between two subtasks, in order.

use std::time::Instant;

use crate::runtime::record::Record;

/// When the oldest record of a batch was handed on by its source (None when it was not made
/// from source records directly, e.g. results a watermark fired), for latency metrics.
pub type Origin = Option<Instant>;

/// One element on a channel. Records travel in batches; control elements keep their place
/// between batches.
#[derive(Debug)]
pub enum Message<V> {
    /// Records, in the order they were produced, and the origin of the oldest.
    Batch(Vec<Record<V>>, Origin),
    /// Event time has reached this value on the sending subtask.
    Watermark(i64),
    /// The sending subtask became idle (true: it will not hold event time back until it sends
    /// records again) or active again (false).
    Idle(bool),
    /// Marks the point between records where checkpoint `id` is taken. A receiving subtask
    /// aligns: it holds back a channel that delivered the barrier until every channel has.
    Barrier(u64),
    /// The sending subtask has produced everything it ever will.
    EndOfInput,
}
