//! `_engine.JobClient`: a job started by `execute_async()`, running on its driver thread while
//! Python goes on. The Python `JobClient` wraps it with PyFlink's names and futures.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::bindings::cancellation::warn_stuck;
use crate::bindings::checkpointing::history_list;
use crate::bindings::dropped_timers::{dropped_dict, warn_dropped_at_end};
use crate::bindings::errors::{deploy_error, job_error};
use crate::bindings::job_driver::{JobDriver, Outcome};
use crate::bindings::metrics::{history_rows, metrics_rows};
use crate::runtime::job_handle::JobSummary;
use crate::runtime::lock::lock;

/// The job's figures as `execute()` returns them: `net_runtime_ms`, per-task figures,
/// `job_id`, `restarts` and `checkpoints`.
pub fn summary_dict<'py>(py: Python<'py>, driver: &JobDriver, summary: &JobSummary) -> PyResult<Bound<'py, PyDict>> {
    let result = PyDict::new(py);
    result.set_item("net_runtime_ms", driver.elapsed().as_millis() as u64)?;
    let tasks = PyList::empty(py);
    for t in &summary.tasks {
        let d = PyDict::new(py);
        d.set_item("task", &t.task_name)?;
        d.set_item("subtask", t.subtask_index)?;
        d.set_item("records_in", t.records_in)?;
        d.set_item("records_out", t.output.records_out)?;
        d.set_item("batches_out", t.output.batches_out)?;
        d.set_item("backpressured_ms", t.output.blocked.as_secs_f64() * 1000.0)?;
        let counters = PyDict::new(py);
        for (name, value) in &t.counters {
            counters.set_item(*name, *value)?;
        }
        d.set_item("counters", counters)?;
        d.set_item("dropped_at_end", dropped_dict(py, t)?)?;
        tasks.append(d)?;
    }
    warn_dropped_at_end(py, &summary.tasks)?;
    result.set_item("tasks", tasks)?;
    add_job_figures(py, &result, driver)?;
    Ok(result)
}

/// What every summary holds, also that of a failed job: its id, restarts, checkpoints and
/// metrics (the last reading, and the history).
fn add_job_figures<'py>(py: Python<'py>, result: &Bound<'py, PyDict>, driver: &JobDriver) -> PyResult<()> {
    result.set_item("job_id", &driver.job_id)?;
    result.set_item("restarts", driver.restarts())?;
    result.set_item("checkpoints", checkpoints(py, driver)?)?;
    let (views, samples) = py.detach(|| (driver.live_metrics(), driver.metrics_history()));
    result.set_item("metrics", metrics_rows(py, &views)?)?;
    result.set_item("metrics_history", history_rows(py, &samples)?)?;
    Ok(())
}

/// The error of a failed job, carrying the job's figures as `_ferroflow_summary` (the Python
/// API turns them into the error's `job_result`). An exception that takes no attributes goes
/// as it is.
fn with_summary(py: Python<'_>, driver: &JobDriver, error: PyErr) -> PyErr {
    let summary = PyDict::new(py);
    let filled = summary
        .set_item("net_runtime_ms", driver.elapsed().as_millis() as u64)
        .and_then(|()| summary.set_item("tasks", PyList::empty(py)))
        .and_then(|()| add_job_figures(py, &summary, driver));
    if filled.is_ok() {
        let _ = error.value(py).setattr("_ferroflow_summary", summary);
    }
    error
}

/// The job's completed checkpoints (None when it does not checkpoint).
fn checkpoints<'py>(py: Python<'py>, driver: &JobDriver) -> PyResult<Option<Bound<'py, PyList>>> {
    driver.history().map(|h| history_list(py, &lock(h))).transpose()
}

/// The result of a job that ended: its figures, or the exception it ended with.
pub fn outcome_result<'py>(py: Python<'py>, driver: &JobDriver, outcome: Outcome) -> PyResult<Bound<'py, PyDict>> {
    let result = match outcome {
        Outcome::Finished(summary) => summary_dict(py, driver, &summary),
        Outcome::Cancelled => Err(PyRuntimeError::new_err("the job was cancelled")),
        Outcome::Failed(e) => Err(with_summary(py, driver, job_error(py, e))),
        Outcome::NotStarted(e) => Err(deploy_error(py, e)),
        Outcome::Error(e) => Err(e),
    };
    warn_stuck(py, &driver.take_stuck(), result)
}

/// A running (or ended) job started by `JobBuilder.execute_async()`.
#[pyclass(module = "ferroflow._engine")]
pub struct JobClient {
    driver: JobDriver,
    /// The result once taken from the driver: the dict, or the exception (kept to raise again).
    result: Mutex<Option<PyResult<Py<PyDict>>>>,
}

impl JobClient {
    pub fn new(driver: JobDriver) -> Self {
        JobClient {
            driver,
            result: Mutex::new(None),
        }
    }
}

