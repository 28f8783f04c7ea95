//! The heap backend: Python objects held as they are, no serialization on access. A list state's
//! entry is a Python list, a map state's a dict from each map key's form (an int or str as it
//! is, other keys by the byte form keys of keyed streams have, so that `True`, `1` and `1.0` are
//! three entries, as on RocksDB) to a `(map key, entry)` tuple.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyInt, PyList, PyString, PyTuple};

use crate::bindings::key::{key_bytes_from_py, type_name};
use crate::runtime::key::Key;
use crate::state::keyed::{KeyedState, Namespace, StateId, StateKind};

use super::backend::{KeyedBackend, MapEntries, Released, Slot, SnapshotSummary};
use super::errors::snapshot_error;
use super::ttl::Ttl;
use super::value_codec::PICKLE_PROTOCOL;

#[derive(Default)]
pub struct HeapBackend {
    state: KeyedState<Py<PyAny>>,
    /// Per state with a time-to-live: where its incremental cleanup is.
    sweeps: HashMap<StateId, Sweep>,
}

/// A round of incremental cleanup over a state's entries.
#[derive(Default)]
struct Sweep {
    /// The entries still to check in this round.
    pending: Vec<(Key, Namespace)>,
    /// Accesses to let pass before the next round: listing a state's entries reads every entry
    /// of every state, so a round starts at most once per (all entries / keys per access)
    /// accesses, which keeps the work per access constant.
    wait: usize,
}

impl HeapBackend {
    /// The backend of key groups `key_groups` of heap snapshots `directories`.
    pub fn restore(py: Python<'_>, directories: &[PathBuf], key_groups: std::ops::Range<usize>) -> PyResult<Self> {
        let loads = py.import("pickle")?.getattr("loads")?;
        let paths: Vec<&Path> = directories.iter().map(PathBuf::as_path).collect();
        let state = KeyedState::restore_from(&paths, key_groups, |bytes| {
            loads
                .call1((PyBytes::new(py, bytes),))
                .map(Bound::unbind)
                .map_err(|e| format!("a value cannot be unpickled: {e}"))
        })
        .map_err(snapshot_error)?;
        Ok(HeapBackend {
            state,
            sweeps: HashMap::new(),
        })
    }

    fn held(&self, py: Python<'_>, at: Slot<'_>) -> Option<Py<PyAny>> {
        self.state.get(at.state, at.key, at.namespace).map(|v| v.clone_ref(py))
    }

    fn held_list<'py>(&self, py: Python<'py>, at: Slot<'_>) -> PyResult<Option<Bound<'py, PyList>>> {
        Ok(match self.held(py, at) {
            Some(list) => Some(list.into_bound(py).cast_into::<PyList>()?),
            None => None,
        })
    }

    /// Drops the expired parts of one entry (kept with `ttl`): a value, list elements, map
    /// entries; what it drops goes to `dropped`, for the caller to release.
    #[allow(clippy::too_many_arguments)]
    fn clean_entry(
        &mut self,
        py: Python<'_>,
        state: StateId,
        kind: StateKind,
        (key, namespace): &(Key, Namespace),
        ttl: &Ttl,
        now: i64,
        dropped: &mut Vec<Py<PyAny>>,
    ) -> PyResult<()> {
        let at = Slot {
            state,
            key,
            namespace: *namespace,
        };
        let Some(stored) = self.held(py, at) else {
            return Ok(());
        };
        let stored = stored.into_bound(py);
        match kind {
            StateKind::List => {
                let list = stored.cast::<PyList>()?;
                let mut kept = Vec::new();
                for item in list.iter() {
                    if !ttl.expired(&item, now)? {
                        kept.push(item);
                    }
                }
                if kept.len() < list.len() {
                    dropped.extend(self.list_update(py, at, kept)?);
                }
            }
            StateKind::Map => {
                let d = stored.cast::<PyDict>()?;
                for item in d.items().iter() {
                    let (form, entry): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
                    let (_, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = entry.extract()?;
                    if ttl.expired(&v, now)? {
                        d.del_item(&form)?;
                        dropped.push(entry.unbind());
                    }
                }
                if d.is_empty() {
                    dropped.extend(self.state.remove(state, key, *namespace));
                }
            }
            _ if ttl.expired(&stored, now)? => dropped.extend(self.state.remove(state, key, *namespace)),
            _ => {}
        }
        Ok(())
    }

    fn held_dict<'py>(&self, py: Python<'py>, at: Slot<'_>) -> PyResult<Option<Bound<'py, PyDict>>> {
        Ok(match self.held(py, at) {
            Some(d) => Some(d.into_bound(py).cast_into::<PyDict>()?),
            None => None,
        })
    }
}

impl KeyedBackend for HeapBackend {
    fn name(&self) -> &'static str {
        "hashmap"
    }

