//! The window operator's Python side: the user's reduce / aggregate / window functions and the
//! window objects and contexts they see; custom triggers (`trigger.rs`) and the assigners of
//! window specs (`assigner.rs`).

mod assigner;
mod trigger;

pub use assigner::parse_assigner;
pub use trigger::{parse_trigger, PyTriggerContext};

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyList};

use crate::bindings::key::{key_to_py, type_name};
use crate::bindings::state::{StateStore, StateView, PICKLE_PROTOCOL};
use crate::bindings::udf::{Emitter, Udf};
use crate::bindings::value::PyValue;
use crate::checkpoint::{SnapshotContext, SnapshotStats};
use crate::runtime::key::Key;
use crate::runtime::operator::{OperatorError, OperatorResult, Output};
use crate::state::keyed::Namespace;
use crate::window::functions::{FireTime, WindowFunctions};
use crate::window::window::Window;

static WINDOW_MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The Python object of a window: `TimeWindow(start, end)`, `CountWindow(id)` or
/// `GlobalWindow.get()`.
pub(crate) fn window_to_py<'py>(py: Python<'py>, window: &Window) -> PyResult<Bound<'py, PyAny>> {
    let module = WINDOW_MODULE
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("ferroflow.datastream.window")?.unbind())
        })?
        .bind(py);
    match window {
        Window::Time { start, end } => module.getattr("TimeWindow")?.call1((*start, *end)),
        Window::Count(id) => module.getattr("CountWindow")?.call1((*id,)),
        Window::Global => module.getattr("GlobalWindow")?.call_method0("get"),
    }
}

/// What the window function does with a window's contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowFnKind {
    /// calls: `[reduce, window_fn or None]`
    Reduce,
    /// calls: `[create_accumulator, add, get_result, merge, window_fn or None]`
    Aggregate,
    /// calls: `[process, clear or None]` (ProcessWindowFunction)
    Process,
    /// calls: `[apply]` (WindowFunction)
    Apply,
}

/// How a window function given with `reduce`/`aggregate` is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowFnStyle {
    /// `apply(key, window, values)` (WindowFunction; AllWindowFunction without the key)
    Apply,
    /// `process(key, context, values)` (ProcessWindowFunction; the All variant without the key)
    Process,
}

/// The first byte of a window's contents in a checkpoint: a pickled value, or a pickled list of
/// the records.
const PICKLED_VALUE: u8 = 0;
const PICKLED_LIST: u8 = 1;

/// A window's contents.
pub enum PyAcc {
    /// A running reduce, or an aggregate's accumulator.
    Value(Py<PyAny>),
    /// The records, in arrival order.
    List(Vec<Py<PyAny>>),
}

/// `context` of ProcessWindowFunction.process.
#[pyclass(module = "ferroflow._engine", name = "WindowContext")]
pub struct WindowContext {
    window: Option<Py<PyAny>>,
    /// The window being processed, for `window_state()`.
    current: Option<Window>,
    watermark: i64,
    processing_time: i64,
    state: Py<StateStore>,
}

#[pymethods]
impl WindowContext {
    fn window(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.window
            .as_ref()
            .map(|w| w.clone_ref(py))
            .ok_or_else(|| PyRuntimeError::new_err("no window is being processed"))
    }

    fn current_processing_time(&self) -> i64 {
        self.processing_time
    }

    fn current_watermark(&self) -> i64 {
        self.watermark
    }

    /// State of the current key in the current window (clear it in `clear()`, as in Flink).
    fn window_state(&self, py: Python<'_>) -> PyResult<StateView> {
        let window = self
            .current
            .ok_or_else(|| PyRuntimeError::new_err("window_state() is only available while a window is processed"))?;
        Ok(StateView {
            store: self.state.clone_ref(py),
            namespace: Namespace::Window(window),
        })
    }

    /// State of the current key across its windows.
    fn global_state(&self, py: Python<'_>) -> StateView {
        StateView {
            store: self.state.clone_ref(py),
            namespace: Namespace::Global,
        }
    }
}

