//! Keyed state as Python sees it: the store a keyed operator keeps (Python objects held as they
//! are), and the ValueState / ListState / MapState / ReducingState / AggregatingState handles
//! that `runtime_context.get_state(descriptor)` and `context.window_state()` return.
//!
//! A state with time-to-live keeps each entry (a value; each element of a list; each entry of a
//! map) as a `(value, last_access_ms)` tuple, and drops it when it is touched after expiring.

use std::path::{Path, PathBuf};

use pyo3::exceptions::{PyKeyError, PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyIterator, PyList, PyTuple};

use crate::bindings::key::{key_from_py, type_name};
use crate::runtime::key::Key;
use crate::runtime::key_group::{DEFAULT_MAX_PARALLELISM, UPPER_BOUND_MAX_PARALLELISM};
use crate::state::keyed::{KeyedState, Namespace, StateId, StateKind};
use crate::state::snapshot::SnapshotError;
use crate::time::clock::Clock;

/// The keyed state of one operator instance, and the key of the record being processed.
#[pyclass(module = "ferroflow._engine", name = "KeyedStateStore")]
pub struct StateStore {
    state: KeyedState<Py<PyAny>>,
    pub current_key: Option<Key>,
    /// Processing time, for state time-to-live.
    clock: Clock,
}

impl StateStore {
    pub fn new_py(py: Python<'_>, clock: Clock) -> PyResult<Py<StateStore>> {
        Py::new(
            py,
            StateStore {
                state: KeyedState::default(),
                current_key: None,
                clock,
            },
        )
    }

    /// A store of its own (no operator), for snapshot tests and benchmarks: processing time
    /// from a manual clock at `processing_time`, or the system clock.
    fn standalone(processing_time: Option<i64>) -> StateStore {
        StateStore {
            state: KeyedState::default(),
            current_key: None,
            clock: processing_time.map_or(Clock::System, Clock::manual),
        }
    }

    fn key(&self) -> PyResult<&Key> {
        self.current_key.as_ref().ok_or_else(no_current_key)
    }
}

/// The error of state used with no current key.
fn no_current_key() -> PyErr {
    PyRuntimeError::new_err(
        "keyed state belongs to a key: use it while a record (or timer, or window) of a keyed \
         stream is being processed, not in open() or close()",
    )
}

/// What a descriptor's `_engine_spec()` gives: kind, name, function, and time-to-live as
/// `(ttl_ms, refresh_on_read, return_expired)`.
type DescriptorSpec = (String, String, Option<Py<PyAny>>, Option<(i64, bool, bool)>);

#[pymethods]
impl StateStore {
    #[new]
    #[pyo3(signature = (processing_time=None))]
    fn py_new(processing_time: Option<i64>) -> StateStore {
        StateStore::standalone(processing_time)
    }

    /// The state getters of the store (the global namespace), as a runtime context has them.
    fn view(slf: Bound<'_, Self>) -> PyResult<Py<StateView>> {
        Py::new(
            slf.py(),
            StateView {
                store: slf.unbind(),
                namespace: Namespace::Global,
            },
        )
    }

    /// Sets the key whose entries the handles read and write.
    fn set_current_key(&mut self, key: &Bound<'_, PyAny>) -> PyResult<()> {
        self.current_key = Some(key_from_py(key)?);
        Ok(())
    }

    /// Moves a manual clock to `time` (ms).
    fn set_processing_time(&self, time: i64) {
        self.clock.advance_to(time);
    }

    /// Entries held, over all states, keys and namespaces.
    fn __len__(&self) -> usize {
        self.state.len()
    }

    /// Writes every entry (values pickled) to `directory`, by key group of `max_parallelism`;
    /// returns `(entries, key_groups, bytes)`.
    #[pyo3(signature = (directory, max_parallelism=DEFAULT_MAX_PARALLELISM))]
    fn snapshot(&self, py: Python<'_>, directory: PathBuf, max_parallelism: usize) -> PyResult<(usize, usize, u64)> {
        check_max_parallelism(max_parallelism)?;
        let dumps = py.import("pickle")?.getattr("dumps")?;
        let info = self
            .state
            .snapshot_to(&directory, max_parallelism, |value| {
                let value = value.bind(py);
                dumps
                    .call1((value, PICKLE_PROTOCOL))
                    .and_then(|b| b.extract::<Vec<u8>>())
                    .map_err(|e| format!("a value of type '{}' cannot be pickled: {e}", type_name(value)))
            })
            .map_err(snapshot_error)?;
        Ok((info.entries, info.key_groups, info.bytes))
    }

