//! Keyed state as Python sees it: the store a keyed operator keeps, and the state handles.

mod backend;
mod errors;
mod handles;
mod heap_backend;
mod operator_store;
mod rocksdb_backend;
mod store;
mod ttl;
mod value_codec;

pub use handles::{AggregatingState, ListState, MapState, ReducingState, ValueState};
pub use operator_store::{OperatorListState, OperatorStateStore};
pub use store::{StateStore, StateView, KEYED_SNAPSHOT};
pub use value_codec::PICKLE_PROTOCOL;
