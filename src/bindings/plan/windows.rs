//! `WindowSpec`: a window operator with its assigner, trigger and functions.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::boxed;
use crate::bindings::operators::window::{
    parse_assigner, parse_trigger, PyWindowFunctions, WindowFnKind, WindowFnStyle,
};
use crate::bindings::state::{StateStore, StateView};
use crate::bindings::udf::Udf;
use crate::bindings::value::PyValue;
use crate::graph::stream_graph::NodeKind;
use crate::runtime::operator::{OperatorError, TaskInfo};
use crate::state::backend::StateBackendConfig;
use crate::window::operator::{WindowOperator, WindowSpec as EngineWindowSpec};

/// `WindowSpec` of `_plan_specs.py`.
#[derive(FromPyObject)]
pub struct WindowSpec {
    pub assigner: Py<PyAny>,
    pub trigger: Option<Py<PyAny>>,
    pub allowed_lateness_ms: i64,
    pub late_tag: Option<String>,
    pub side_ports: Vec<(String, u32)>,
    pub fn_kind: String,
    pub fn_style: Option<String>,
    pub functions: Py<PyAny>,
    pub keyless: bool,
    pub function_name: String,
}

/// The window node of `spec`, its state in `backend`. The assigner and trigger are checked now,
/// so that a bad one fails when the pipeline is built.
pub fn window_node(py: Python<'_>, spec: WindowSpec, backend: &StateBackendConfig) -> PyResult<NodeKind<PyValue>> {
    let (assigner, gap_extractor) = parse_assigner(spec.assigner.bind(py))?;
    let kind = match spec.fn_kind.as_str() {
        "reduce" => WindowFnKind::Reduce,
        "aggregate" => WindowFnKind::Aggregate,
        "process" => WindowFnKind::Process,
        "apply" => WindowFnKind::Apply,
        other => return Err(PyValueError::new_err(format!("unknown window function kind '{other}'"))),
    };
    let style = match spec.fn_style.as_deref() {
        None => None,
        Some("apply") => Some(WindowFnStyle::Apply),
        Some("process") => Some(WindowFnStyle::Process),
        Some(other) => {
            return Err(PyValueError::new_err(format!(
                "unknown window function style '{other}'"
            )))
        }
    };
    if let Some(t) = &spec.trigger {
        parse_trigger(t.bind(py), &StateStore::detached_py(py)?)?;
    }
    let WindowSpec {
        trigger,
        allowed_lateness_ms,
        late_tag,
        side_ports,
        functions,
        keyless,
        function_name,
        ..
    } = spec;
    let late_port = late_tag.and_then(|tag| side_ports.iter().find(|(t, _)| *t == tag).map(|(_, p)| *p));
    let backend = backend.clone();
    Ok(NodeKind::Operator(Box::new(move |info: &TaskInfo| {
        let (state, view) = Python::attach(|py| {
            let store = StateStore::for_operator(py, info, &backend)?;
            let view = StateView::global(py, &store)?;
            Ok::<_, PyErr>((store, view))
        })
        .map_err(OperatorError::new)?;
        let udf = Udf::instantiate_keyed(&functions, info, Some(view))?;
        let (trigger, extractor) = Python::attach(|py| {
            let trigger = trigger
                .as_ref()
                .map(|t| parse_trigger(t.bind(py), &state))
                .transpose()?;
            Ok::<_, PyErr>((trigger, gap_extractor.as_ref().map(|g| g.clone_ref(py))))
        })
        .map_err(OperatorError::new)?;
        let functions = PyWindowFunctions::new(kind, style, udf, keyless, extractor, function_name.clone(), state)?;
        boxed(WindowOperator::new(
            EngineWindowSpec {
                assigner,
                trigger,
                allowed_lateness: allowed_lateness_ms,
                late_port,
            },
            functions,
        ))
    })))
}
