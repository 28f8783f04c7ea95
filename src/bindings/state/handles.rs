//! The ValueState / ListState / MapState / ReducingState / AggregatingState handles that
//! `runtime_context.get_state(descriptor)` and `context.window_state()` return: they read and
//! write the entries of the store's current key.

use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyIterator, PyList};

use crate::state::keyed::{Namespace, StateId};

use super::backend::{KeyedBackend, MapEntries, Slot};
use super::store::{no_current_key, state_in_use, StateStore};
use super::ttl::Ttl;

/// Where a handle's entries are: its store, state and namespace; the key is the store's current
/// key.
pub(super) struct StateHandle {
    pub(super) store: Py<StateStore>,
    pub(super) id: StateId,
    pub(super) namespace: Namespace,
    pub(super) ttl: Option<Ttl>,
}

impl StateHandle {
    fn now(&self, py: Python<'_>) -> PyResult<i64> {
        Ok(self.store.try_borrow(py).map_err(|_| state_in_use())?.clock.now())
    }

    /// Runs `f` on the store's backend at the current key's entry; then, for a state with a
    /// time-to-live, the incremental cleanup of a few other keys. What `f` returns is dropped by
    /// the caller, and what the cleanup drops is released here, once the store is free again
    /// (a `__del__` may use state).
    fn at<R>(&self, py: Python<'_>, f: impl FnOnce(&mut dyn KeyedBackend, Slot<'_>) -> PyResult<R>) -> PyResult<R> {
        let mut store = self.store.try_borrow_mut(py).map_err(|_| state_in_use())?;
        let StateStore {
            backend,
            current_key,
            clock,
            ..
        } = &mut *store;
        let key = current_key.as_ref().ok_or_else(no_current_key)?;
        let result = f(
            backend.as_mut(),
            Slot {
                state: self.id,
                key,
                namespace: self.namespace,
            },
        )?;
        let cleaned = match &self.ttl {
            Some(ttl) if ttl.cleanup_per_access > 0 => {
                backend.clean_up(py, self.id, ttl, clock.now(), Some(ttl.cleanup_per_access))?
            }
            _ => Vec::new(),
        };
        drop(store);
        drop(cleaned);
        Ok(result)
    }

    /// The value of a one-value state (Value, Reducing, Aggregating), with its time-to-live
    /// applied: an expired value is dropped (and returned once more only if `visible_expired`).
    fn read(&self, py: Python<'_>, visible_expired: bool) -> PyResult<Option<Py<PyAny>>> {
        let Some(stored) = self.at(py, |b, at| b.get(py, at))? else {
            return Ok(None);
        };
        let Some(ttl) = self.ttl else {
            return Ok(Some(stored));
        };
        let now = self.now(py)?;
        let entry = ttl.open(stored.bind(py), now)?;
        if entry.expired {
            self.clear(py)?;
            return Ok((visible_expired && ttl.visible(&entry)).then(|| entry.value.unbind()));
        }
        if ttl.refresh_on_read {
            self.put(py, ttl.stamp(entry.value.clone(), now)?)?;
        }
        Ok(Some(entry.value.unbind()))
    }

    /// Sets the value of a one-value state, stamped when it has a time-to-live.
    fn write(&self, py: Python<'_>, value: Py<PyAny>) -> PyResult<()> {
        let stored = self.stamp(value.into_bound(py))?;
        self.put(py, stored)
    }

    /// `value` as it is kept: stamped with the current time when the state has a time-to-live.
    fn stamp<'py>(&self, value: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        match self.ttl {
            Some(ttl) => {
                let now = self.now(value.py())?;
                ttl.stamp(value, now)
            }
            None => Ok(value),
        }
    }

    fn stamp_all<'py>(&self, values: &Bound<'py, PyAny>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        values.try_iter()?.map(|v| self.stamp(v?)).collect()
    }

    fn put(&self, py: Python<'_>, value: Bound<'_, PyAny>) -> PyResult<()> {
        let replaced = self.at(py, |b, at| b.put(py, at, value))?;
        drop(replaced);
        Ok(())
    }

    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        let removed = self.at(py, |b, at| b.remove(py, at))?;
        drop(removed);
        Ok(())
    }
}

/// `ValueState`: `value()`, `update(value)`, `clear()`.
#[pyclass(module = "ferroflow._engine", name = "ValueState")]
pub struct ValueState(pub(super) StateHandle);

