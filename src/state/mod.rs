//! State: keyed state in memory. (Snapshots, RocksDB, TTL, operator and broadcast state come
//! next.)

pub mod keyed;
