//! The keyed state store of an operator instance: its backend (heap or RocksDB), the key of
//! the record being processed, snapshots, and the getters that make state handles from
//! descriptors.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::bindings::key::{key_from_py, key_to_py, type_name};
use crate::checkpoint::SnapshotStats;
use crate::runtime::key::Key;
use crate::runtime::key_group::key_group_range;
use crate::runtime::key_group::{DEFAULT_MAX_PARALLELISM, UPPER_BOUND_MAX_PARALLELISM};
use crate::runtime::operator::TaskInfo;
use crate::state::backend::{RocksDbBackendConfig, StateBackendConfig, DEFAULT_ROCKSDB_MEMORY};
use crate::state::keyed::{Namespace, StateId, StateKind};
use crate::state::rocksdb::snapshot::is_rocksdb_snapshot;
use crate::state::rocksdb::{RocksDbSettings, StoreDirectory};
use crate::time::clock::Clock;

use super::backend::{KeyedBackend, Slot};
use super::handles::{AggregatingState, ListState, MapState, ReducingState, StateHandle, ValueState};
use super::heap_backend::HeapBackend;
use super::rocksdb_backend::RocksDbBackend;
use super::ttl::{Ttl, TtlSpec};

/// The sub-directory of an operator's checkpoint directory that holds its keyed state.
pub const KEYED_SNAPSHOT: &str = "keyed";

/// The keyed state of one operator instance, and the key of the record being processed.
#[pyclass(module = "ferroflow._engine", name = "KeyedStateStore")]
pub struct StateStore {
    pub(super) backend: Box<dyn KeyedBackend>,
    pub current_key: Option<Key>,
    /// Processing time, for state time-to-live.
    pub(super) clock: Clock,
    /// The time-to-live of each state, as its first handle declared it.
    ttls: HashMap<StateId, Option<Ttl>>,
}

/// Where an operator instance's store is: which backend, and for RocksDB the operator, subtask
/// and max parallelism.
pub struct StoreSite<'a> {
    pub backend: &'a StateBackendConfig,
    pub operator: &'a str,
    pub subtask: usize,
    pub max_parallelism: usize,
}

impl StateStore {
    fn with_backend(backend: Box<dyn KeyedBackend>, clock: Clock) -> StateStore {
        StateStore {
            backend,
            current_key: None,
            clock,
            ttls: HashMap::new(),
        }
    }

    /// The store of an operator instance, on the job's backend.
    pub fn new_py(py: Python<'_>, clock: Clock, site: &StoreSite<'_>) -> PyResult<Py<StateStore>> {
        let backend: Box<dyn KeyedBackend> = match site.backend {
            StateBackendConfig::HashMap => Box::<HeapBackend>::default(),
            StateBackendConfig::RocksDb(config) => Box::new(RocksDbBackend::open(
                py,
                working_directory(config, site.operator, site.subtask)?,
                RocksDbSettings {
                    memory: config.memory.clone(),
                    max_parallelism: site.max_parallelism,
                    clock: clock.clone(),
                },
            )?),
        };
        Py::new(py, StateStore::with_backend(backend, clock))
    }

    /// The store of an operator instance: restored from the checkpoint `info` restores from
    /// (the `keyed` snapshot of each old subtask, for this subtask's key groups), else empty.
    pub fn for_operator(py: Python<'_>, info: &TaskInfo, backend: &StateBackendConfig) -> PyResult<Py<StateStore>> {
        let site = StoreSite {
            backend,
            operator: &info.operator_name,
            subtask: info.subtask_index,
            max_parallelism: info.max_parallelism,
        };
        let snapshots: Vec<PathBuf> =
            crate::checkpoint::OperatorRestore::parts_of(info.restore.as_ref(), KEYED_SNAPSHOT);
        if snapshots.is_empty() {
            return Self::new_py(py, info.clock.clone(), &site);
        }
        let key_groups = key_group_range(info.subtask_index, info.parallelism, info.max_parallelism);
        let rocksdb = snapshots.iter().filter(|d| is_rocksdb_snapshot(d)).count();
        let backend: Box<dyn KeyedBackend> = match (backend, rocksdb) {
            (StateBackendConfig::HashMap, 0) => Box::new(HeapBackend::restore(py, &snapshots, key_groups)?),
            (StateBackendConfig::RocksDb(config), n) if n == snapshots.len() => Box::new(RocksDbBackend::restore(
                py,
                &snapshots,
                key_groups,
                working_directory(config, site.operator, site.subtask)?,
                RocksDbSettings {
                    memory: config.memory.clone(),
                    max_parallelism: info.max_parallelism,
                    clock: info.clock.clone(),
                },
            )?),
            (configured, _) => {
                return Err(PyValueError::new_err(format!(
                    "operator '{}': its keyed state in the checkpoint was written by another state backend \
                     than the job's ({}): restore with the backend that wrote it",
                    info.operator_name,
                    match configured {
                        StateBackendConfig::HashMap => "hashmap",
                        StateBackendConfig::RocksDb(_) => "rocksdb",
                    }
                )))
            }
        };
        Py::new(py, StateStore::with_backend(backend, info.clock.clone()))
    }

