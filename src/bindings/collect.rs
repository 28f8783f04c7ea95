//! `execute_and_collect()`: an iterator over what a job emits, while the job runs.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use pyo3::prelude::*;

use crate::bindings::dropped_timers::warn_dropped_at_end;
use crate::bindings::errors::job_error;
use crate::bindings::interrupt::interrupt_task_threads;
use crate::bindings::job_driver::clean_up_checkpoints;
use crate::bindings::value::PyValue;
use crate::runtime::input_gate::{GateEvent, InputGate};
use crate::runtime::job::{JobHandle, RunSetup};

/// How long the iterator waits for the job before it checks for Ctrl-C again.
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(50);

/// Iterates over the values a running job collects. Closing it (or leaving a `with` block, or
/// dropping it) cancels the job if it is still running.
#[pyclass(module = "ferroflow._engine")]
pub struct CollectIterator {
    job: Option<JobHandle>,
    gate: InputGate<PyValue>,
    buffer: VecDeque<Py<PyAny>>,
    /// How the job runs, for removing its checkpoints when it ends.
    setup: RunSetup,
}

impl CollectIterator {
    pub fn new(job: JobHandle, gate: InputGate<PyValue>, setup: RunSetup) -> Self {
        CollectIterator {
            job: Some(job),
            gate,
            buffer: VecDeque::new(),
            setup,
        }
    }

    /// Waits for the job's threads and turns a failure into the user's exception.
    fn finish(&mut self, py: Python<'_>, cancelled_by_us: bool) -> PyResult<()> {
        let Some(job) = self.job.take() else {
            return Ok(());
        };
        // A job that had failed before we stopped it reports its failure; one that we stopped
        // does not report what stopping made its tasks raise.
        let failed_before = job.is_cancelled();
        if cancelled_by_us {
            job.cancel();
        }
        if cancelled_by_us || failed_before {
            interrupt_task_threads(py, &job);
        }
        let result = match py.detach(|| job.join()) {
            Ok(summary) => Ok(Some(summary)),
            Err(_) if cancelled_by_us && !failed_before => Ok(None),
            Err(e) => Err(job_error(py, e)),
        };
        clean_up_checkpoints(&self.setup, result.is_ok());
        match result? {
            Some(summary) => warn_dropped_at_end(py, &summary.tasks),
            None => Ok(()),
        }
    }
}

#[pymethods]
impl CollectIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        loop {
            if let Some(v) = self.buffer.pop_front() {
                return Ok(Some(v));
            }
            if self.job.is_none() {
                return Ok(None);
            }
            if self.gate.is_finished() {
                self.finish(py, false)?;
                continue;
            }
            let gate = &mut self.gate;
            let event = py.detach(|| gate.poll(Instant::now() + SIGNAL_CHECK_INTERVAL));
            match event {
                Ok(GateEvent::Records { batch, .. }) => self.buffer.extend(batch.into_iter().map(|r| r.value.0)),
                Ok(GateEvent::Timeout) => {
                    if let Err(interrupt) = py.check_signals() {
                        self.finish(py, true)?;
                        return Err(interrupt);
                    }
                }
                Ok(_) => {}
                // A collecting subtask stopped without ending: the job failed or was cancelled.
                Err(_) => {
                    self.finish(py, false)?;
                    return Ok(None);
                }
            }
        }
    }

    /// Stops the job if it still runs. Values not yet read are discarded.
    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        self.buffer.clear();
        self.finish(py, true)
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __exit__(&mut self, py: Python<'_>, _t: Py<PyAny>, _v: Py<PyAny>, _tb: Py<PyAny>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }
}

impl Drop for CollectIterator {
    fn drop(&mut self) {
        if let Some(job) = self.job.take() {
            job.cancel();
            Python::attach(|py| {
                interrupt_task_threads(py, &job);
                py.detach(|| drop(job.join()))
            });
            clean_up_checkpoints(&self.setup, true);
        }
    }
}