#[pymethods]
impl ValueState {
    /// The value of the current key, or None.
    fn value(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.0.read(py, true)
    }

    fn update(&self, py: Python<'_>, value: Py<PyAny>) -> PyResult<()> {
        if value.bind(py).is_none() {
            return self.0.clear(py);
        }
        self.0.write(py, value)
    }

    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        self.0.clear(py)
    }
}

/// `ListState`: `get()`, `add(v)`, `add_all(vs)`, `update(vs)`, `clear()`, iteration.
#[pyclass(module = "ferroflow._engine", name = "ListState")]
pub struct ListState(pub(super) StateHandle);

#[pymethods]
impl ListState {
    /// The current key's values, as a new list (empty when there are none). Expired elements
    /// are dropped.
    fn get<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let Some(stored) = self.0.at(py, |b, at| b.list_get(py, at))? else {
            return Ok(PyList::empty(py));
        };
        let Some(ttl) = self.0.ttl else {
            return Ok(stored.get_slice(0, usize::MAX));
        };
        let now = self.0.now(py)?;
        let values = PyList::empty(py);
        let mut kept = Vec::new();
        let mut changed = false;
        for item in stored.iter() {
            let entry = ttl.open(&item, now)?;
            if ttl.visible(&entry) {
                values.append(&entry.value)?;
            }
            if entry.expired {
                changed = true;
            } else if ttl.refresh_on_read {
                kept.push(ttl.stamp(entry.value, now)?);
                changed = true;
            } else {
                kept.push(item);
            }
        }
        if changed {
            let replaced = self.0.at(py, |b, at| b.list_update(py, at, kept))?;
            drop(replaced);
        }
        Ok(values)
    }

    fn add(&self, py: Python<'_>, value: Bound<'_, PyAny>) -> PyResult<()> {
        let stamped = self.0.stamp(value)?;
        self.0.at(py, |b, at| b.list_add(py, at, vec![stamped]))
    }

    fn add_all(&self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<()> {
        let stamped = self.0.stamp_all(values)?;
        self.0.at(py, |b, at| b.list_add(py, at, stamped))
    }

    /// Replaces the current key's values (an empty iterable clears them).
    fn update(&self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<()> {
        let stamped = self.0.stamp_all(values)?;
        let replaced = self.0.at(py, |b, at| b.list_update(py, at, stamped))?;
        drop(replaced);
        Ok(())
    }

    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        self.0.clear(py)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        self.get(py)?.into_any().try_iter()
    }
}

/// `MapState`: a dict per key.
#[pyclass(module = "ferroflow._engine", name = "MapState")]
pub struct MapState(pub(super) StateHandle);

impl MapState {
    fn put_entry(&self, py: Python<'_>, key: &Bound<'_, PyAny>, stored: Bound<'_, PyAny>) -> PyResult<()> {
        let replaced = self.0.at(py, |b, at| b.map_put(py, at, key, stored))?;
        drop(replaced);
        Ok(())
    }

    fn remove_entry(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        let removed = self.0.at(py, |b, at| b.map_remove(py, at, key))?;
        drop(removed);
        Ok(())
    }