    /// Writes the store into `directory/keyed` for checkpoint `ctx`.
    pub fn checkpoint(&mut self, py: Python<'_>, directory: &Path, max_parallelism: usize) -> PyResult<SnapshotStats> {
        let dropped = self.clean_up_expired(py, |ttl| ttl.cleanup_in_snapshot)?;
        drop(dropped);
        let summary = self
            .backend
            .snapshot(py, &directory.join(KEYED_SNAPSHOT), max_parallelism)?;
        let get = |name: &str| summary.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        let bytes = get("bytes").unwrap_or(0);
        Ok(SnapshotStats {
            bytes,
            new_bytes: get("new_bytes").unwrap_or(bytes),
        })
    }

    /// A heap store that belongs to no job (trigger checks when a pipeline is built).
    pub fn detached_py(py: Python<'_>) -> PyResult<Py<StateStore>> {
        Py::new(
            py,
            StateStore::with_backend(Box::<HeapBackend>::default(), Clock::System),
        )
    }

    /// Registers a state the engine keeps for an operator (not one of a user's descriptors).
    pub fn register_internal(&mut self, name: &str, kind: StateKind) -> PyResult<StateId> {
        self.backend.register(name, kind, None).map_err(PyValueError::new_err)
    }

    /// The value of a one-value state for `key`, outside any record's processing.
    pub fn value_of(&mut self, py: Python<'_>, state: StateId, key: &Key) -> PyResult<Option<Py<PyAny>>> {
        self.backend.get(
            py,
            Slot {
                state,
                key,
                namespace: Namespace::Global,
            },
        )
    }

    /// Sets the value of a one-value state for `key`.
    pub fn set_value_of(&mut self, py: Python<'_>, state: StateId, key: &Key, value: Py<PyAny>) -> PyResult<()> {
        let at = Slot {
            state,
            key,
            namespace: Namespace::Global,
        };
        let replaced = self.backend.put(py, at, value.into_bound(py))?;
        drop(replaced);
        Ok(())
    }

    /// Lets go of the state when the operator closes: a RocksDB store closes and removes its
    /// files. Handles still held by user functions then find no entries.
    pub fn release(&mut self, py: Python<'_>) {
        let empty: Box<dyn KeyedBackend> = Box::new(HeapBackend::default());
        let backend = std::mem::replace(&mut self.backend, empty);
        self.ttls.clear();
        self.current_key = None;
        py.detach(move || drop(backend));
    }

    /// Drops every expired entry of the states whose time-to-live `which` picks.
    fn clean_up_expired(&mut self, py: Python<'_>, which: impl Fn(&Ttl) -> bool) -> PyResult<Vec<Py<PyAny>>> {
        let now = self.clock.now();
        let mut dropped = Vec::new();
        for (id, ttl) in &self.ttls {
            if let Some(ttl) = ttl.as_ref().filter(|t| which(t)) {
                dropped.extend(self.backend.clean_up(py, *id, ttl, now, None)?);
            }
        }
        Ok(dropped)
    }
}

/// The error of state used with no current key.
pub(super) fn no_current_key() -> PyErr {
    PyRuntimeError::new_err(
        "keyed state belongs to a key: use it while a record (or timer, or window) of a keyed \
         stream is being processed, not in open() or close()",
    )
}

/// The error of state used from code that runs while the same store is being accessed (a
/// `__del__`, `__hash__` or `__eq__` of a value or map key that itself uses state).
pub(super) fn state_in_use() -> PyErr {
    PyRuntimeError::new_err(
        "keyed state was used while it was being accessed (from a __del__, __hash__ or __eq__ of a \
         value or map key kept in state): such methods must not use state",
    )
}

/// What a descriptor's `_engine_spec()` gives: kind, name, function, and time-to-live.
type DescriptorSpec = (String, String, Option<Py<PyAny>>, Option<TtlSpec>);