/// The moment `timeout` seconds from now; None for no timeout (None, or too far to represent).
fn deadline(timeout: Option<f64>) -> PyResult<Option<Instant>> {
    match timeout {
        None => Ok(None),
        Some(t) if t.is_nan() || t < 0.0 => Err(PyValueError::new_err(format!(
            "timeout must be a non-negative number of seconds, got {t}"
        ))),
        Some(t) => Ok(Duration::try_from_secs_f64(t)
            .ok()
            .and_then(|d| Instant::now().checked_add(d))),
    }
}

#[pymethods]
impl JobClient {
    fn job_id(&self) -> &str {
        &self.driver.job_id
    }

    /// Flink's name of the job's status: RUNNING, RESTARTING, CANCELLING, FINISHED, FAILED or
    /// CANCELED.
    fn status(&self) -> &'static str {
        self.driver.status().name()
    }

    /// Asks the job to stop; returns at once (`wait` waits for it).
    fn cancel(&self) {
        self.driver.cancel();
    }

    /// Waits up to `timeout` seconds (None: until it ends) for the job, with the interpreter
    /// released; returns whether it ended.
    #[pyo3(signature = (timeout=None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let until = deadline(timeout)?;
        loop {
            let slice = match until {
                Some(u) => u
                    .saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(50)),
                None => Duration::from_millis(50),
            };
            if py.detach(|| self.driver.wait_timeout(slice)) {
                return Ok(true);
            }
            // Ctrl-C while waiting stops the wait, not the job.
            py.check_signals()?;
            if until.is_some_and(|u| Instant::now() >= u) {
                return Ok(false);
            }
        }
    }

    /// The job's result once it ended (the dict `execute()` returns), raising the exception
    /// it ended with; waits for it.
    fn result<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.wait(py, None)?;
        loop {
            // The lock is never held while Python runs, so no other thread waits for it with
            // the interpreter held.
            if let Some(result) = lock(&self.result).as_ref() {
                return match result {
                    Ok(d) => Ok(d.bind(py).clone()),
                    Err(e) => Err(e.clone_ref(py)),
                };
            }
            // One caller takes the outcome and makes the result; another waits for it.
            match self.driver.take_outcome() {
                Some(outcome) => {
                    let result = outcome_result(py, &self.driver, outcome).map(Bound::unbind);
                    *lock(&self.result) = Some(result);
                }
                None => py.detach(|| std::thread::sleep(Duration::from_millis(5))),
            }
        }
    }

    /// The job's completed checkpoints so far (statistics dicts), or None when it does not
    /// checkpoint.
    fn checkpoints<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyList>>> {
        checkpoints(py, &self.driver)
    }

    /// The job's metrics now, one dict per task and subtask (see `metrics_rows`); empty before
    /// the job's tasks started.
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let views = py.detach(|| self.driver.live_metrics());
        metrics_rows(py, &views)
    }

    /// The job's metrics over time: one dict per sample, task and subtask, oldest first (see
    /// `history_rows`); with `last`, only the last that many samples.
    #[pyo3(signature = (last=None))]
    fn metrics_history<'py>(&self, py: Python<'py>, last: Option<usize>) -> PyResult<Bound<'py, PyList>> {
        let samples = py.detach(|| self.driver.metrics_history());
        let from = last.map_or(0, |n| samples.len().saturating_sub(n));
        history_rows(py, &samples[from..])
    }

    /// The URL of the job's dashboard (None without `rest.port`).
    fn web_url(&self) -> Option<&str> {
        self.driver.web_url()
    }

    /// How many times the job restarted so far.
    fn restarts(&self) -> usize {
        self.driver.restarts()
    }

    /// Takes a savepoint under `directory` (stopping the job once it completed when `stop`),
    /// waiting for it with the interpreter released; returns the savepoint's directory.
    #[pyo3(signature = (directory, stop=false, timeout=None))]
    fn savepoint(&self, py: Python<'_>, directory: PathBuf, stop: bool, timeout: Option<f64>) -> PyResult<String> {
        let answer = self
            .driver
            .request_savepoint(directory, stop)
            .map_err(PyRuntimeError::new_err)?;
        let until = deadline(timeout)?;
        loop {
            let got = py.detach(|| answer.recv_timeout(Duration::from_millis(50)));
            match got {
                Ok(Ok(path)) => return Ok(path.to_string_lossy().into_owned()),
                Ok(Err(reason)) => return Err(PyRuntimeError::new_err(reason)),
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                    return Err(PyRuntimeError::new_err("the job ended before the savepoint was taken"))
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            }
            py.check_signals()?;
            if until.is_some_and(|u| Instant::now() >= u) {
                return Err(pyo3::exceptions::PyTimeoutError::new_err(
                    "the savepoint did not complete in time",
                ));
            }
        }
    }
}
