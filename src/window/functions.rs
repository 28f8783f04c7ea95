//! What a window operator does with the records of a window: keep them (a running reduce, an
//! aggregate's accumulator, or the list of records) and turn them into output when it fires.
//! The bindings implement this with the user's Python functions.

use crate::runtime::key::Key;
use crate::runtime::operator::{OperatorResult, Output};
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

    fn close(&mut self) -> OperatorResult {
        Ok(())
    }
}