    fn register(&mut self, name: &str, kind: StateKind, ttl_ms: Option<i64>) -> Result<StateId, String> {
        let id = self.state.register(name, kind)?;
        self.state.set_stamped(id, ttl_ms.is_some())?;
        Ok(id)
    }

    fn id_of(&self, name: &str) -> Option<StateId> {
        self.state.id_of(name)
    }

    fn get(&mut self, py: Python<'_>, at: Slot<'_>) -> PyResult<Option<Py<PyAny>>> {
        Ok(self.held(py, at))
    }

    fn put(&mut self, _py: Python<'_>, at: Slot<'_>, value: Bound<'_, PyAny>) -> PyResult<Released> {
        Ok(self.state.put(at.state, at.key, at.namespace, value.unbind()))
    }

    fn remove(&mut self, _py: Python<'_>, at: Slot<'_>) -> PyResult<Released> {
        Ok(self.state.remove(at.state, at.key, at.namespace))
    }

    fn list_get<'py>(&mut self, py: Python<'py>, at: Slot<'_>) -> PyResult<Option<Bound<'py, PyList>>> {
        self.held_list(py, at)
    }

    fn list_add(&mut self, py: Python<'_>, at: Slot<'_>, values: Vec<Bound<'_, PyAny>>) -> PyResult<()> {
        if values.is_empty() {
            return Ok(());
        }
        match self.held_list(py, at)? {
            Some(list) => {
                for v in values {
                    list.append(v)?;
                }
            }
            None => {
                self.state.put(
                    at.state,
                    at.key,
                    at.namespace,
                    PyList::new(py, values)?.into_any().unbind(),
                );
            }
        }
        Ok(())
    }

    fn list_update(&mut self, py: Python<'_>, at: Slot<'_>, values: Vec<Bound<'_, PyAny>>) -> PyResult<Released> {
        if values.is_empty() {
            return self.remove(py, at);
        }
        let list = PyList::new(py, values)?;
        Ok(self.state.put(at.state, at.key, at.namespace, list.into_any().unbind()))
    }