    /// The store of a subtask owning key groups `key_group_start..key_group_end`, from the
    /// snapshots of the subtasks of an earlier run (any parallelism).
    #[staticmethod]
    #[pyo3(signature = (directories, key_group_start, key_group_end, processing_time=None))]
    fn restore(
        py: Python<'_>,
        directories: Vec<PathBuf>,
        key_group_start: usize,
        key_group_end: usize,
        processing_time: Option<i64>,
    ) -> PyResult<StateStore> {
        let loads = py.import("pickle")?.getattr("loads")?;
        let paths: Vec<&Path> = directories.iter().map(PathBuf::as_path).collect();
        let state = KeyedState::restore_from(&paths, key_group_start..key_group_end, |bytes| {
            loads
                .call1((PyBytes::new(py, bytes),))
                .map(Bound::unbind)
                .map_err(|e| format!("a value cannot be unpickled: {e}"))
        })
        .map_err(snapshot_error)?;
        Ok(StateStore {
            state,
            ..StateStore::standalone(processing_time)
        })
    }
}

/// The pickle protocol of snapshots (5: out-of-band buffers, Python 3.8+).
const PICKLE_PROTOCOL: u8 = 5;

fn check_max_parallelism(max_parallelism: usize) -> PyResult<()> {
    if max_parallelism == 0 || max_parallelism > UPPER_BOUND_MAX_PARALLELISM {
        return Err(PyValueError::new_err(format!(
            "max parallelism must be in 1..={UPPER_BOUND_MAX_PARALLELISM}, got {max_parallelism}"
        )));
    }
    Ok(())
}

fn snapshot_error(e: SnapshotError) -> PyErr {
    match e {
        SnapshotError::Io { ref error, .. } => PyOSError::new_err((error.raw_os_error().unwrap_or(0), e.to_string())),
        SnapshotError::Value { .. } => PyTypeError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// Makes the handle `descriptor` describes, in `namespace`; `expected` is the kind the getter
/// promises (`get_list_state` wants a ListStateDescriptor).
fn handle(
    py: Python<'_>,
    store: &Py<StateStore>,
    namespace: Namespace,
    descriptor: &Bound<'_, PyAny>,
    expected: Option<StateKind>,
) -> PyResult<Py<PyAny>> {
    let spec = descriptor.call_method0("_engine_spec").map_err(|_| {
        PyTypeError::new_err(format!(
            "expected a state descriptor (ValueStateDescriptor, ...), got a value of type '{}'",
            type_name(descriptor)
        ))
    })?;
    let (kind, name, function, ttl): DescriptorSpec = spec.extract()?;
    let ttl = ttl.map(|(ttl, refresh_on_read, return_expired)| Ttl {
        ttl,
        refresh_on_read,
        return_expired,
    });
    let kind = StateKind::parse(&kind).ok_or_else(|| PyValueError::new_err(format!("unknown state kind '{kind}'")))?;
    if let Some(expected) = expected {
        if expected != kind {
            return Err(PyTypeError::new_err(format!(
                "this method makes a {}, but the descriptor of '{name}' describes a {}",
                expected.name(),
                kind.name()
            )));
        }
    }
    let id = store
        .borrow_mut(py)
        .state
        .register(&name, kind)
        .map_err(PyValueError::new_err)?;
    let base = StateHandle {
        store: store.clone_ref(py),
        id,
        namespace,
        ttl,
    };
    Ok(match kind {
        StateKind::Value => Py::new(py, ValueState(base))?.into_any(),
        StateKind::List => Py::new(py, ListState(base))?.into_any(),
        StateKind::Map => Py::new(py, MapState(base))?.into_any(),
        StateKind::Reducing => Py::new(
            py,
            ReducingState {
                base,
                function: required(function, &name)?,
            },
        )?
        .into_any(),
        StateKind::Aggregating => Py::new(
            py,
            AggregatingState {
                base,
                function: required(function, &name)?,
            },
        )?
        .into_any(),
    })
}

fn required(function: Option<Py<PyAny>>, name: &str) -> PyResult<Py<PyAny>> {
    function.ok_or_else(|| PyValueError::new_err(format!("the descriptor of '{name}' has no function")))
}

/// The state getters of a keyed store in one namespace (`RuntimeContext.get_state` and the
/// window functions' `window_state()` / `global_state()`).
#[pyclass(module = "ferroflow._engine", name = "KeyedStateStoreView")]
pub struct StateView {
    pub store: Py<StateStore>,
    pub namespace: Namespace,
}

impl StateView {
    /// The handle of any kind of descriptor.
    pub fn get_any(&self, py: Python<'_>, state_descriptor: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        handle(py, &self.store, self.namespace, state_descriptor, None)
    }
}

#[pymethods]
impl StateView {
    fn get_state(&self, py: Python<'_>, state_descriptor: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        handle(
            py,
            &self.store,
            self.namespace,
            state_descriptor,
            Some(StateKind::Value),
        )
    }

    fn get_list_state(&self, py: Python<'_>, state_descriptor: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        handle(py, &self.store, self.namespace, state_descriptor, Some(StateKind::List))
    }

    fn get_map_state(&self, py: Python<'_>, state_descriptor: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        handle(py, &self.store, self.namespace, state_descriptor, Some(StateKind::Map))
    }

    fn get_reducing_state(&self, py: Python<'_>, state_descriptor: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        handle(
            py,
            &self.store,
            self.namespace,
            state_descriptor,
            Some(StateKind::Reducing),
        )
    }

    fn get_aggregating_state(&self, py: Python<'_>, state_descriptor: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        handle(
            py,
            &self.store,
            self.namespace,
            state_descriptor,
            Some(StateKind::Aggregating),
        )
    }
}

