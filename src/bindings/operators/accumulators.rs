//! The per-key accumulator of a rolling `reduce` or `sum`/`min`/`max`/`min_by`/`max_by`: in a
//! map on the heap backend (the fast path), or in the job's keyed state store on RocksDB, so a
//! rolling aggregation over more keys than memory holds works there too.

use pyo3::prelude::*;

use crate::bindings::state::{StateStore, StoreSite};
use crate::runtime::key::{Key, KeyMap};
use crate::state::backend::StateBackendConfig;
use crate::state::keyed::{StateId, StateKind};
use crate::time::clock::Clock;

pub enum Accumulators {
    Heap(KeyMap<Py<PyAny>>),
    Store { store: Py<StateStore>, state: StateId },
}

impl Accumulators {
    /// Accumulators on the backend of `site`.
    pub fn on(py: Python<'_>, site: &StoreSite<'_>, clock: Clock) -> PyResult<Accumulators> {
        if matches!(site.backend, StateBackendConfig::HashMap) {
            return Ok(Accumulators::Heap(KeyMap::default()));
        }
        let store = StateStore::new_py(py, clock, site)?;
        let state = store
            .borrow_mut(py)
            .register_internal("accumulator", StateKind::Reducing)?;
        Ok(Accumulators::Store { store, state })
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
