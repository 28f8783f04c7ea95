//! `SourceSpec`: the sources that make Python values.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyList;

use super::boxed_source;
use crate::bindings::iterable_source::IterableSource;
use crate::bindings::rewindable_source::RewindableSource;
use crate::bindings::sources::{CollectionSource, SequenceSource};
use crate::bindings::value::PyValue;
use crate::connectors::manual_source::ManualFeed;
use crate::graph::stream_graph::{NodeKind, SourceFactory};
use crate::runtime::operator::TaskInfo;

/// `SourceSpec`: `kind` "collection" (payload: list), "iterable" (iterator), "sequence"
/// (`(start, end)`), "manual" (a test feed) or "rewindable" (`(source, splits)`).
#[derive(FromPyObject)]
pub struct SourceSpec {
    pub kind: String,
    pub payload: Py<PyAny>,
}

/// The source node of `spec`; a test source's feed is added to `feeds`.
pub fn source_node(
    py: Python<'_>,
    spec: SourceSpec,
    parallelism: usize,
    feeds: &mut Vec<ManualFeed<PyValue>>,
) -> PyResult<NodeKind<PyValue>> {
    let arg = spec.payload;
    let factory: SourceFactory<PyValue> = match spec.kind.as_str() {
        "collection" => {
            let items: Py<PyList> = arg.bind(py).cast::<PyList>()?.clone().unbind();
            Box::new(move |info: &TaskInfo| {
                Python::attach(|py| boxed_source(CollectionSource::new(items.clone_ref(py), info)?))
            })
        }
        "iterable" => {
            let iterator = arg.bind(py).try_iter()?.unbind();
            Box::new(move |_: &TaskInfo| Python::attach(|py| boxed_source(IterableSource::new(iterator.clone_ref(py)))))
        }
        "manual" => {
            if parallelism != 1 {
                return Err(PyValueError::new_err("a test source has parallelism 1"));
            }
            let feed = ManualFeed::default();
            let source_feed = feed.clone();
            feeds.push(feed);
            Box::new(move |_: &TaskInfo| boxed_source(source_feed.source()))
        }
        "sequence" => {
            let (start, end): (i64, i64) = arg.extract(py)?;
            Box::new(move |info: &TaskInfo| boxed_source(SequenceSource::for_subtask(start, end, info)?))
        }
        "rewindable" => {
            let (source, splits): (Py<PyAny>, Py<PyList>) = arg.extract(py)?;
            Box::new(move |info: &TaskInfo| boxed_source(RewindableSource::new(&source, &splits, info)?))
        }
        other => return Err(PyValueError::new_err(format!("unknown source kind '{other}'"))),
    };
    Ok(NodeKind::Source(factory))
}