    /// The value of `key` as a read returns it: an expired entry is dropped.
    fn lookup<'py>(&self, py: Python<'py>, key: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(stored) = self.0.at(py, |b, at| b.map_get(py, at, key))? else {
            return Ok(None);
        };
        let Some(ttl) = self.0.ttl else {
            return Ok(Some(stored));
        };
        let now = self.0.now(py)?;
        let entry = ttl.open(&stored, now)?;
        if entry.expired {
            self.remove_entry(py, key)?;
            return Ok(ttl.visible(&entry).then_some(entry.value));
        }
        if ttl.refresh_on_read {
            self.put_entry(py, key, ttl.stamp(entry.value.clone(), now)?)?;
        }
        Ok(Some(entry.value))
    }

    /// The entries as a read returns them (expired ones dropped), or None when there are none.
    fn entries<'py>(&self, py: Python<'py>) -> PyResult<Option<MapEntries<'py>>> {
        let Some(entries) = self.0.at(py, |b, at| b.map_entries(py, at))? else {
            return Ok(None);
        };
        let Some(ttl) = self.0.ttl else {
            return Ok(Some(entries));
        };
        let now = self.0.now(py)?;
        let mut visible = Vec::with_capacity(entries.len());
        for (key, stored) in entries {
            let entry = ttl.open(&stored, now)?;
            if entry.expired {
                self.remove_entry(py, &key)?;
            } else if ttl.refresh_on_read {
                self.put_entry(py, &key, ttl.stamp(entry.value.clone(), now)?)?;
            }
            if ttl.visible(&entry) {
                visible.push((key, entry.value));
            }
        }
        Ok(Some(visible))
    }

    /// What `f` makes of each entry, as a list.
    fn list_of<'py, T: IntoPyObject<'py>>(
        &self,
        py: Python<'py>,
        f: impl Fn((Bound<'py, PyAny>, Bound<'py, PyAny>)) -> T,
    ) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.entries(py)?.unwrap_or_default().into_iter().map(f))
    }
}
#[pymethods]
impl MapState {
    /// The value of `key`, or `default` (None).
    #[pyo3(signature = (key, default=None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        Ok(self.lookup(py, key)?.or(default))
    }

    fn put(&self, py: Python<'_>, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.put_entry(py, key, self.0.stamp(value.clone())?)
    }

    fn put_all(&self, py: Python<'_>, entries: &Bound<'_, PyAny>) -> PyResult<()> {
        let items = if let Ok(mapping) = entries.cast::<PyDict>() {
            mapping.items().into_any()
        } else {
            entries.call_method0("items")?
        };
        for item in items.try_iter()? {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract()?;
            self.put_entry(py, &k, self.0.stamp(v)?)?;
        }
        Ok(())
    }

    /// Removes `key` (nothing happens when it is not there).
    fn remove(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        self.remove_entry(py, key)
    }

    fn contains(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.lookup(py, key)?.is_some())
    }

    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.list_of(py, |(k, _)| k)
    }

    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.list_of(py, |(_, v)| v)
    }

    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.list_of(py, |kv| kv)
    }

    fn is_empty(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.entries(py)?.is_none_or(|d| d.is_empty()))
    }

    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        self.0.clear(py)
    }

    fn __getitem__<'py>(&self, py: Python<'py>, key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.lookup(py, key)?
            .ok_or_else(|| PyKeyError::new_err(key.clone().unbind()))
    }

    fn __setitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.put(py, key, value)
    }

    fn __delitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        if !self.contains(py, key)? {
            return Err(PyKeyError::new_err(key.clone().unbind()));
        }
        self.remove(py, key)
    }

    fn __contains__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        self.contains(py, key)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        self.keys(py)?.into_any().try_iter()
    }
}

/// `ReducingState`: `get()`, `add(value)` (combined with the reduce function), `clear()`.
#[pyclass(module = "ferroflow._engine", name = "ReducingState")]
pub struct ReducingState {
    pub(super) base: StateHandle,
    pub(super) function: Py<PyAny>,
}

#[pymethods]
impl ReducingState {
    fn get(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.base.read(py, true)
    }

    fn add(&self, py: Python<'_>, value: Py<PyAny>) -> PyResult<()> {
        // The store is not borrowed while the user's function runs (it may use state itself).
        let reduced = match self.base.read(py, false)? {
            Some(current) => self.function.bind(py).call1((current, value))?.unbind(),
            None => value,
        };
        self.base.write(py, reduced)
    }

    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        self.base.clear(py)
    }
}

/// `AggregatingState`: `get()` (the aggregate's result), `add(value)`, `clear()`.
#[pyclass(module = "ferroflow._engine", name = "AggregatingState")]
pub struct AggregatingState {
    pub(super) base: StateHandle,
    pub(super) function: Py<PyAny>,
}

#[pymethods]
impl AggregatingState {
    fn get(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        match self.base.read(py, true)? {
            Some(acc) => Ok(Some(
                self.function.bind(py).call_method1("get_result", (acc,))?.unbind(),
            )),
            None => Ok(None),
        }
    }

    fn add(&self, py: Python<'_>, value: Py<PyAny>) -> PyResult<()> {
        let f = self.function.bind(py);
        let acc = match self.base.read(py, false)? {
            Some(acc) => acc.into_bound(py),
            None => f.call_method0("create_accumulator")?,
        };
        let acc = f.call_method1("add", (value, acc))?;
        self.base.write(py, acc.unbind())
    }

    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        self.base.clear(py)
    }
}
