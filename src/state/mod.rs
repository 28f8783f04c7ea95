//! State: keyed state in memory, the byte forms of keys and namespaces, and snapshots of keyed
//! state by key group. (RocksDB, operator and broadcast state come next.)

pub mod codec;
pub mod keyed;
pub mod snapshot;
