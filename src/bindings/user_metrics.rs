//! The metric group a function gets from `runtime_context.get_metrics_group()`, with PyFlink's
//! methods: `counter`, `gauge`, `meter`, `distribution` and `add_group`. What it makes lives in
//! the run's [`UserMetrics`], so metrics readers see it while the job runs.

use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::metrics::user::{self, UserMetricKind, UserMetrics};
use crate::runtime::operator::TaskInfo;

/// A scope of metrics of one operator's subtask: `<operator>.<group>...`.
#[pyclass(module = "ferroflow.metrics", name = "MetricGroup", frozen)]
pub struct MetricGroup {
    registry: Arc<UserMetrics>,
    task: String,
    subtask: usize,
    /// The dotted scope: the operator's name, then the groups.
    scope: String,
}

impl MetricGroup {
    /// The group of the operator `info` describes.
    pub fn of_operator(info: &TaskInfo) -> Self {
        MetricGroup {
            registry: Arc::clone(&info.user_metrics),
            task: info.task_name.clone(),
            subtask: info.subtask_index,
            scope: info.operator_name.clone(),
        }
    }

    fn register(&self, name: &str, make: impl FnOnce() -> UserMetricKind) -> PyResult<UserMetricKind> {
        check_name(name)?;
        let full = format!("{}.{name}", self.scope);
        self.registry
            .register(&self.task, self.subtask, &full, make)
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }
}

/// `register` returns the kind asked for or an error; anything else is a bug.
fn kind_mismatch(kind: &UserMetricKind) -> PyErr {
    pyo3::exceptions::PyRuntimeError::new_err(format!("internal error: a metric registry returned a {kind:?}"))
}

fn check_name(name: &str) -> PyResult<()> {
    if name.is_empty() || name.contains('.') {
        return Err(PyValueError::new_err(format!(
            "a metric or group name must be non-empty and without dots, got {name:?}"
        )));
    }
    Ok(())
}

#[pymethods]
impl MetricGroup {
    /// A subgroup: `add_group("a")` scopes what it makes under `a`; `add_group("key", "value")`
    /// under `key.value` (Flink's key-value group).
    #[pyo3(signature = (name, extra=None))]
    fn add_group(&self, name: &str, extra: Option<&str>) -> PyResult<MetricGroup> {
        check_name(name)?;
        let mut scope = format!("{}.{name}", self.scope);
        if let Some(extra) = extra {
            check_name(extra)?;
            scope = format!("{scope}.{extra}");
        }
        Ok(MetricGroup {
            registry: Arc::clone(&self.registry),
            task: self.task.clone(),
            subtask: self.subtask,
            scope,
        })
    }

    /// A counter (registered once per name: asking again returns the same counter).
    fn counter(&self, name: &str) -> PyResult<Counter> {
        match self.register(name, || UserMetricKind::Counter(Arc::default()))? {
            UserMetricKind::Counter(c) => Ok(Counter(c)),
            other => Err(kind_mismatch(&other)),
        }
    }

    /// A gauge: `obj()` is called whenever metrics are read, and should return a number.
    fn gauge(&self, name: &str, obj: Py<PyAny>) -> PyResult<()> {
        Python::attach(|py| {
            if !obj.bind(py).is_callable() {
                return Err(pyo3::exceptions::PyTypeError::new_err(
                    "gauge(name, obj): obj must be a callable that returns a number",
                ));
            }
            Ok(())
        })?;
        let obj = Arc::new(obj);
        let read: user::GaugeFn =
            Arc::new(move || Python::attach(|py| obj.bind(py).call0().and_then(|v| v.extract::<f64>()).ok()));
        self.register(name, move || UserMetricKind::Gauge(Arc::new(user::Gauge::new(read))))
            .map(|_| ())
    }

    /// A meter: events, and their rate per second over `time_span_in_seconds`.
    #[pyo3(signature = (name, time_span_in_seconds=60))]
    fn meter(&self, name: &str, time_span_in_seconds: u64) -> PyResult<Meter> {
        if time_span_in_seconds == 0 {
            return Err(PyValueError::new_err("a meter's time span must be at least 1 second"));
        }
        let span = Duration::from_secs(time_span_in_seconds);
        match self.register(name, || UserMetricKind::Meter(Arc::new(user::Meter::new(span))))? {
            UserMetricKind::Meter(m) => Ok(Meter(m)),
            other => Err(kind_mismatch(&other)),
        }
    }

    /// A distribution of integer values: their count, sum, min, max and mean.
    fn distribution(&self, name: &str) -> PyResult<Distribution> {
        match self.register(name, || UserMetricKind::Distribution(Arc::default()))? {
            UserMetricKind::Distribution(d) => Ok(Distribution(d)),
            other => Err(kind_mismatch(&other)),
        }
    }

    fn __repr__(&self) -> String {
        format!("MetricGroup({:?})", self.scope)
    }
}

/// A counter (PyFlink's `Counter`).
#[pyclass(module = "ferroflow.metrics", frozen)]
pub struct Counter(Arc<user::Counter>);

#[pymethods]
impl Counter {
    #[pyo3(signature = (n=1))]
    fn inc(&self, n: i64) {
        self.0.add(n);
    }

    #[pyo3(signature = (n=1))]
    fn dec(&self, n: i64) {
        self.0.add(n.wrapping_neg());
    }

    fn get_count(&self) -> i64 {
        self.0.get()
    }
}

/// A meter (PyFlink's `Meter`).
#[pyclass(module = "ferroflow.metrics", frozen)]
pub struct Meter(Arc<user::Meter>);

#[pymethods]
impl Meter {
    #[pyo3(signature = (value=1))]
    fn mark_event(&self, value: u64) {
        self.0.mark(value);
    }

    fn get_count(&self) -> u64 {
        self.0.count()
    }
}

/// A distribution (PyFlink's `Distribution`).
#[pyclass(module = "ferroflow.metrics", frozen)]
pub struct Distribution(Arc<user::Distribution>);

#[pymethods]
impl Distribution {
    fn update(&self, value: i64) {
        self.0.update(value);
    }
}
