//! The RocksDB backend: values serialized by [`ValueCodec`], a map state's entries one row each
//! (keyed by the map key's byte form, so map keys are equal when keys of a keyed stream would
//! be: same type and same value; `True`, `1` and `1.0` are three entries), a list's appends
//! merged without reading the list.
//!
//! A map entry's row value is `[stamp] | value length:u32 | value | map key`: the map key as it
//! was given comes back from `keys()` and `items()` (a namedtuple stays one). The order of a
//! map's entries is that of their keys' bytes (the heap's is insertion order; PyFlink promises
//! none).

use std::path::{Path, PathBuf};

use pyo3::exceptions::{PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::bindings::key::key_bytes_from_py;
use crate::runtime::key::Key;
use crate::state::keyed::{Namespace, StateId, StateKind};
use crate::state::rocksdb::layout::{elements, push_element, stamp, unstamp, STAMP_BYTES};
use crate::state::rocksdb::{RocksDbError, RocksDbKeyedState, RocksDbSettings, StoreDirectory};

use super::backend::{KeyedBackend, MapEntries, Released, Slot, SnapshotSummary};
use super::ttl::Ttl;
use super::value_codec::ValueCodec;

pub struct RocksDbBackend {
    store: RocksDbKeyedState,
    codec: ValueCodec,
    /// Per state: whether its entries are stamped with a last access time.
    stamped: Vec<bool>,
    /// The row prefix of the last (key, namespace) used: most accesses are for the record's key.
    row: RowPrefix,
}

/// A row prefix, and the (key, namespace) it is of.
#[derive(Default)]
struct RowPrefix {
    bytes: Vec<u8>,
    of: Option<(Key, Namespace)>,
}

impl RowPrefix {
    /// The row prefix of `at`'s key and namespace in `store`.
    fn at(&mut self, store: &RocksDbKeyedState, at: Slot<'_>) -> &[u8] {
        let cached = matches!(&self.of, Some((k, n)) if k == at.key && *n == at.namespace);
        if !cached {
            store.row_prefix(&mut self.bytes, at.key, &at.namespace);
            self.of = Some((at.key.clone(), at.namespace));
        }
        &self.bytes
    }
}

pub fn rocksdb_error(e: RocksDbError) -> PyErr {
    PyOSError::new_err(e.0)
}

impl RocksDbBackend {
    pub fn open(py: Python<'_>, directory: StoreDirectory, settings: RocksDbSettings) -> PyResult<Self> {
        let store = RocksDbKeyedState::open(directory, settings).map_err(rocksdb_error)?;
        Self::with_store(py, store)
    }

    pub fn restore(
        py: Python<'_>,
        directories: &[PathBuf],
        key_groups: std::ops::Range<usize>,
        directory: StoreDirectory,
        settings: RocksDbSettings,
    ) -> PyResult<Self> {
        let paths: Vec<&Path> = directories.iter().map(PathBuf::as_path).collect();
        let store = py
            .detach(|| RocksDbKeyedState::restore_from(&paths, key_groups, directory, settings))
            .map_err(rocksdb_error)?;
        Self::with_store(py, store)
    }

    fn with_store(py: Python<'_>, store: RocksDbKeyedState) -> PyResult<Self> {
        let stamped = store.states().iter().map(|s| s.ttl.get().is_some()).collect();
        Ok(RocksDbBackend {
            store,
            codec: ValueCodec::new(py)?,
            stamped,
            row: RowPrefix::default(),
        })
    }

    /// The row of a map entry: the prefix, then the map key's byte form (keys of another type
    /// are other entries, as keys of keyed streams are other keys).
    fn map_row(&mut self, at: Slot<'_>, user_key: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
        key_bytes_from_py(user_key, self.row.at(&self.store, at).to_vec())
    }

    fn is_stamped(&self, state: StateId) -> bool {
        self.stamped.get(state as usize).copied().unwrap_or(false)
    }

    fn state_name(&self, state: StateId) -> &str {
        self.store.states().get(state as usize).map_or("?", |s| s.name.as_str())
    }

    /// The bytes of an entry: a `(value, last_access)` tuple becomes a stamp and the value's
    /// bytes when the state has a time-to-live.
    fn encode(&self, state: StateId, entry: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
        let named = |e: PyErr| {
            let message = format!("state '{}': {}", self.state_name(state), e.value(entry.py()));
            if e.is_instance_of::<PyTypeError>(entry.py()) {
                PyTypeError::new_err(message)
            } else {
                PyValueError::new_err(message)
            }
        };
        if self.is_stamped(state) {
            let (value, last_access): (Bound<'_, PyAny>, i64) = entry.extract()?;
            let bytes = self.codec.to_bytes(&value).map_err(named)?;
            Ok(stamp(last_access, &bytes))
        } else {
            self.codec.to_bytes(entry).map_err(named)
        }
    }

    fn decode<'py>(&self, py: Python<'py>, state: StateId, bytes: &[u8]) -> PyResult<Bound<'py, PyAny>> {
        if self.is_stamped(state) {
            let (last_access, value) = unstamp(bytes).map_err(|e| PyValueError::new_err(e.0))?;
            let value = self.codec.decode(py, value)?;
            Ok(PyTuple::new(py, [value, last_access.into_pyobject(py)?.into_any()])?.into_any())
        } else {
            self.codec.decode(py, bytes)
        }
    }

    /// The row value of a map entry (see the module's doc).
    fn encode_map_entry(
        &self,
        state: StateId,
        user_key: &Bound<'_, PyAny>,
        entry: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<u8>> {
        let value = self.encode(state, entry)?;
        let (stamp, value) = value.split_at(if self.is_stamped(state) { STAMP_BYTES } else { 0 });
        let mut out = Vec::with_capacity(value.len() + 32);
        out.extend_from_slice(stamp);
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        out.extend_from_slice(value);
        self.codec.encode(user_key, &mut out)?;
        Ok(out)
    }

    /// The map key and the entry of a map row's value.
    fn decode_map_entry<'py>(
        &self,
        py: Python<'py>,
        state: StateId,
        bytes: &[u8],
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let damaged = || PyValueError::new_err("a damaged map entry in RocksDB");
        let at = if self.is_stamped(state) { STAMP_BYTES } else { 0 };
        let (stamp, rest) = bytes.split_at_checked(at).ok_or_else(damaged)?;
        let (len, rest) = rest.split_at_checked(4).ok_or_else(damaged)?;
        let len = u32::from_le_bytes(len.try_into().map_err(|_| damaged())?) as usize;
        let (value, key) = rest.split_at_checked(len).ok_or_else(damaged)?;
        let mut entry = stamp.to_vec();
        entry.extend_from_slice(value);
        Ok((self.codec.decode(py, key)?, self.decode(py, state, &entry)?))
    }

    fn framed(&self, state: StateId, values: &[Bound<'_, PyAny>]) -> PyResult<Vec<u8>> {
        let mut out = Vec::new();
        for v in values {
            push_element(&mut out, &self.encode(state, v)?);
        }
        Ok(out)
    }
}

impl KeyedBackend for RocksDbBackend {
    fn name(&self) -> &'static str {
        "rocksdb"
    }

    fn register(&mut self, name: &str, kind: StateKind, ttl_ms: Option<i64>) -> Result<StateId, String> {
        let id = self.store.register(name, kind, ttl_ms)?;
        if self.stamped.len() <= id as usize {
            self.stamped.resize(id as usize + 1, false);
        }
        self.stamped[id as usize] = ttl_ms.is_some();
        Ok(id)
    }

    fn id_of(&self, name: &str) -> Option<StateId> {
        self.store.id_of(name)
    }

    fn get(&mut self, py: Python<'_>, at: Slot<'_>) -> PyResult<Option<Py<PyAny>>> {
        let row = self.row.at(&self.store, at);
        let Some(bytes) = self.store.get(at.state, row).map_err(rocksdb_error)? else {
            return Ok(None);
        };
        Ok(Some(self.decode(py, at.state, &bytes)?.unbind()))
    }

    fn put(&mut self, _py: Python<'_>, at: Slot<'_>, value: Bound<'_, PyAny>) -> PyResult<Released> {
        let bytes = self.encode(at.state, &value)?;
        let row = self.row.at(&self.store, at);
        self.store.put(at.state, row, &bytes).map_err(rocksdb_error)?;
        Ok(None)
    }

    fn remove(&mut self, _py: Python<'_>, at: Slot<'_>) -> PyResult<Released> {
        let kind = self.store.states().get(at.state as usize).map(|s| s.kind);
        let row = self.row.at(&self.store, at);
        if kind == Some(StateKind::Map) {
            self.store.delete_prefix(at.state, row).map_err(rocksdb_error)?;
        } else {
            self.store.delete(at.state, row).map_err(rocksdb_error)?;
        }
        Ok(None)
    }

    fn list_get<'py>(&mut self, py: Python<'py>, at: Slot<'_>) -> PyResult<Option<Bound<'py, PyList>>> {
        let row = self.row.at(&self.store, at);
        let Some(bytes) = self.store.get(at.state, row).map_err(rocksdb_error)? else {
            return Ok(None);
        };
        let list = PyList::empty(py);
        for element in elements(&bytes) {
            let element = element.map_err(|e| PyValueError::new_err(format!("a damaged list: {e}")))?;
            list.append(self.decode(py, at.state, element)?)?;
        }
        Ok(Some(list))
    }

    fn list_add(&mut self, _py: Python<'_>, at: Slot<'_>, values: Vec<Bound<'_, PyAny>>) -> PyResult<()> {
        if values.is_empty() {
            return Ok(());
        }
        let framed = self.framed(at.state, &values)?;
        let row = self.row.at(&self.store, at);
        self.store.merge(at.state, row, &framed).map_err(rocksdb_error)
    }

    fn list_update(&mut self, py: Python<'_>, at: Slot<'_>, values: Vec<Bound<'_, PyAny>>) -> PyResult<Released> {
        if values.is_empty() {
            return self.remove(py, at);
        }
        let framed = self.framed(at.state, &values)?;
        let row = self.row.at(&self.store, at);
        self.store.put(at.state, row, &framed).map_err(rocksdb_error)?;
        Ok(None)
    }

    fn map_get<'py>(
        &mut self,
        py: Python<'py>,
        at: Slot<'_>,
        user_key: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let row = self.map_row(at, user_key)?;
        let Some(bytes) = self.store.get(at.state, &row).map_err(rocksdb_error)? else {
            return Ok(None);
        };
        Ok(Some(self.decode_map_entry(py, at.state, &bytes)?.1))
    }

    fn map_put(
        &mut self,
        _py: Python<'_>,
        at: Slot<'_>,
        user_key: &Bound<'_, PyAny>,
        value: Bound<'_, PyAny>,
    ) -> PyResult<Released> {
        let row = self.map_row(at, user_key)?;
        let bytes = self.encode_map_entry(at.state, user_key, &value)?;
        self.store.put(at.state, &row, &bytes).map_err(rocksdb_error)?;
        Ok(None)
    }

    fn map_remove(&mut self, _py: Python<'_>, at: Slot<'_>, user_key: &Bound<'_, PyAny>) -> PyResult<Released> {
        let row = self.map_row(at, user_key)?;
        self.store.delete(at.state, &row).map_err(rocksdb_error)?;
        Ok(None)
    }

    fn map_entries<'py>(&mut self, py: Python<'py>, at: Slot<'_>) -> PyResult<Option<MapEntries<'py>>> {
        let prefix = self.row.at(&self.store, at).to_vec();
        let mut values = Vec::new();
        self.store
            .scan_prefix(at.state, &prefix, |_, value| {
                values.push(value.to_vec());
                true
            })
            .map_err(rocksdb_error)?;
        if values.is_empty() {
            return Ok(None);
        }
        let entries = values
            .iter()
            .map(|value| self.decode_map_entry(py, at.state, value))
            .collect::<PyResult<_>>()?;
        Ok(Some(entries))
    }

    fn keys(&mut self, state: StateId, namespace: Namespace) -> PyResult<Vec<Key>> {
        self.store.keys(state, &namespace).map_err(rocksdb_error)
    }

    fn len(&mut self) -> PyResult<usize> {
        Ok(self.store.count_rows().map_err(rocksdb_error)? as usize)
    }

    fn snapshot(&mut self, py: Python<'_>, directory: &Path, max_parallelism: usize) -> PyResult<SnapshotSummary> {
        if max_parallelism != self.store.max_parallelism() {
            return Err(PyValueError::new_err(format!(
                "this RocksDB store keeps key groups of max parallelism {}, not {max_parallelism}",
                self.store.max_parallelism()
            )));
        }
        let store = &mut self.store;
        let info = py.detach(|| store.snapshot_to(directory)).map_err(rocksdb_error)?;
        Ok(vec![
            ("files", info.files as u64),
            ("bytes", info.bytes),
            ("new_files", info.new_files as u64),
            ("new_bytes", info.new_bytes),
        ])
    }

    fn clean_up(
        &mut self,
        _py: Python<'_>,
        _state: StateId,
        _ttl: &Ttl,
        _now: i64,
        _keys: Option<usize>,
    ) -> PyResult<Vec<Py<PyAny>>> {
        Ok(Vec::new())
    }

    fn compact(&mut self) -> PyResult<()> {
        self.store.compact().map_err(rocksdb_error)
    }
}
