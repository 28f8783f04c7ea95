//! The per-key accumulator of a rolling `reduce` or `sum`/`min`/`max`/`min_by`/`max_by`: in a
//! map on the heap backend (the fast path), or in the job's keyed state store on RocksDB, so a
//! rolling aggregation over more keys than memory holds works there too.

use std::path::{Path, PathBuf};

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::bindings::key::type_name;
use crate::bindings::state::{StateStore, KEYED_SNAPSHOT};
use crate::bindings::value::PyValue;
use crate::checkpoint::SnapshotStats;
use crate::runtime::key::{Key, KeyMap};
use crate::runtime::key_group::key_group_range;
use crate::runtime::operator::{Output, TaskInfo};
use crate::runtime::record::Record;
use crate::state::backend::StateBackendConfig;
use crate::state::keyed::{KeyedState, Namespace, StateId, StateKind};

/// The name of the accumulator state, in the store and in checkpoints.
const ACCUMULATOR: &str = "accumulator";

pub enum Accumulators {
    Heap(KeyMap<Py<PyAny>>),
    Store { store: Py<StateStore>, state: StateId },
}

impl Accumulators {
    /// The accumulators of an operator instance on `backend`, restored from the checkpoint
    /// `info` restores from. `in_store`: kept in a state store even on the heap, beside the
    /// keyed state the user's function keeps.
    pub fn for_operator(
        py: Python<'_>,
        info: &TaskInfo,
        backend: &StateBackendConfig,
        in_store: bool,
    ) -> PyResult<Accumulators> {
        if in_store || !matches!(backend, StateBackendConfig::HashMap) {
            let store = StateStore::for_operator(py, info, backend)?;
            let state = store
                .borrow_mut(py)
                .register_internal(ACCUMULATOR, StateKind::Reducing)?;
            return Ok(Accumulators::Store { store, state });
        }
        let mut map = KeyMap::default();
        let snapshots: Vec<PathBuf> =
            crate::checkpoint::OperatorRestore::parts_of(info.restore.as_ref(), KEYED_SNAPSHOT);
        if !snapshots.is_empty() {
            let loads = py.import("pickle")?.getattr("loads")?;
            let paths: Vec<&Path> = snapshots.iter().map(PathBuf::as_path).collect();
            let key_groups = key_group_range(info.subtask_index, info.parallelism, info.max_parallelism);
            let state = KeyedState::restore_from(&paths, key_groups, |bytes| {
                loads
                    .call1((PyBytes::new(py, bytes),))
                    .map(Bound::unbind)
                    .map_err(|e| format!("an accumulator cannot be unpickled: {e}"))
            })
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
            for (_, key, _, value) in state.entries() {
                map.insert(key.clone(), value.clone_ref(py));
            }
        }
        Ok(Accumulators::Heap(map))
    }

    /// Writes every accumulator into `directory/keyed`, by key group.
    pub fn checkpoint(&mut self, py: Python<'_>, directory: &Path, max_parallelism: usize) -> PyResult<SnapshotStats> {
        match self {
            Accumulators::Store { store, .. } => store.borrow_mut(py).checkpoint(py, directory, max_parallelism),
            Accumulators::Heap(map) => {
                let mut state: KeyedState<Py<PyAny>> = KeyedState::default();
                let id = state
                    .register(ACCUMULATOR, StateKind::Reducing)
                    .map_err(pyo3::exceptions::PyValueError::new_err)?;
                for (key, value) in map.iter() {
                    state.put(id, key, Namespace::Global, value.clone_ref(py));
                }
                let dumps = py.import("pickle")?.getattr("dumps")?;
                let info = state
                    .snapshot_to(&directory.join(KEYED_SNAPSHOT), max_parallelism, |value| {
                        let value = value.bind(py);
                        dumps
                            .call1((value, crate::bindings::state::PICKLE_PROTOCOL))
                            .and_then(|b| b.extract::<Vec<u8>>())
                            .map_err(|e| {
                                format!("an accumulator of type '{}' cannot be pickled: {e}", type_name(value))
                            })
                    })
                    .map_err(|e| pyo3::exceptions::PyTypeError::new_err(e.to_string()))?;
                Ok(SnapshotStats::full(info.bytes))
            }
        }
    }

    pub fn get(&mut self, py: Python<'_>, key: &Key) -> PyResult<Option<Py<PyAny>>> {
        match self {
            Accumulators::Heap(map) => Ok(map.get(key).map(|v| v.clone_ref(py))),
            Accumulators::Store { store, state } => store.borrow_mut(py).value_of(py, *state, key),
        }
    }

    pub fn set(&mut self, py: Python<'_>, key: Key, value: Py<PyAny>) -> PyResult<()> {
        match self {
            Accumulators::Heap(map) => {
                map.insert(key, value);
                Ok(())
            }
            Accumulators::Store { store, state } => store.borrow_mut(py).set_value_of(py, *state, &key, value),
        }
    }

    /// Lets go of every accumulator (a RocksDB store removes its files).
    pub fn clear(&mut self, py: Python<'_>) {
        match self {
            Accumulators::Heap(map) => map.clear(),
            Accumulators::Store { store, .. } => store.borrow_mut(py).release(py),
        }
    }
}

/// BATCH execution: a rolling `reduce` or aggregation emits only each key's final value, once
/// its input ended (Flink's batch semantics), in the order the keys first arrived.
#[derive(Default)]
pub struct FinalValues {
    seen: KeyMap<()>,
    order: Vec<Key>,
}

impl FinalValues {
    /// Remembers that `key` has a value to emit at the end.
    pub fn note(&mut self, key: &Key) {
        if !self.seen.contains_key(key) {
            self.seen.insert(key.clone(), ());
            self.order.push(key.clone());
        }
    }

    /// Emits the value of every key noted, stamped with the end of time.
    pub fn emit(&mut self, py: Python<'_>, state: &mut Accumulators, out: &mut Output<PyValue>) -> PyResult<()> {
        self.seen.clear();
        for key in self.order.drain(..) {
            if let Some(value) = state.get(py, &key)? {
                out.main.push(Record::with_timestamp(PyValue(value), i64::MAX));
            }
        }
        Ok(())
    }
}
