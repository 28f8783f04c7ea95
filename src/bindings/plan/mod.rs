//! The plan as it crosses from Python: one `NodeSpec` (name, parallelism, inputs) per node and
//! a spec of its kind, each read by attribute name from the dataclasses of
//! `python/ferroflow/datastream/_plan_specs.py`, and turned here into the engine's node kinds
//! (factories that make each subtask's operator or source).

pub mod operators;
pub mod sources;
pub mod windows;

use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::bindings::partitioner::PyPartitioner;
use crate::bindings::value::PyValue;
use crate::graph::stream_graph::StreamEdge;
use crate::runtime::operator::{Operator, OperatorResult, Source};
use crate::runtime::partitioner::{PartitionerFactory, Partitioning};

/// `EdgeSpec`: one input of a node.
#[derive(FromPyObject)]
pub struct EdgeSpec {
    pub source: usize,
    pub port: u32,
    pub input: usize,
    pub partitioning: String,
    /// `(partition_fn, key_selector)` for "custom" partitioning.
    pub custom: Option<(Py<PyAny>, Py<PyAny>)>,
}

/// `NodeSpec`: what every node has.
#[derive(FromPyObject)]
pub struct NodeSpec {
    pub name: String,
    pub parallelism: usize,
    pub inputs: Vec<EdgeSpec>,
}

impl EdgeSpec {
    /// The engine's edge.
    pub fn into_edge(self) -> PyResult<StreamEdge<PyValue>> {
        let partitioning = match (self.partitioning.as_str(), self.custom) {
            ("forward", _) => Partitioning::Forward,
            ("rebalance", _) => Partitioning::Rebalance,
            ("rescale", _) => Partitioning::Rescale,
            ("shuffle", _) => Partitioning::Shuffle,
            ("broadcast", _) => Partitioning::Broadcast,
            ("keyed", _) => Partitioning::Keyed,
            ("custom", Some((partition, key_selector))) => {
                let shared = Arc::new((partition, key_selector));
                let factory: PartitionerFactory<PyValue> = Arc::new(move |_| {
                    Python::attach(|py| {
                        Box::new(PyPartitioner {
                            partition: shared.0.clone_ref(py),
                            key_selector: shared.1.clone_ref(py),
                        }) as Box<_>
                    })
                });
                Partitioning::Custom(factory)
            }
            (other, _) => return Err(PyValueError::new_err(format!("unknown partitioning '{other}'"))),
        };
        Ok(StreamEdge {
            source: self.source,
            port: self.port,
            input: self.input,
            partitioning,
        })
    }
}

pub fn boxed<O: Operator<PyValue> + 'static>(op: O) -> OperatorResult<Box<dyn Operator<PyValue>>> {
    Ok(Box::new(op))
}

pub fn boxed_source<S: Source<PyValue> + 'static>(s: S) -> OperatorResult<Box<dyn Source<PyValue>>> {
    Ok(Box::new(s))
}