/// How the entries of a state expire (`StateTtlConfig`).
#[derive(Clone, Copy)]
struct Ttl {
    /// Milliseconds of processing time an entry lives after its last access.
    ttl: i64,
    /// Reading counts as an access (`OnReadAndWrite`), not only writing.
    refresh_on_read: bool,
    /// An expired entry is returned once more when it is read, as it is cleaned up
    /// (`ReturnExpiredIfNotCleanedUp`).
    return_expired: bool,
}

/// An entry of a state with time-to-live, read at processing time `now`.
struct Stamped<'py> {
    value: Bound<'py, PyAny>,
    expired: bool,
}

impl Ttl {
    fn stamp<'py>(&self, value: Bound<'py, PyAny>, now: i64) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyTuple::new(value.py(), [value.clone(), now.into_pyobject(value.py())?.into_any()])?.into_any())
    }

    fn open<'py>(&self, stored: &Bound<'py, PyAny>, now: i64) -> PyResult<Stamped<'py>> {
        let (value, last_access): (Bound<'py, PyAny>, i64) = stored.extract()?;
        Ok(Stamped {
            value,
            expired: last_access.saturating_add(self.ttl) <= now,
        })
    }

    /// Whether a read returns the entry: a live one always, an expired one only with
    /// `ReturnExpiredIfNotCleanedUp`.
    fn visible(&self, entry: &Stamped<'_>) -> bool {
        !entry.expired || self.return_expired
    }
}

/// Where a handle's entries are: its store, state and namespace; the key is the store's current
/// key.
struct StateHandle {
    store: Py<StateStore>,
    id: StateId,
    namespace: Namespace,
    ttl: Option<Ttl>,
}

impl StateHandle {
    fn now(&self, py: Python<'_>) -> i64 {
        self.store.borrow(py).clock.now()
    }

    /// The value of a one-value state (Value, Reducing, Aggregating), with its time-to-live
    /// applied: an expired value is dropped (and returned once more only if `visible_expired`).
    fn read(&self, py: Python<'_>, visible_expired: bool) -> PyResult<Option<Py<PyAny>>> {
        let Some(stored) = self.get(py)? else {
            return Ok(None);
        };
        let Some(ttl) = self.ttl else {
            return Ok(Some(stored));
        };
        let now = self.now(py);
        let entry = ttl.open(stored.bind(py), now)?;
        if entry.expired {
            self.clear(py)?;
            return Ok((visible_expired && ttl.visible(&entry)).then(|| entry.value.unbind()));
        }
        if ttl.refresh_on_read {
            self.put(py, ttl.stamp(entry.value.clone(), now)?.unbind())?;
        }
        Ok(Some(entry.value.unbind()))
    }

