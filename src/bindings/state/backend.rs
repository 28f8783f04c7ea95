//! The one interface both keyed-state backends offer the state handles: the heap backend keeps
//! Python objects as they are, the RocksDB backend serializes them.
//!
//! Entries of a state with a time-to-live are `(value, last_access_ms)` tuples at this
//! interface; each backend keeps them its own way.

use std::path::Path;

use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::runtime::key::Key;
use crate::state::keyed::{Namespace, StateId, StateKind};

use super::ttl::Ttl;

/// Where an entry is: state, key, namespace.
#[derive(Clone, Copy)]
pub struct Slot<'a> {
    pub state: StateId,
    pub key: &'a Key,
    pub namespace: Namespace,
}

/// A Python object the store let go of: dropped by the caller once the store is free again,
/// since its `__del__` may use state.
pub type Released = Option<Py<PyAny>>;

/// A map's entries, `(user key, stored entry)` pairs: keys a dict would merge (`1` and `True`)
/// are separate entries.
pub type MapEntries<'py> = Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>;

/// What a snapshot wrote, as `(name, number)` pairs for Python.
pub type SnapshotSummary = Vec<(&'static str, u64)>;

pub trait KeyedBackend: Send + Sync {
    /// "hashmap" or "rocksdb".
    fn name(&self) -> &'static str;

    /// The id of state `name` (of `kind`; `has_ttl`: its entries are stamped).
    fn register(&mut self, name: &str, kind: StateKind, ttl_ms: Option<i64>) -> Result<StateId, String>;

    fn id_of(&self, name: &str) -> Option<StateId>;

    /// The value of a one-value state (Value, Reducing, Aggregating).
    fn get(&mut self, py: Python<'_>, at: Slot<'_>) -> PyResult<Option<Py<PyAny>>>;

    fn put(&mut self, py: Python<'_>, at: Slot<'_>, value: Bound<'_, PyAny>) -> PyResult<Released>;

    /// Removes the entry of any kind of state (a whole list, a whole map).
    fn remove(&mut self, py: Python<'_>, at: Slot<'_>) -> PyResult<Released>;

    /// The elements of a list; the list may be the one the backend holds: callers must not
    /// change it.
    fn list_get<'py>(&mut self, py: Python<'py>, at: Slot<'_>) -> PyResult<Option<Bound<'py, PyList>>>;

    fn list_add(&mut self, py: Python<'_>, at: Slot<'_>, values: Vec<Bound<'_, PyAny>>) -> PyResult<()>;

    /// Replaces the elements of a list (none: removes it).
    fn list_update(&mut self, py: Python<'_>, at: Slot<'_>, values: Vec<Bound<'_, PyAny>>) -> PyResult<Released>;

    fn map_get<'py>(
        &mut self,
        py: Python<'py>,
        at: Slot<'_>,
        user_key: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyAny>>>;

    fn map_put(
        &mut self,
        py: Python<'_>,
        at: Slot<'_>,
        user_key: &Bound<'_, PyAny>,
        value: Bound<'_, PyAny>,
    ) -> PyResult<Released>;

    /// Removes one map entry, if it is there.
    fn map_remove(&mut self, py: Python<'_>, at: Slot<'_>, user_key: &Bound<'_, PyAny>) -> PyResult<Released>;

    /// A map's entries (none: no map).
    fn map_entries<'py>(&mut self, py: Python<'py>, at: Slot<'_>) -> PyResult<Option<MapEntries<'py>>>;

    /// The keys with an entry of `state` in `namespace`.
    fn keys(&mut self, state: StateId, namespace: Namespace) -> PyResult<Vec<Key>>;

    /// Entries over all states, keys and namespaces (RocksDB: rows; a map entry is a row).
    fn len(&mut self) -> PyResult<usize>;

    /// Writes a snapshot of every state to `directory`.
    fn snapshot(&mut self, py: Python<'_>, directory: &Path, max_parallelism: usize) -> PyResult<SnapshotSummary>;

    /// Drops expired entries of `state` (kept with `ttl`) from the next `keys` keys of a
    /// round over all its keys (None: all of them). RocksDB leaves this to its compaction
    /// filter. Returns what was dropped, for the caller to release.
    fn clean_up(
        &mut self,
        py: Python<'_>,
        state: StateId,
        ttl: &Ttl,
        now: i64,
        keys: Option<usize>,
    ) -> PyResult<Vec<Py<PyAny>>>;

    /// Runs RocksDB's compaction (and with it the compaction filter) over all state.
    fn compact(&mut self) -> PyResult<()>;
}