pub struct PyWindowFunctions {
    kind: WindowFnKind,
    style: Option<WindowFnStyle>,
    udf: Udf,
    /// `window_all`: the window functions take no key.
    keyless: bool,
    gap_extractor: Option<Py<PyAny>>,
    ctx: Py<WindowContext>,
    emitter: Emitter,
    function: String,
    /// A window function follows the reduce or aggregate.
    has_window_fn: bool,
    /// `pickle.dumps` and `pickle.loads`, for contents in checkpoints.
    pickle: (Py<PyAny>, Py<PyAny>),
}

impl PyWindowFunctions {
    /// `state` is the store the functions' keyed state lives in (`window_state()`,
    /// `global_state()`, `get_state` in `open`).
    pub fn new(
        kind: WindowFnKind,
        style: Option<WindowFnStyle>,
        udf: Udf,
        keyless: bool,
        gap_extractor: Option<Py<PyAny>>,
        function: String,
        state: Py<StateStore>,
    ) -> OperatorResult<Self> {
        let ctx = Python::attach(|py| {
            Py::new(
                py,
                WindowContext {
                    window: None,
                    current: None,
                    watermark: i64::MIN,
                    processing_time: 0,
                    state,
                },
            )
        })
        .map_err(OperatorError::new)?;
        let window_fn_index = match kind {
            WindowFnKind::Reduce => Some(1),
            WindowFnKind::Aggregate => Some(4),
            WindowFnKind::Process | WindowFnKind::Apply => None,
        };
        let (has_window_fn, pickle) = Python::attach(|py| {
            let has_window_fn =
                window_fn_index.is_some_and(|i| udf.calls.get(i).is_some_and(|c| !c.bind(py).is_none()));
            let pickle = py.import("pickle")?;
            Ok::<_, PyErr>((
                has_window_fn,
                (pickle.getattr("dumps")?.unbind(), pickle.getattr("loads")?.unbind()),
            ))
        })
        .map_err(OperatorError::new)?;
        Ok(PyWindowFunctions {
            has_window_fn,
            pickle,
            kind,
            style,
            udf,
            keyless,
            gap_extractor,
            ctx,
            emitter: Emitter::new(Vec::new()),
            function,
        })
    }

    fn call(&self, index: usize) -> Option<&Py<PyAny>> {
        self.udf
            .calls
            .get(index)
            .filter(|c| Python::attach(|py| !c.bind(py).is_none()))
    }

    /// Calls a window-level function with `values`: `apply(key, window, values)` or
    /// `process(key, context, values)` (without the key for `window_all`).
    fn call_window_fn<'py>(
        &self,
        py: Python<'py>,
        f: &Bound<'py, PyAny>,
        style: WindowFnStyle,
        key: &Key,
        window: &Bound<'py, PyAny>,
        values: Bound<'py, PyList>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let second = match style {
            WindowFnStyle::Apply => window.clone(),
            WindowFnStyle::Process => self.ctx.bind(py).clone().into_any(),
        };
        if self.keyless {
            f.call1((second, values))
        } else {
            f.call1((key_to_py(py, key)?, second, values))
        }
    }
}

impl WindowFunctions<PyValue> for PyWindowFunctions {
    type Acc = PyAcc;

    fn open(&mut self) -> OperatorResult {
        self.udf.open()
    }

    fn create(&mut self, value: PyValue) -> OperatorResult<PyAcc> {
        match self.kind {
            WindowFnKind::Reduce => Ok(PyAcc::Value(value.0)),
            WindowFnKind::Aggregate => Python::attach(|py| {
                let acc = self.udf.calls[0].bind(py).call0()?;
                Ok::<_, PyErr>(PyAcc::Value(self.udf.calls[1].bind(py).call1((value.0, acc))?.unbind()))
            })
            .map_err(OperatorError::new),
            WindowFnKind::Process | WindowFnKind::Apply => Ok(PyAcc::List(vec![value.0])),
        }
    }