    /// Sets the value of a one-value state, stamped when it has a time-to-live.
    fn write(&self, py: Python<'_>, value: Py<PyAny>) -> PyResult<()> {
        let stored = self.stamp(value.into_bound(py))?;
        self.put(py, stored.unbind())
    }

    /// `value` as it is kept: stamped with the current time when the state has a time-to-live.
    fn stamp<'py>(&self, value: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        match self.ttl {
            Some(ttl) => {
                let now = self.now(value.py());
                ttl.stamp(value, now)
            }
            None => Ok(value),
        }
    }

    /// A new reference to the entry of the current key.
    fn get(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let store = self.store.borrow(py);
        let key = store.key()?;
        Ok(store.state.get(self.id, key, self.namespace).map(|v| v.clone_ref(py)))
    }

    fn put(&self, py: Python<'_>, value: Py<PyAny>) -> PyResult<()> {
        let mut store = self.store.borrow_mut(py);
        let StateStore { state, current_key, .. } = &mut *store;
        let key = current_key.as_ref().ok_or_else(no_current_key)?;
        let replaced = state.put(self.id, key, self.namespace, value);
        // The replaced value goes once the store is free again (its __del__ may use state).
        drop(store);
        drop(replaced);
        Ok(())
    }

    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        let mut store = self.store.borrow_mut(py);
        let StateStore { state, current_key, .. } = &mut *store;
        let key = current_key.as_ref().ok_or_else(no_current_key)?;
        let removed = state.remove(self.id, key, self.namespace);
        drop(store);
        drop(removed);
        Ok(())
    }

    /// The entry of the current key, made by `create` if there is none (a list, a dict).
    fn get_or_create<'py>(
        &self,
        py: Python<'py>,
        create: impl FnOnce() -> Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Some(v) = self.get(py)? {
            return Ok(v.into_bound(py));
        }
        let v = create();
        self.put(py, v.clone().unbind())?;
        Ok(v)
    }
}

/// `ValueState`: `value()`, `update(value)`, `clear()`.
#[pyclass(module = "ferroflow._engine", name = "ValueState")]
pub struct ValueState(StateHandle);

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
pub struct ListState(StateHandle);

impl ListState {
    /// The elements kept for the current key (stamped ones when the state has a time-to-live).
    fn stored<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyList>>> {
        match self.0.get(py)? {
            Some(list) => Ok(Some(list.into_bound(py).cast_into::<PyList>()?)),
            None => Ok(None),
        }
    }

    fn stored_or_create<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        Ok(self
            .0
            .get_or_create(py, || PyList::empty(py).into_any())?
            .cast_into::<PyList>()?)
    }
}

