//! The keyed state store of an operator instance (Python objects held as they are), its
//! snapshots, and the getters that make state handles from descriptors.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::bindings::key::{key_from_py, key_to_py, type_name};
use crate::runtime::key::Key;
use crate::runtime::key_group::{DEFAULT_MAX_PARALLELISM, UPPER_BOUND_MAX_PARALLELISM};
use crate::state::keyed::{KeyedState, Namespace, StateId, StateKind};
use crate::state::snapshot::SnapshotError;
use crate::time::clock::Clock;

use super::handles::{AggregatingState, ListState, MapState, ReducingState, StateHandle, ValueState};
use super::ttl::Ttl;

/// The keyed state of one operator instance, and the key of the record being processed.
#[pyclass(module = "ferroflow._engine", name = "KeyedStateStore")]
pub struct StateStore {
    pub(super) state: KeyedState<Py<PyAny>>,
    pub current_key: Option<Key>,
    /// Processing time, for state time-to-live.
    pub(super) clock: Clock,
    /// The time-to-live of each state, as its first handle declared it.
    ttls: HashMap<StateId, Option<Ttl>>,
}

impl StateStore {
    pub fn new_py(py: Python<'_>, clock: Clock) -> PyResult<Py<StateStore>> {
        Py::new(
            py,
            StateStore {
                state: KeyedState::default(),
                current_key: None,
                clock,
                ttls: HashMap::new(),
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
            ttls: HashMap::new(),
        }
    }

    pub(super) fn key(&self) -> PyResult<&Key> {
        self.current_key.as_ref().ok_or_else(no_current_key)
    }
}

/// The error of state used with no current key.
pub(super) fn no_current_key() -> PyErr {
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
    let id = {
        let mut store = store.borrow_mut(py);
        let id = store.state.register(&name, kind).map_err(PyValueError::new_err)?;
        // Entries of a state with a TTL are kept stamped: all its handles must agree on it.
        match store.ttls.get(&id) {
            Some(existing) if *existing != ttl => {
                return Err(PyValueError::new_err(format!(
                    "the state '{name}' is already used with {}, so it cannot also be used with {}:                      give the descriptors the same StateTtlConfig, or different names",
                    describe_ttl(existing),
                    describe_ttl(&ttl)
                )));
            }
            Some(_) => {}
            None => {
                store.ttls.insert(id, ttl);
            }
        }
        id
    };
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

fn describe_ttl(ttl: &Option<Ttl>) -> String {
    match ttl {
        Some(t) => format!("a time-to-live of {} ms", t.ttl),
        None => "no time-to-live".to_string(),
    }
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
    /// The handle of any kind of descriptor.
    fn state(&self, py: Python<'_>, state_descriptor: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.get_any(py, state_descriptor)
    }

    /// The keys (of this parallel instance) that have an entry of the state `state_descriptor`
    /// describes, in this namespace.
    fn keys_with_state<'py>(
        &self,
        py: Python<'py>,
        state_descriptor: &Bound<'py, PyAny>,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let (_, name, _, _): DescriptorSpec = state_descriptor.call_method0("_engine_spec")?.extract()?;
        let store = self.store.borrow(py);
        let Some(id) = store.state.id_of(&name) else {
            return Ok(Vec::new());
        };
        store
            .state
            .entries()
            .filter(|(state, _, namespace, _)| *state == id && *namespace == self.namespace)
            .map(|(_, key, _, _)| key_to_py(py, key))
            .collect()
    }

    /// Sets the key whose entries the handles read and write (None: no key).
    fn set_current_key(&self, py: Python<'_>, key: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        self.store.borrow_mut(py).current_key = key.map(key_from_py).transpose()?;
        Ok(())
    }

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
