//! The specs of the operators that call user functions (`UdfSpec`), key records (`KeyBySpec`),
//! keep rolling results (`ReduceSpec`, `AggregateSpec`), print (`PrintSpec`) and assign
//! timestamps and watermarks (`WatermarksSpec`).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::boxed;
use crate::bindings::operators::accumulators::Accumulators;
use crate::bindings::operators::aggregate::{Aggregation, KeyedAggregate};
use crate::bindings::operators::batch_loop::{BatchLoop, Stage};
use crate::bindings::operators::key_by::KeyBy;
use crate::bindings::operators::print::Print;
use crate::bindings::operators::reduce::KeyedReduce;
use crate::bindings::operators::udf_operator::{CallStyle, UdfOperator};
use crate::bindings::operators::watermarks::{TimestampsAndWatermarks, WatermarkKind};
use crate::bindings::state::{StateStore, StateView};
use crate::bindings::udf::Udf;
use crate::bindings::value::PyValue;
use crate::graph::stream_graph::{NodeKind, OperatorFactory};
use crate::runtime::operator::{OperatorError, TaskInfo};
use crate::state::backend::StateBackendConfig;

/// `UdfSpec`: a user function called in `style`.
#[derive(FromPyObject)]
pub struct UdfSpec {
    pub style: String,
    pub functions: Py<PyAny>,
    pub function_name: String,
    pub side_ports: Vec<(String, u32)>,
    pub keyed: bool,
    pub is_sink: bool,
    pub on_timer: bool,
}

/// The node of a user function: fused into a `BatchLoop` when it is a plain one-call stage,
/// else a `UdfOperator` (keyed ones with keyed state in `backend`).
pub fn udf_node(spec: UdfSpec, backend: &StateBackendConfig) -> PyResult<NodeKind<PyValue>> {
    let style = CallStyle::parse(&spec.style)
        .ok_or_else(|| PyValueError::new_err(format!("unknown call style '{}'", spec.style)))?;
    let UdfSpec {
        functions,
        function_name,
        side_ports,
        keyed,
        is_sink,
        on_timer,
        ..
    } = spec;
    let backend = backend.clone();
    let factory: OperatorFactory<PyValue> = Box::new(move |info: &TaskInfo| {
        // Keyed functions get keyed state through their runtime context.
        let state = if keyed {
            Some(Python::attach(|py| StateStore::for_operator(py, info, &backend)).map_err(OperatorError::new)?)
        } else {
            None
        };
        let view = state
            .as_ref()
            .map(|store| Python::attach(|py| StateView::global(py, store)))
            .transpose()
            .map_err(OperatorError::new)?;
        let udf = Udf::instantiate_keyed(&functions, info, view)?;
        match style.batch_loop_name() {
            Some(name) if !keyed && udf.calls.len() == 1 => boxed(BatchLoop::new(Stage {
                style: name,
                udf,
                operator: info.operator_name.clone(),
                function: function_name.clone(),
                operator_id: info.operator_id.clone(),
                subtask: info.subtask_index,
            })),
            _ => boxed(UdfOperator::new(
                style,
                udf,
                function_name.clone(),
                side_ports.clone(),
                keyed,
                on_timer,
                state,
            )?),
        }
    });
    Ok(if is_sink {
        NodeKind::Sink(factory)
    } else {
        NodeKind::Operator(factory)
    })
}

/// `KeyBySpec`: the key selector.
#[derive(FromPyObject)]
pub struct KeyBySpec {
    pub functions: Py<PyAny>,
    pub function_name: String,
}

pub fn key_by_node(spec: KeyBySpec) -> NodeKind<PyValue> {
    let KeyBySpec {
        functions,
        function_name,
    } = spec;
    NodeKind::Operator(Box::new(move |info: &TaskInfo| {
        let udf = Udf::instantiate(&functions, info)?;
        boxed(KeyBy::new(udf, info, function_name.clone()))
    }))
}

