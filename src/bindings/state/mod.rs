//! Keyed state as Python sees it: the store a keyed operator keeps, and the state handles.

mod handles;
mod store;
mod ttl;

pub use handles::{AggregatingState, ListState, MapState, ReducingState, ValueState};
pub use store::{StateStore, StateView};
