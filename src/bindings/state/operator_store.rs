//! Operator state as Python sees it: the `OperatorStateStore` a CheckpointedFunction gets in
//! `initialize_state`, its list and union list states (Python objects held as they are, on
//! either backend, as in Flink), and their snapshots (elements pickled).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyIterator, PyList};

use crate::bindings::key::type_name;
use crate::state::operator_state::{Distribution, OperatorStateSnapshot};

use super::errors::snapshot_error;
use super::value_codec::PICKLE_PROTOCOL;

/// The operator state of one operator instance.
#[pyclass(module = "ferroflow._engine", name = "OperatorStateStore")]
#[derive(Default)]
pub struct OperatorStateStore {
    states: BTreeMap<String, (Distribution, Py<PyList>)>,
    restored: bool,
}

impl OperatorStateStore {
    fn list_state(
        &mut self,
        py: Python<'_>,
        descriptor: &Bound<'_, PyAny>,
        distribution: Distribution,
    ) -> PyResult<OperatorListState> {
        let spec = descriptor.call_method0("_engine_spec").map_err(|_| {
            PyTypeError::new_err(format!(
                "expected a ListStateDescriptor, got a value of type '{}'",
                type_name(descriptor)
            ))
        })?;
        let (kind, name, _, ttl): (String, String, Option<Py<PyAny>>, Option<Py<PyAny>>) = spec.extract()?;
        if kind != "list" {
            return Err(PyTypeError::new_err(format!(
                "operator state is a list: the descriptor of '{name}' must be a ListStateDescriptor"
            )));
        }
        if ttl.is_some() {
            return Err(PyValueError::new_err(format!(
                "the operator state '{name}' has a time-to-live: time-to-live is for keyed state only"
            )));
        }
        self.named_list(py, name, distribution)
    }

    fn named_list(&mut self, py: Python<'_>, name: String, distribution: Distribution) -> PyResult<OperatorListState> {
        let (existing, list) = self
            .states
            .entry(name.clone())
            .or_insert_with(|| (distribution, PyList::empty(py).unbind()));
        if *existing != distribution {
            return Err(PyValueError::new_err(format!(
                "the operator state '{name}' is already a {}, so it cannot also be a {}",
                existing.name(),
                distribution.name()
            )));
        }
        Ok(OperatorListState {
            list: list.clone_ref(py),
        })
    }
}

#[pymethods]
impl OperatorStateStore {
    #[new]
    fn new() -> Self {
        OperatorStateStore::default()
    }

    /// A list state whose elements are split over the subtasks when the job is restored at
    /// another parallelism.
    fn get_list_state(&mut self, py: Python<'_>, state_descriptor: &Bound<'_, PyAny>) -> PyResult<OperatorListState> {
        self.list_state(py, state_descriptor, Distribution::Split)
    }

    /// A list state whose elements, from all subtasks, every subtask gets back on restore.
    fn get_union_list_state(
        &mut self,
        py: Python<'_>,
        state_descriptor: &Bound<'_, PyAny>,
    ) -> PyResult<OperatorListState> {
        self.list_state(py, state_descriptor, Distribution::Union)
    }

    /// The elements of the broadcast state `name` (a broadcast process function keeps its
    /// dict's `(key, value)` pairs here for checkpoints). Every subtask keeps the same copy; on
    /// restore each gets the copy of one old subtask (round robin, as in Flink).
    fn get_broadcast_list_state(&mut self, py: Python<'_>, name: String) -> PyResult<OperatorListState> {
        self.named_list(py, name, Distribution::Broadcast)
    }

    /// The names of the registered list and union list states.
    fn get_registered_state_names(&self) -> Vec<String> {
        self.states
            .iter()
            .filter(|(_, (d, _))| *d != Distribution::Broadcast)
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Whether the store was restored from snapshots.
    fn is_restored(&self) -> bool {
        self.restored
    }

    /// Writes every state (elements pickled) to `directory`; returns the bytes written.
    fn snapshot(&self, py: Python<'_>, directory: PathBuf) -> PyResult<u64> {
        let dumps = py.import("pickle")?.getattr("dumps")?;
        let mut snapshot = OperatorStateSnapshot::default();
        for (name, (distribution, list)) in &self.states {
            let mut elements = Vec::new();
            for item in list.bind(py).iter() {
                let bytes = dumps.call1((&item, PICKLE_PROTOCOL)).map_err(|e| {
                    PyTypeError::new_err(format!(
                        "operator state '{name}': a value of type '{}' cannot be pickled: {e}",
                        type_name(&item)
                    ))
                })?;
                elements.push(bytes.cast::<PyBytes>()?.as_bytes().to_vec());
            }
            snapshot.states.insert(name.clone(), (*distribution, elements));
        }
        snapshot.write_to(&directory).map_err(snapshot_error)
    }

    /// The store of subtask `index` of `parallelism`, from the snapshots of every subtask of an
    /// earlier run (in subtask order, any parallelism).
    #[staticmethod]
    fn restore(py: Python<'_>, directories: Vec<PathBuf>, index: usize, parallelism: usize) -> PyResult<Self> {
        if parallelism == 0 || index >= parallelism {
            return Err(PyValueError::new_err(format!(
                "subtask {index} of {parallelism}: the index must be below the parallelism"
            )));
        }
        let paths: Vec<&Path> = directories.iter().map(PathBuf::as_path).collect();
        let snapshot = OperatorStateSnapshot::restore_from(&paths, index, parallelism).map_err(snapshot_error)?;
        let loads = py.import("pickle")?.getattr("loads")?;
        let mut states = BTreeMap::new();
        for (name, (distribution, elements)) in snapshot.states {
            let list = PyList::empty(py);
            for e in elements {
                list.append(loads.call1((PyBytes::new(py, &e),))?)?;
            }
            states.insert(name, (distribution, list.unbind()));
        }
        Ok(OperatorStateStore { states, restored: true })
    }
}

/// An operator list state: `get()`, `add(v)`, `add_all(vs)`, `update(vs)`, `clear()`,
/// iteration.
#[pyclass(module = "ferroflow._engine", name = "OperatorListState")]
pub struct OperatorListState {
    list: Py<PyList>,
}

#[pymethods]
impl OperatorListState {
    /// The elements, as a new list.
    fn get<'py>(&self, py: Python<'py>) -> Bound<'py, PyList> {
        self.list.bind(py).get_slice(0, usize::MAX)
    }

    fn add(&self, py: Python<'_>, value: Bound<'_, PyAny>) -> PyResult<()> {
        self.list.bind(py).append(value)
    }

    fn add_all(&self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<()> {
        let list = self.list.bind(py);
        for v in values.try_iter()? {
            list.append(v?)?;
        }
        Ok(())
    }

    fn update(&self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<()> {
        let new: Vec<Bound<'_, PyAny>> = values.try_iter()?.collect::<PyResult<_>>()?;
        let list = self.list.bind(py);
        list.del_slice(0, usize::MAX)?;
        for v in new {
            list.append(v)?;
        }
        Ok(())
    }

    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        self.list.bind(py).del_slice(0, usize::MAX)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        self.get(py).into_any().try_iter()
    }
}
