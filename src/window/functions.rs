//! What a window operator does with the records of a window: keep them (a running reduce, an
//! aggregate's accumulator, or the list of records) and turn them into output when it fires.
//! The bindings implement this with the user's Python functions.

use crate::checkpoint::{SnapshotContext, SnapshotStats};
use crate::runtime::key::Key;
use crate::runtime::operator::{OperatorResult, Output, TaskInfo};
use crate::window::window::Window;

/// Clocks at the moment a window fires, for the window function's context.
#[derive(Clone, Copy, Debug)]
pub struct FireTime {
    /// The timestamp the outputs get: the window's max timestamp.
    pub timestamp: i64,
    pub watermark: i64,
    pub processing_time: i64,
}

pub trait WindowFunctions<V>: Send {
    /// What is kept per key and window.
    type Acc: Send;

    fn open(&mut self) -> OperatorResult {
        Ok(())
    }

    /// The contents of a new window, from its first record.
    fn create(&mut self, value: V) -> OperatorResult<Self::Acc>;

    /// Adds `value` to a window's contents.
    fn add(&mut self, acc: &mut Self::Acc, value: V) -> OperatorResult;

    /// The contents of a session merged from two.
    fn merge(&mut self, into: Self::Acc, other: Self::Acc) -> OperatorResult<Self::Acc>;

    /// The window fired: emit its result.
    fn emit(
        &mut self,
        key: &Key,
        window: &Window,
        acc: &Self::Acc,
        time: FireTime,
        out: &mut Output<V>,
    ) -> OperatorResult;

    /// The window is gone (after its allowed lateness): per-window cleanup of the user function.
    fn clear(&mut self, _key: &Key, _window: &Window) -> OperatorResult {
        Ok(())
    }

    /// The session gap of `value`, for sessions with a dynamic gap.
    fn session_gap(&mut self, value: &V) -> OperatorResult<i64>;

    /// Appends the bytes of a window's contents to `out`, for a checkpoint.
    fn encode(&mut self, acc: &Self::Acc, out: &mut Vec<u8>) -> OperatorResult;

    /// The contents `bytes` (made by [`WindowFunctions::encode`]) hold.
    fn decode(&mut self, bytes: &[u8]) -> OperatorResult<Self::Acc>;

    /// Checkpoint `ctx` is taken: write the functions' own state (keyed state they keep per
    /// key and window, a trigger's partitioned state, operator state) into `ctx.directory`, by
    /// key group of `max_parallelism`. The window operator writes the contents and timers.
    fn snapshot_state(&mut self, _ctx: &SnapshotContext<'_>, _max_parallelism: usize) -> OperatorResult<SnapshotStats> {
        Ok(SnapshotStats::default())
    }

    /// Called by the operator's `open`, before [`WindowFunctions::open`], when the job restores
    /// from a checkpoint (`info.restore`): take back what `snapshot_state` wrote, for the key
    /// groups of this subtask. (The bindings restore their keyed store earlier, when the
    /// operator is made, because the user's trigger and functions hold it from then on.)
    fn restore_state(&mut self, _info: &TaskInfo) -> OperatorResult {
        Ok(())
    }

    fn close(&mut self) -> OperatorResult {
        Ok(())
    }
}
