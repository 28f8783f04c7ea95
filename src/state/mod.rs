//! State: keyed state in memory, the byte forms of keys and namespaces, and snapshots of keyed
//! state by key group. Keyed state in RocksDB, for state larger than memory. Operator state (lists per operator
//! instance) and how it is redistributed on restore.

pub mod backend;
pub mod checksum;
pub mod codec;
pub mod keyed;
pub mod operator_state;
pub mod rocksdb;
pub mod snapshot;