    fn add(&mut self, acc: &mut PyAcc, value: PyValue) -> OperatorResult {
        match acc {
            PyAcc::List(items) => {
                items.push(value.0);
                Ok(())
            }
            PyAcc::Value(a) => Python::attach(|py| {
                let f = match self.kind {
                    WindowFnKind::Aggregate => self.udf.calls[1].bind(py).call1((value.0, a.bind(py)))?,
                    _ => self.udf.calls[0].bind(py).call1((a.bind(py), value.0))?,
                };
                *a = f.unbind();
                Ok::<_, PyErr>(())
            })
            .map_err(OperatorError::new),
        }
    }

    fn merge(&mut self, into: PyAcc, other: PyAcc) -> OperatorResult<PyAcc> {
        Python::attach(|py| {
            Ok::<_, PyErr>(match (into, other) {
                (PyAcc::Value(a), PyAcc::Value(b)) => {
                    let f = match self.kind {
                        WindowFnKind::Aggregate => &self.udf.calls[3],
                        _ => &self.udf.calls[0],
                    };
                    PyAcc::Value(f.bind(py).call1((a, b))?.unbind())
                }
                (PyAcc::List(mut a), PyAcc::List(b)) => {
                    a.extend(b);
                    PyAcc::List(a)
                }
                (a, _) => a,
            })
        })
        .map_err(OperatorError::new)
    }

    fn emit(
        &mut self,
        key: &Key,
        window: &Window,
        acc: &PyAcc,
        time: FireTime,
        out: &mut Output<PyValue>,
    ) -> OperatorResult {
        if !self.has_window_fn && self.kind == WindowFnKind::Reduce {
            // A plain reduce: the reduced value goes out as it is.
            if let PyAcc::Value(a) = acc {
                let value = Python::attach(|py| a.clone_ref(py));
                out.emit(crate::runtime::record::Record::with_timestamp(
                    PyValue(value),
                    time.timestamp,
                ));
            }
            return Ok(());
        }
        Python::attach(|py| {
            // A plain aggregate needs no window object: the result goes out as it is.
            let needs_window = self.has_window_fn || matches!(self.kind, WindowFnKind::Process | WindowFnKind::Apply);
            let window_obj = if needs_window {
                let w = window_to_py(py, window)?;
                let mut c = self.ctx.bind(py).borrow_mut();
                c.window = Some(w.clone().unbind());
                c.current = Some(*window);
                c.watermark = time.watermark;
                c.processing_time = time.processing_time;
                c.state.borrow_mut(py).current_key = Some(key.clone());
                w
            } else {
                py.None().into_bound(py)
            };
            let (result, function) = match (self.kind, acc) {
                (WindowFnKind::Reduce | WindowFnKind::Aggregate, PyAcc::Value(a)) => {
                    let result = if self.kind == WindowFnKind::Aggregate {
                        self.udf.calls[2].bind(py).call1((a.bind(py),))?
                    } else {
                        a.bind(py).clone()
                    };
                    let window_fn = match (self.has_window_fn, self.kind) {
                        (false, _) => None,
                        (true, WindowFnKind::Aggregate) => self.udf.calls.get(4),
                        (true, _) => self.udf.calls.get(1),
                    };
                    match (window_fn, self.style) {
                        (Some(f), Some(style)) => {
                            let values = PyList::new(py, [result])?;
                            (
                                self.call_window_fn(py, f.bind(py), style, key, &window_obj, values)?,
                                true,
                            )
                        }
                        _ => {
                            out.emit(crate::runtime::record::Record::with_timestamp(
                                PyValue(result.unbind()),
                                time.timestamp,
                            ));
                            return Ok(());
                        }
                    }
                }
                (kind, PyAcc::List(items)) => {
                    let values = PyList::new(py, items.iter().map(|v| v.bind(py)))?;
                    let style = if kind == WindowFnKind::Process {
                        WindowFnStyle::Process
                    } else {
                        WindowFnStyle::Apply
                    };
                    (
                        self.call_window_fn(py, self.udf.calls[0].bind(py), style, key, &window_obj, values)?,
                        true,
                    )
                }
                _ => return Ok(()),
            };
            if function {
                self.emitter.emit_all(&result, time.timestamp, out, &self.function)?;
            }
            Ok::<_, PyErr>(())
        })
        .map_err(OperatorError::new)
    }