    fn map_get<'py>(
        &mut self,
        py: Python<'py>,
        at: Slot<'_>,
        user_key: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(d) = self.held_dict(py, at)? else {
            return Ok(None);
        };
        match d.get_item(map_key_form(user_key)?)? {
            Some(entry) => Ok(Some(entry.cast_into::<PyTuple>()?.get_item(1)?)),
            None => Ok(None),
        }
    }

    fn map_put(
        &mut self,
        py: Python<'_>,
        at: Slot<'_>,
        user_key: &Bound<'_, PyAny>,
        value: Bound<'_, PyAny>,
    ) -> PyResult<Released> {
        let form = map_key_form(user_key)?;
        let d = match self.held_dict(py, at)? {
            Some(d) => d,
            None => {
                let d = PyDict::new(py);
                self.state
                    .put(at.state, at.key, at.namespace, d.clone().into_any().unbind());
                d
            }
        };
        let replaced = d.get_item(&form)?.map(Bound::unbind);
        d.set_item(form, PyTuple::new(py, [user_key.clone(), value])?)?;
        Ok(replaced)
    }

    fn map_remove(&mut self, py: Python<'_>, at: Slot<'_>, user_key: &Bound<'_, PyAny>) -> PyResult<Released> {
        let Some(d) = self.held_dict(py, at)? else {
            return Ok(None);
        };
        let form = map_key_form(user_key)?;
        let removed = d.get_item(&form)?.map(Bound::unbind);
        if removed.is_some() {
            d.del_item(form)?;
        }
        if d.is_empty() {
            self.state.remove(at.state, at.key, at.namespace);
        }
        Ok(removed)
    }

    fn map_entries<'py>(&mut self, py: Python<'py>, at: Slot<'_>) -> PyResult<Option<MapEntries<'py>>> {
        let Some(d) = self.held_dict(py, at)? else {
            return Ok(None);
        };
        let entries = d
            .values()
            .iter()
            .map(|entry| entry.extract())
            .collect::<PyResult<_>>()?;
        Ok(Some(entries))
    }

    fn keys(&mut self, state: StateId, namespace: Namespace) -> PyResult<Vec<Key>> {
        Ok(self
            .state
            .entries()
            .filter(|(s, _, n, _)| *s == state && *n == namespace)
            .map(|(_, key, _, _)| key.clone())
            .collect())
    }

    fn len(&mut self) -> PyResult<usize> {
        Ok(self.state.len())
    }

    fn snapshot(&mut self, py: Python<'_>, directory: &Path, max_parallelism: usize) -> PyResult<SnapshotSummary> {
        let dumps = py.import("pickle")?.getattr("dumps")?;
        let info = self
            .state
            .snapshot_to(directory, max_parallelism, |value| {
                let value = value.bind(py);
                dumps
                    .call1((value, PICKLE_PROTOCOL))
                    .and_then(|b| b.extract::<Vec<u8>>())
                    .map_err(|e| format!("a value of type '{}' cannot be pickled: {e}", type_name(value)))
            })
            .map_err(snapshot_error)?;
        Ok(vec![
            ("entries", info.entries as u64),
            ("key_groups", info.key_groups as u64),
            ("bytes", info.bytes),
        ])
    }

    fn clean_up(
        &mut self,
        py: Python<'_>,
        state: StateId,
        ttl: &Ttl,
        now: i64,
        keys: Option<usize>,
    ) -> PyResult<Vec<Py<PyAny>>> {
        let Some((_, _, kind)) = self.state.states().find(|(_, id, _)| *id == state) else {
            return Ok(Vec::new());
        };
        let entries_of_state = |s: &KeyedState<Py<PyAny>>| -> Vec<(Key, Namespace)> {
            s.entries()
                .filter(|(id, _, _, _)| *id == state)
                .map(|(_, key, namespace, _)| (key.clone(), namespace))
                .collect()
        };
        let batch = match keys {
            None => entries_of_state(&self.state),
            Some(n) => {
                let n = n.max(1);
                let total = self.state.len();
                let sweep = self.sweeps.entry(state).or_default();
                if sweep.pending.is_empty() {
                    if sweep.wait > 0 {
                        sweep.wait -= 1;
                        return Ok(Vec::new());
                    }
                    sweep.pending = entries_of_state(&self.state);
                    sweep.wait = (total / n).saturating_sub(sweep.pending.len() / n);
                }
                let take = n.min(sweep.pending.len());
                sweep.pending.split_off(sweep.pending.len() - take)
            }
        };
        let mut dropped = Vec::new();
        for entry in &batch {
            self.clean_entry(py, state, kind, entry, ttl, now, &mut dropped)?;
        }
        Ok(dropped)
    }

    fn compact(&mut self) -> PyResult<()> {
        Ok(())
    }
}

/// The dict key a map entry is held under: an int or a str of exactly that type as it is (the
/// common case; no other kept key equals one), any other key by its byte form (bytes), so that
/// keys of different types are different entries.
fn map_key_form<'py>(user_key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    if user_key.is_exact_instance_of::<PyInt>() || user_key.is_exact_instance_of::<PyString>() {
        return Ok(user_key.clone());
    }
    let form = key_bytes_from_py(user_key, Vec::new())?;
    Ok(PyBytes::new(user_key.py(), &form).into_any())
}