#[pymethods]
impl ListState {
    /// The current key's values, as a new list (empty when there are none). Expired elements
    /// are dropped.
    fn get<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let Some(stored) = self.stored(py)? else {
            return Ok(PyList::empty(py));
        };
        let Some(ttl) = self.0.ttl else {
            return Ok(stored.get_slice(0, usize::MAX));
        };
        let now = self.0.now(py);
        let values = PyList::empty(py);
        let kept = PyList::empty(py);
        let mut changed = false;
        for item in stored.iter() {
            let entry = ttl.open(&item, now)?;
            if ttl.visible(&entry) {
                values.append(&entry.value)?;
            }
            if entry.expired {
                changed = true;
            } else if ttl.refresh_on_read {
                kept.append(ttl.stamp(entry.value, now)?)?;
                changed = true;
            } else {
                kept.append(item)?;
            }
        }
        if changed {
            if kept.is_empty() {
                self.0.clear(py)?;
            } else {
                self.0.put(py, kept.into_any().unbind())?;
            }
        }
        Ok(values)
    }

    fn add(&self, py: Python<'_>, value: Bound<'_, PyAny>) -> PyResult<()> {
        self.stored_or_create(py)?.append(self.0.stamp(value)?)
    }

    fn add_all(&self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<()> {
        let list = self.stored_or_create(py)?;
        for v in values.try_iter()? {
            list.append(self.0.stamp(v?)?)?;
        }
        Ok(())
    }

    /// Replaces the current key's values (an empty iterable clears them).
    fn update(&self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<()> {
        let list = PyList::empty(py);
        for v in values.try_iter()? {
            list.append(self.0.stamp(v?)?)?;
        }
        if list.is_empty() {
            return self.0.clear(py);
        }
        self.0.put(py, list.into_any().unbind())
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
pub struct MapState(StateHandle);

impl MapState {
    /// The dict kept for the current key (of stamped values when the state has a time-to-live).
    fn dict<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        match self.0.get(py)? {
            Some(d) => Ok(Some(d.into_bound(py).cast_into::<PyDict>()?)),
            None => Ok(None),
        }
    }

    fn dict_or_create<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        Ok(self
            .0
            .get_or_create(py, || PyDict::new(py).into_any())?
            .cast_into::<PyDict>()?)
    }

    /// The value of `key` as a read returns it: an expired entry is dropped.
    fn lookup<'py>(&self, py: Python<'py>, key: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(d) = self.dict(py)? else {
            return Ok(None);
        };
        let Some(stored) = d.get_item(key)? else {
            return Ok(None);
        };
        let Some(ttl) = self.0.ttl else {
            return Ok(Some(stored));
        };
        let now = self.0.now(py);
        let entry = ttl.open(&stored, now)?;
        if entry.expired {
            d.del_item(key)?;
            if d.is_empty() {
                self.0.clear(py)?;
            }
            return Ok(ttl.visible(&entry).then_some(entry.value));
        }
        if ttl.refresh_on_read {
            d.set_item(key, ttl.stamp(entry.value.clone(), now)?)?;
        }
        Ok(Some(entry.value))
    }

    /// The entries as a read returns them (expired ones dropped), or None when there are none.
    fn entries<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(d) = self.dict(py)? else {
            return Ok(None);
        };
        let Some(ttl) = self.0.ttl else {
            return Ok(Some(d));
        };
        let now = self.0.now(py);
        let visible = PyDict::new(py);
        for item in d.items().iter() {
            let (key, stored): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
            let entry = ttl.open(&stored, now)?;
            if ttl.visible(&entry) {
                visible.set_item(&key, &entry.value)?;
            }
            if entry.expired {
                d.del_item(&key)?;
            } else if ttl.refresh_on_read {
                d.set_item(&key, ttl.stamp(entry.value, now)?)?;
            }
        }
        if d.is_empty() {
            self.0.clear(py)?;
        }
        Ok(Some(visible))
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
        self.dict_or_create(py)?.set_item(key, self.0.stamp(value.clone())?)
    }

    fn put_all(&self, py: Python<'_>, entries: &Bound<'_, PyAny>) -> PyResult<()> {
        let d = self.dict_or_create(py)?;
        let items = if let Ok(mapping) = entries.cast::<PyDict>() {
            mapping.items().into_any()
        } else {
            entries.call_method0("items")?
        };
        for item in items.try_iter()? {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract()?;
            d.set_item(k, self.0.stamp(v)?)?;
        }
        Ok(())
    }

    /// Removes `key` (nothing happens when it is not there).
    fn remove(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        if let Some(d) = self.dict(py)? {
            if d.contains(key)? {
                d.del_item(key)?;
            }
            if d.is_empty() {
                self.0.clear(py)?;
            }
        }
        Ok(())
    }

    fn contains(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.lookup(py, key)?.is_some())
    }

    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        Ok(self.entries(py)?.map_or_else(|| PyList::empty(py), |d| d.keys()))
    }

    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        Ok(self.entries(py)?.map_or_else(|| PyList::empty(py), |d| d.values()))
    }

    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        Ok(self.entries(py)?.map_or_else(|| PyList::empty(py), |d| d.items()))
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
    base: StateHandle,
    function: Py<PyAny>,
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
    base: StateHandle,
    function: Py<PyAny>,
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