    fn clear(&mut self, key: &Key, window: &Window) -> OperatorResult {
        let clear = match self.kind {
            WindowFnKind::Process => self.call(1),
            _ => None,
        };
        let Some(clear) = clear else { return Ok(()) };
        Python::attach(|py| {
            let window_obj = window_to_py(py, window)?;
            let mut c = self.ctx.bind(py).borrow_mut();
            c.window = Some(window_obj.unbind());
            c.current = Some(*window);
            c.state.borrow_mut(py).current_key = Some(key.clone());
            drop(c);
            clear.bind(py).call1((self.ctx.bind(py),)).map(drop)
        })
        .map_err(OperatorError::new)
    }

    fn session_gap(&mut self, value: &PyValue) -> OperatorResult<i64> {
        let Some(extractor) = &self.gap_extractor else {
            return Err(OperatorError::new("no session gap extractor"));
        };
        Python::attach(|py| extractor.bind(py).call1((value.0.bind(py),))?.extract::<i64>()).map_err(OperatorError::new)
    }

    /// The contents pickled (a list of records as one list), after a tag byte.
    fn encode(&mut self, acc: &PyAcc, out: &mut Vec<u8>) -> OperatorResult {
        Python::attach(|py| {
            let (tag, value) = match acc {
                PyAcc::Value(v) => (PICKLED_VALUE, v.bind(py).clone()),
                PyAcc::List(items) => (
                    PICKLED_LIST,
                    PyList::new(py, items.iter().map(|v| v.bind(py)))?.into_any(),
                ),
            };
            let pickled = self.pickle.0.bind(py).call1((&value, PICKLE_PROTOCOL)).map_err(|e| {
                let what = match acc {
                    PyAcc::Value(_) => format!("the contents of a window (a value of type '{}')", type_name(&value)),
                    PyAcc::List(_) => "the records of a window".to_string(),
                };
                PyTypeError::new_err(format!(
                    "{what} cannot be pickled, so a checkpoint cannot hold them: {e}"
                ))
            })?;
            out.push(tag);
            out.extend_from_slice(pickled.cast::<PyBytes>()?.as_bytes());
            Ok::<_, PyErr>(())
        })
        .map_err(OperatorError::new)
    }

    fn decode(&mut self, bytes: &[u8]) -> OperatorResult<PyAcc> {
        let (&tag, pickled) = bytes
            .split_first()
            .ok_or_else(|| OperatorError::new("empty window contents in a checkpoint"))?;
        Python::attach(|py| {
            let value = self.pickle.1.bind(py).call1((PyBytes::new(py, pickled),))?;
            Ok::<_, PyErr>(match tag {
                PICKLED_VALUE => PyAcc::Value(value.unbind()),
                PICKLED_LIST => PyAcc::List(value.cast::<PyList>()?.iter().map(Bound::unbind).collect()),
                other => {
                    return Err(PyTypeError::new_err(format!(
                        "unknown kind {other} of window contents in a checkpoint"
                    )))
                }
            })
        })
        .map_err(OperatorError::new)
    }

    /// The keyed state of `window_state()`, `global_state()`, `get_state` and a Python
    /// trigger's partitioned state (one store), and a CheckpointedFunction's operator state.
    fn snapshot_state(&mut self, ctx: &SnapshotContext<'_>, max_parallelism: usize) -> OperatorResult<SnapshotStats> {
        let mut stats = self.udf.snapshot(ctx, ctx.directory)?;
        let keyed = Python::attach(|py| {
            let state = self.ctx.borrow(py).state.clone_ref(py);
            let mut store = state
                .try_borrow_mut(py)
                .map_err(|e| OperatorError::new(e.to_string()))?;
            store
                .checkpoint(py, ctx.directory, max_parallelism)
                .map_err(OperatorError::new)
        })?;
        stats.add(keyed);
        Ok(stats)
    }

    fn close(&mut self) -> OperatorResult {
        let closed = self.udf.close();
        Python::attach(|py| {
            let state = self.ctx.borrow(py).state.clone_ref(py);
            let released = state.try_borrow_mut(py).map(|mut store| store.release(py));
            drop(released);
        });
        closed
    }
}