/// A new working directory for a RocksDB store of `operator`'s `subtask`.
fn working_directory(config: &RocksDbBackendConfig, operator: &str, subtask: usize) -> PyResult<StoreDirectory> {
    config.store_directory(operator, subtask).map_err(|e| {
        PyOSError::new_err(format!(
            "the RocksDB local directory {} cannot be used: {e}",
            config.local_directory.display()
        ))
    })
}

/// The RocksDB settings of a store of its own (tests, benchmarks).
fn standalone_rocksdb(
    directory: Option<PathBuf>,
    max_parallelism: usize,
    memory_budget: Option<usize>,
    clock: &Clock,
) -> PyResult<(StoreDirectory, RocksDbSettings)> {
    let config = RocksDbBackendConfig::new(None, memory_budget.unwrap_or(DEFAULT_ROCKSDB_MEMORY));
    let directory = match directory {
        Some(path) => StoreDirectory::from(path),
        None => working_directory(&config, "store", 0)?,
    };
    Ok((
        directory,
        RocksDbSettings {
            memory: config.memory,
            max_parallelism,
            clock: clock.clone(),
        },
    ))
}

#[pymethods]
impl StateStore {
    /// A store of its own (no operator), for tests and benchmarks: processing time from a
    /// manual clock at `processing_time`, or the system clock; `backend` "hashmap" or
    /// "rocksdb" (in `directory`, a new one under the temporary directory if None, removed
    /// with the store).
    #[new]
    #[pyo3(signature = (processing_time=None, backend="hashmap", directory=None, max_parallelism=DEFAULT_MAX_PARALLELISM, memory_budget=None))]
    fn py_new(
        py: Python<'_>,
        processing_time: Option<i64>,
        backend: &str,
        directory: Option<PathBuf>,
        max_parallelism: usize,
        memory_budget: Option<usize>,
    ) -> PyResult<StateStore> {
        check_max_parallelism(max_parallelism)?;
        let clock = processing_time.map_or(Clock::System, Clock::manual);
        let backend: Box<dyn KeyedBackend> = match backend {
            "hashmap" => Box::<HeapBackend>::default(),
            "rocksdb" => {
                let (directory, settings) = standalone_rocksdb(directory, max_parallelism, memory_budget, &clock)?;
                Box::new(RocksDbBackend::open(py, directory, settings)?)
            }
            other => {
                return Err(PyValueError::new_err(format!(
                    "backend must be 'hashmap' or 'rocksdb', got '{other}'"
                )))
            }
        };
        Ok(StateStore::with_backend(backend, clock))
    }

    /// "hashmap" or "rocksdb".
    #[getter]
    fn backend(&self) -> &'static str {
        self.backend.name()
    }

    /// The state getters of the store (the global namespace), as a runtime context has them.
    fn view(slf: Bound<'_, Self>) -> PyResult<Py<StateView>> {
        StateView::global(slf.py(), &slf.unbind())
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

    /// Entries held, over all states, keys and namespaces (RocksDB: rows, a map entry each).
    fn __len__(&mut self) -> PyResult<usize> {
        self.backend.len()
    }

    /// Drops expired entries now, as background cleanup does over time (RocksDB: a full
    /// compaction, which runs the time-to-live compaction filter).
    fn compact(&mut self, py: Python<'_>) -> PyResult<()> {
        let dropped = self.clean_up_expired(py, |_| true)?;
        drop(dropped);
        let backend = &mut self.backend;
        py.detach(|| backend.compact())
    }

    /// Writes every entry to `directory`: heap values pickled, by key group of
    /// `max_parallelism`; RocksDB a native checkpoint. Returns what was written (heap:
    /// entries, key_groups, bytes; RocksDB: files, bytes, new_files, new_bytes).
    #[pyo3(signature = (directory, max_parallelism=DEFAULT_MAX_PARALLELISM))]
    fn snapshot<'py>(
        &mut self,
        py: Python<'py>,
        directory: PathBuf,
        max_parallelism: usize,
    ) -> PyResult<Bound<'py, PyDict>> {
        check_max_parallelism(max_parallelism)?;
        let dropped = self.clean_up_expired(py, |ttl| ttl.cleanup_in_snapshot)?;
        drop(dropped);
        let summary = self.backend.snapshot(py, &directory, max_parallelism)?;
        let d = PyDict::new(py);
        for (name, n) in summary {
            d.set_item(name, n)?;
        }
        Ok(d)
    }

    /// The store of a subtask owning key groups `key_group_start..key_group_end`, from the
    /// snapshots of the subtasks of an earlier run (any parallelism). RocksDB snapshots make a
    /// RocksDB store, in `directory` (a new one under the temporary directory if None).
    #[staticmethod]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (directories, key_group_start, key_group_end, processing_time=None, directory=None, max_parallelism=DEFAULT_MAX_PARALLELISM, memory_budget=None))]
    fn restore(
        py: Python<'_>,
        directories: Vec<PathBuf>,
        key_group_start: usize,
        key_group_end: usize,
        processing_time: Option<i64>,
        directory: Option<PathBuf>,
        max_parallelism: usize,
        memory_budget: Option<usize>,
    ) -> PyResult<StateStore> {
        check_max_parallelism(max_parallelism)?;
        if key_group_start > key_group_end || key_group_end > max_parallelism {
            return Err(PyValueError::new_err(format!(
                "key groups {key_group_start}..{key_group_end} are not a range within 0..{max_parallelism} \
                 (the max parallelism)"
            )));
        }
        let clock = processing_time.map_or(Clock::System, Clock::manual);
        let key_groups = key_group_start..key_group_end;
        let rocksdb = directories.iter().filter(|d| is_rocksdb_snapshot(d)).count();
        let backend: Box<dyn KeyedBackend> = if rocksdb == 0 {
            Box::new(HeapBackend::restore(py, &directories, key_groups)?)
        } else if rocksdb == directories.len() {
            let (directory, settings) = standalone_rocksdb(directory, max_parallelism, memory_budget, &clock)?;
            Box::new(RocksDbBackend::restore(
                py,
                &directories,
                key_groups,
                directory,
                settings,
            )?)
        } else {
            return Err(PyValueError::new_err(
                "these snapshots mix RocksDB and heap snapshots: restore snapshots of one backend",
            ));
        };
        Ok(StateStore::with_backend(backend, clock))
    }
}

