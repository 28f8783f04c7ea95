//! Keyed state as Python sees it: the store a keyed operator keeps (Python objects held as they
//! are), and the ValueState / ListState / MapState / ReducingState / AggregatingState handles
//! that `runtime_context.get_state(descriptor)` and `context.window_state()` return.

use pyo3::exceptions::{PyKeyError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyIterator, PyList};

use crate::bindings::key::type_name;
use crate::runtime::key::Key;
use crate::state::keyed::{KeyedState, Namespace, StateId, StateKind};

/// The keyed state of one operator instance, and the key of the record being processed.
#[pyclass(module = "ferroflow._engine", name = "KeyedStateStore")]
pub struct StateStore {
    state: KeyedState<Py<PyAny>>,
    pub current_key: Option<Key>,
}

impl StateStore {
    pub fn new_py(py: Python<'_>) -> PyResult<Py<StateStore>> {
        Py::new(
            py,
            StateStore {
                state: KeyedState::default(),
                current_key: None,
            },
        )
    }

    fn key(&self) -> PyResult<Key> {
        self.current_key.clone().ok_or_else(|| {
            PyRuntimeError::new_err(
                "keyed state belongs to a key: use it while a record (or timer, or window) of a keyed \
                 stream is being processed, not in open() or close()",
            )
        })
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
    let (kind, name, function): (String, String, Option<Py<PyAny>>) = spec.extract()?;
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

/// Where a handle's entries are: its store, state and namespace; the key is the store's current
/// key.
struct StateHandle {
    store: Py<StateStore>,
    id: StateId,
    namespace: Namespace,
}

impl StateHandle {
    /// A new reference to the entry of the current key.
    fn get(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let store = self.store.borrow(py);
        let key = store.key()?;
        Ok(store.state.get(self.id, &key, self.namespace).map(|v| v.clone_ref(py)))
    }

    fn put(&self, py: Python<'_>, value: Py<PyAny>) -> PyResult<()> {
        let mut store = self.store.borrow_mut(py);
        let key = store.key()?;
        store.state.put(self.id, &key, self.namespace, value);
        Ok(())
    }

    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        let mut store = self.store.borrow_mut(py);
        let key = store.key()?;
        let removed = store.state.remove(self.id, &key, self.namespace);
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
        self.0.get(py)
    }

    fn update(&self, py: Python<'_>, value: Py<PyAny>) -> PyResult<()> {
        if value.bind(py).is_none() {
            return self.0.clear(py);
        }
        self.0.put(py, value)
    }

    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        self.0.clear(py)
    }
}

/// `ListState`: `get()`, `add(v)`, `add_all(vs)`, `update(vs)`, `clear()`, iteration.
#[pyclass(module = "ferroflow._engine", name = "ListState")]
pub struct ListState(StateHandle);

#[pymethods]
impl ListState {
    /// The current key's values, as a new list (empty when there are none).
    fn get<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        match self.0.get(py)? {
            Some(list) => Ok(list.bind(py).cast::<PyList>()?.get_slice(0, usize::MAX)),
            None => Ok(PyList::empty(py)),
        }
    }

    fn add(&self, py: Python<'_>, value: Py<PyAny>) -> PyResult<()> {
        let list = self.0.get_or_create(py, || PyList::empty(py).into_any())?;
        list.cast::<PyList>()?.append(value)
    }

    fn add_all(&self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<()> {
        let list = self.0.get_or_create(py, || PyList::empty(py).into_any())?;
        let list = list.cast::<PyList>()?;
        for v in values.try_iter()? {
            list.append(v?)?;
        }
        Ok(())
    }

    /// Replaces the current key's values (an empty iterable clears them).
    fn update(&self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<()> {
        let list = PyList::empty(py);
        for v in values.try_iter()? {
            list.append(v?)?;
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
        let found = match self.dict(py)? {
            Some(d) => d.get_item(key)?,
            None => None,
        };
        Ok(found.or(default))
    }

    fn put(&self, py: Python<'_>, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.dict_or_create(py)?.set_item(key, value)
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
            d.set_item(k, v)?;
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
        match self.dict(py)? {
            Some(d) => d.contains(key),
            None => Ok(false),
        }
    }

    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        Ok(self.dict(py)?.map_or_else(|| PyList::empty(py), |d| d.keys()))
    }

    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        Ok(self.dict(py)?.map_or_else(|| PyList::empty(py), |d| d.values()))
    }

    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        Ok(self.dict(py)?.map_or_else(|| PyList::empty(py), |d| d.items()))
    }

    fn is_empty(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.dict(py)?.is_none_or(|d| d.is_empty()))
    }

    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        self.0.clear(py)
    }

    fn __getitem__<'py>(&self, py: Python<'py>, key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.get(py, key, None)?
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
        self.base.get(py)
    }

    fn add(&self, py: Python<'_>, value: Py<PyAny>) -> PyResult<()> {
        // The store is not borrowed while the user's function runs (it may use state itself).
        let reduced = match self.base.get(py)? {
            Some(current) => self.function.bind(py).call1((current, value))?.unbind(),
            None => value,
        };
        self.base.put(py, reduced)
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
        match self.base.get(py)? {
            Some(acc) => Ok(Some(
                self.function.bind(py).call_method1("get_result", (acc,))?.unbind(),
            )),
            None => Ok(None),
        }
    }

    fn add(&self, py: Python<'_>, value: Py<PyAny>) -> PyResult<()> {
        let f = self.function.bind(py);
        let acc = match self.base.get(py)? {
            Some(acc) => acc.into_bound(py),
            None => f.call_method0("create_accumulator")?,
        };
        let acc = f.call_method1("add", (value, acc))?;
        self.base.put(py, acc.unbind())
    }

    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        self.base.clear(py)
    }
}
