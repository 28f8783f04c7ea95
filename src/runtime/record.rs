//! What flows between operators: records, and the values they carry.

use crate::runtime::key::Key;

/// Timestamp of a record that has none (Flink's `Long.MIN_VALUE`).
pub const NO_TIMESTAMP: i64 = i64::MIN;

/// The value type a job carries. The engine never looks inside a value; it only moves it,
/// duplicates it for fan-out, and asks the value type for the context in which values may be
/// touched (for Python objects: with the interpreter attached).
pub trait Data: Send + Sized + 'static {
    /// A second handle to the same value, for broadcast and other fan-out. Only called inside
    /// [`Data::scope`].
    fn duplicate(&self) -> Self;

    /// Runs `f` where values may be created, read and dropped. A task enters the scope once per
    /// batch and never blocks on a channel inside it.
    fn scope<R>(f: impl FnOnce() -> R) -> R {
        f()
    }

    /// About how many bytes this value holds, for bounding the data in flight between tasks in
    /// bytes. Cheap: called once per record sent on a channel. Only called inside
    /// [`Data::scope`].
    fn size_estimate(&self) -> usize {
        std::mem::size_of::<Self>()
    }

    /// Runs a whole task thread. Values that need per-thread set-up (an interpreter thread state)
    /// do it here once, so that each [`Data::scope`] is cheap.
    fn run_thread<R>(f: impl FnOnce() -> R + Send) -> R
    where
        R: Send,
    {
        f()
    }
}

/// One record: a value, its event timestamp ([`NO_TIMESTAMP`] when it has none) and, after a
/// key selector ran, its key.
#[derive(Debug)]
pub struct Record<V> {
    pub value: V,
    pub timestamp: i64,
    pub key: Option<Key>,
}

impl<V> Record<V> {
    pub fn new(value: V) -> Self {
        Record {
            value,
            timestamp: NO_TIMESTAMP,
            key: None,
        }
    }

    pub fn with_timestamp(value: V, timestamp: i64) -> Self {
        Record {
            value,
            timestamp,
            key: None,
        }
    }

    /// A new record that keeps this record's timestamp (what map, flat_map and process outputs do).
    pub fn derive<W>(&self, value: W) -> Record<W> {
        Record {
            value,
            timestamp: self.timestamp,
            key: None,
        }
    }
}

impl<V: Data> Record<V> {
    pub fn duplicate(&self) -> Self {
        Record {
            value: self.value.duplicate(),
            timestamp: self.timestamp,
            key: self.key.clone(),
        }
    }
}

impl Data for i64 {
    fn duplicate(&self) -> Self {
        *self
    }
}

impl Data for String {
    fn duplicate(&self) -> Self {
        self.clone()
    }

    fn size_estimate(&self) -> usize {
        std::mem::size_of::<Self>() + self.len()
    }
}