fn check_max_parallelism(max_parallelism: usize) -> PyResult<()> {
    if max_parallelism == 0 || max_parallelism > UPPER_BOUND_MAX_PARALLELISM {
        return Err(PyValueError::new_err(format!(
            "max parallelism must be in 1..={UPPER_BOUND_MAX_PARALLELISM}, got {max_parallelism}"
        )));
    }
    Ok(())
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
    let ttl = ttl.map(Ttl::from);
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
        let mut store = store.try_borrow_mut(py).map_err(|_| state_in_use())?;
        // Entries of a state with a TTL are kept stamped: all its handles must agree on it. Checked
        // before registering, which may change the TTL RocksDB's compactions apply.
        let known = store.backend.id_of(&name).and_then(|id| store.ttls.get(&id));
        if let Some(existing) = known.filter(|existing| **existing != ttl) {
            return Err(PyValueError::new_err(format!(
                "the state '{name}' is already used with {}, so it cannot also be used with {}: \
                 give the descriptors the same StateTtlConfig, or different names",
                describe_ttl(existing),
                describe_ttl(&ttl)
            )));
        }
        let id = store
            .backend
            .register(&name, kind, ttl.map(|t| t.ttl))
            .map_err(PyValueError::new_err)?;
        store.ttls.entry(id).or_insert(ttl);
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
        Some(t) => format!(
            "a time-to-live of {} ms (updated on {}, expired entries {}, cleanup of {} keys per access{})",
            t.ttl,
            if t.refresh_on_read {
                "read and write"
            } else {
                "create and write"
            },
            if t.return_expired {
                "returned until cleaned up"
            } else {
                "never returned"
            },
            t.cleanup_per_access,
            if t.cleanup_in_snapshot { " and in snapshots" } else { "" }
        ),
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
    /// The state getters of `store` in the global namespace, as a runtime context has them.
    pub fn global(py: Python<'_>, store: &Py<StateStore>) -> PyResult<Py<StateView>> {
        Py::new(
            py,
            StateView {
                store: store.clone_ref(py),
                namespace: Namespace::Global,
            },
        )
    }

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
        let mut store = self.store.try_borrow_mut(py).map_err(|_| state_in_use())?;
        let Some(id) = store.backend.id_of(&name) else {
            return Ok(Vec::new());
        };
        let keys = store.backend.keys(id, self.namespace)?;
        drop(store);
        keys.iter().map(|key| key_to_py(py, key)).collect()
    }

    /// Sets the key whose entries the handles read and write (None: no key).
    fn set_current_key(&self, py: Python<'_>, key: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let key = key.map(key_from_py).transpose()?;
        self.store.try_borrow_mut(py).map_err(|_| state_in_use())?.current_key = key;
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
