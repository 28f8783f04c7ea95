//! `execute_and_collect()`: an iterator over what a job emits, while the job runs.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::bindings::cancellation::{warn_stuck, Stopping};
use crate::bindings::dropped_timers::warn_dropped_at_end;
use crate::bindings::errors::job_error;
use crate::bindings::iterable_source::mark_spent;
use crate::bindings::job_driver::clean_up_checkpoints;
use crate::bindings::metrics::metrics_rows;
use crate::bindings::value::PyValue;
use crate::metrics::history::MetricsHistory;
use crate::metrics::task::JobMetrics;
use crate::runtime::input_gate::{GateEvent, InputGate};
use crate::runtime::job::RunSetup;
use crate::runtime::job_handle::JobHandle;

/// How long the iterator waits for the job before it checks for Ctrl-C again.
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(50);
/// How long an iterator that is dropped waits for stuck tasks when the cancellation timeout is
/// 0 (wait as long as they take), which a drop cannot do.
const DROP_WAIT: Duration = Duration::from_secs(5);

/// Iterates over the values a running job collects. Closing it (or leaving a `with` block, or
/// dropping it) cancels the job if it is still running. When the job fails, the values it
/// collected before the failure come first, then the failure is raised.
#[pyclass(module = "ferroflow._engine")]
pub struct CollectIterator {
    job: Option<JobHandle>,
    /// The job's live counters, kept after it ended, and what reads them into rows.
    metrics: Arc<JobMetrics>,
    history: MetricsHistory,
    gate: InputGate<PyValue>,
    buffer: VecDeque<Py<PyAny>>,
    /// How the job runs, for removing its checkpoints when it ends.
    setup: RunSetup,
    /// How long stopping tasks get before the job lets go of them.
    cancellation_timeout: Option<Duration>,
    /// The job's failure, raised once the values before it were read.
    failure: Option<PyErr>,
    /// The iterators of `from_iterable` sources, marked spent when the job stops early.
    iterables: Vec<Py<PyAny>>,
    /// A Ctrl-C is stopping the job (a second one lets go of stuck tasks).
    interrupted: bool,
}

impl CollectIterator {
    pub fn new(
        job: JobHandle,
        gate: InputGate<PyValue>,
        setup: RunSetup,
        cancellation_timeout: Option<Duration>,
        iterables: Vec<Py<PyAny>>,
        history_interval: Duration,
    ) -> Self {
        CollectIterator {
            metrics: job.metrics(),
            history: MetricsHistory::new(history_interval),
            job: Some(job),
            gate,
            buffer: VecDeque::new(),
            setup,
            cancellation_timeout,
            failure: None,
            iterables,
            interrupted: false,
        }
    }

    /// Waits for the job's threads (letting go of those stuck past the cancellation timeout),
    /// keeps what they collected before they stopped, and turns a failure into the user's
    /// exception.
    fn finish(&mut self, py: Python<'_>, cancelled_by_us: bool) -> PyResult<()> {
        let Some(mut job) = self.job.take() else {
            return Ok(());
        };
        // A job that had failed before we stopped it reports its failure; one that we stopped
        // does not report what stopping made its tasks raise.
        let failed_before = job.is_cancelled();
        if cancelled_by_us {
            job.cancel();
        }
        let mut stopping = Stopping::new(self.cancellation_timeout);
        let interrupted = std::mem::take(&mut self.interrupted);
        let interrupt = stopping.wait_watching_signals(py, &mut job, SIGNAL_CHECK_INTERVAL, interrupted);
        if !cancelled_by_us {
            let gate = &mut self.gate;
            self.buffer.extend(gate.drain_records().into_iter().map(|r| r.value.0));
        }
        let result = match py.detach(|| job.join()) {
            Ok(summary) => Ok(Some(summary)),
            Err(_) if cancelled_by_us && !failed_before => Ok(None),
            Err(e) => Err(job_error(py, e)),
        };
        clean_up_checkpoints(&self.setup, result.is_ok());
        let stuck: Vec<_> = stopping.take_stuck().into_iter().collect();
        let result = warn_stuck(py, &stuck, result);
        let result = match (interrupt, result) {
            // Ctrl-C while the job stopped: raised in place of what stopping made of it.
            (Some(interrupt), Ok(_)) => Err(interrupt),
            (_, result) => result,
        };
        if result.is_err() {
            let _ = mark_spent(py, &self.iterables);
        }
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
            if let Some(failure) = self.failure.take() {
                return Err(failure);
            }
            if self.job.is_none() {
                return Ok(None);
            }
            if self.gate.is_finished() {
                if let Err(failure) = self.finish(py, false) {
                    self.failure = Some(failure);
                }
                continue;
            }
            let gate = &mut self.gate;
            let event = py.detach(|| gate.poll(Instant::now() + SIGNAL_CHECK_INTERVAL));
            match event {
                Ok(GateEvent::Records { batch, .. }) => self.buffer.extend(batch.into_iter().map(|r| r.value.0)),
                Ok(GateEvent::Timeout) => {
                    if let Err(interrupt) = py.check_signals() {
                        self.interrupted = true;
                        self.finish(py, true)?;
                        return Err(interrupt);
                    }
                }
                Ok(_) => {}
                // A collecting subtask stopped without ending: the job failed or was cancelled.
                // What was collected before comes first, then the failure.
                Err(_) => {
                    if let Err(failure) = self.finish(py, false) {
                        self.failure = Some(failure);
                    }
                }
            }
        }
    }

    /// The job's metrics now (and after it ended), one dict per task and subtask (see
    /// `metrics_rows`).
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let views = py.detach(|| {
            // Sampled as it is read (when the interval has passed), for rates between reads.
            self.history.sample(0, &self.metrics, false);
            self.history.live(0, &self.metrics, true)
        });
        metrics_rows(py, &views)
    }

    /// Stops the job if it still runs. Values not yet read are discarded.
    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        // Results not read: the job read more of its iterators than the user got.
        let unread = !self.buffer.is_empty() || (self.job.is_some() && !self.gate.is_finished());
        self.buffer.clear();
        self.failure = None;
        let result = self.finish(py, true);
        if unread {
            mark_spent(py, &self.iterables)?;
        }
        result
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
        if let Some(mut job) = self.job.take() {
            job.cancel();
            // Never without a bound here: this runs when the iterator is collected.
            let mut stopping = Stopping::new(Some(self.cancellation_timeout.unwrap_or(DROP_WAIT)));
            Python::attach(|py| py.detach(|| stopping.wait(&mut job, SIGNAL_CHECK_INTERVAL)));
            drop(job);
            clean_up_checkpoints(&self.setup, true);
            let iterables = std::mem::take(&mut self.iterables);
            Python::attach(|py| {
                let _ = mark_spent(py, &iterables);
            });
        }
    }
}