/// `ReduceSpec`: a keyed rolling reduce.
#[derive(FromPyObject)]
pub struct ReduceSpec {
    pub functions: Py<PyAny>,
    /// BATCH execution: emit only each key's final value.
    pub final_only: bool,
    /// The function's runtime context has the key's keyed state (a ReduceFunction).
    pub keyed_state: bool,
}

pub fn reduce_node(spec: ReduceSpec, backend: &StateBackendConfig) -> NodeKind<PyValue> {
    let backend = backend.clone();
    let functions = spec.functions;
    let (final_only, keyed_state) = (spec.final_only, spec.keyed_state);
    NodeKind::Operator(Box::new(move |info: &TaskInfo| {
        let state = Python::attach(|py| Accumulators::for_operator(py, info, &backend, keyed_state))
            .map_err(OperatorError::new)?;
        let view = match &state {
            Accumulators::Store { store, .. } if keyed_state => {
                Some(Python::attach(|py| StateView::global(py, store)).map_err(OperatorError::new)?)
            }
            _ => None,
        };
        let udf = Udf::instantiate_keyed(&functions, info, view)?;
        boxed(KeyedReduce::new(udf, state, final_only, keyed_state))
    }))
}

/// `AggregateSpec`: sum, min, max, min_by or max_by of a field.
#[derive(FromPyObject)]
pub struct AggregateSpec {
    pub aggregation: String,
    pub position: Py<PyAny>,
    /// BATCH execution: emit only each key's final value.
    pub final_only: bool,
}

pub fn aggregate_node(spec: AggregateSpec, backend: &StateBackendConfig) -> PyResult<NodeKind<PyValue>> {
    let aggregation = Aggregation::parse(&spec.aggregation)
        .ok_or_else(|| PyValueError::new_err(format!("unknown aggregation '{}'", spec.aggregation)))?;
    let backend = backend.clone();
    let position = spec.position;
    let final_only = spec.final_only;
    Ok(NodeKind::Operator(Box::new(move |info: &TaskInfo| {
        Python::attach(|py| {
            let state = Accumulators::for_operator(py, info, &backend, false).map_err(OperatorError::new)?;
            boxed(KeyedAggregate::new(
                aggregation,
                position.clone_ref(py),
                state,
                final_only,
            ))
        })
    })))
}

/// `PrintSpec`: `print()`.
#[derive(FromPyObject)]
pub struct PrintSpec {
    pub identifier: Option<String>,
    pub formatter: Option<Py<PyAny>>,
}

pub fn print_node(spec: PrintSpec) -> NodeKind<PyValue> {
    let PrintSpec { identifier, formatter } = spec;
    NodeKind::Sink(Box::new(move |_: &TaskInfo| {
        Python::attach(|py| {
            boxed(Print::new(
                identifier.clone(),
                formatter.as_ref().map(|f| f.clone_ref(py)),
            ))
        })
    }))
}

/// `WatermarksSpec`: `assign_timestamps_and_watermarks`.
#[derive(FromPyObject)]
pub struct WatermarksSpec {
    pub functions: Py<PyAny>,
    pub kind: String,
    pub delay_ms: i64,
    pub has_assigner: bool,
    pub per_record: bool,
    pub interval_ms: i64,
    pub idleness_ms: Option<i64>,
}

pub fn watermarks_node(spec: WatermarksSpec) -> PyResult<NodeKind<PyValue>> {
    let kind = match spec.kind.as_str() {
        "bounded" => WatermarkKind::Bounded { delay: spec.delay_ms },
        "none" => WatermarkKind::None,
        "generator" => WatermarkKind::Generator,
        other => return Err(PyValueError::new_err(format!("unknown watermark kind '{other}'"))),
    };
    let WatermarksSpec {
        functions,
        has_assigner,
        per_record,
        interval_ms,
        idleness_ms,
        ..
    } = spec;
    Ok(NodeKind::Operator(Box::new(move |info: &TaskInfo| {
        let udf = Udf::instantiate(&functions, info)?;
        boxed(TimestampsAndWatermarks::new(
            kind,
            udf,
            has_assigner,
            per_record,
            interval_ms,
            idleness_ms,
        ))
    })))
}
