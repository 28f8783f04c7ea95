//! A job stepped by hand from Python (`ferroflow.testing`): feed records and watermarks, move
//! processing time, run until quiet, read what each output received.

use std::sync::Mutex;

use crossbeam_channel::Receiver;
use pyo3::exceptions::{PyIndexError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::bindings::errors::job_error;
use crate::bindings::value::PyValue;
use crate::connectors::manual_source::{ManualFeed, ManualItem};
use crate::runtime::job::ManualJob;
use crate::runtime::message::Message;
use crate::runtime::record::{Record, NO_TIMESTAMP};
use crate::time::clock::Clock;

#[pyclass(module = "ferroflow._engine")]
pub struct ManualRun {
    job: Mutex<Option<ManualJob<PyValue>>>,
    feeds: Vec<ManualFeed<PyValue>>,
    outputs: Vec<Vec<Receiver<Message<PyValue>>>>,
    clock: Clock,
    finished: bool,
}

impl ManualRun {
    pub fn new(
        job: ManualJob<PyValue>,
        feeds: Vec<ManualFeed<PyValue>>,
        outputs: Vec<Vec<Receiver<Message<PyValue>>>>,
        clock: Clock,
    ) -> Self {
        ManualRun {
            job: Mutex::new(Some(job)),
            feeds,
            outputs,
            clock,
            finished: false,
        }
    }

    fn feed(&self, source: usize) -> PyResult<&ManualFeed<PyValue>> {
        self.feeds
            .get(source)
            .ok_or_else(|| PyIndexError::new_err(format!("there is no test source {source}")))
    }
}

#[pymethods]
impl ManualRun {
    /// Queues a record for test source `source` (a timestamp of None: the record has none).
    #[pyo3(signature = (source, value, timestamp=None))]
    fn push(&self, source: usize, value: Py<PyAny>, timestamp: Option<i64>) -> PyResult<()> {
        let record = Record::with_timestamp(PyValue(value), timestamp.unwrap_or(NO_TIMESTAMP));
        self.feed(source)?.push(ManualItem::Record(record));
        Ok(())
    }

    /// Queues a watermark for test source `source`.
    fn push_watermark(&self, source: usize, watermark: i64) -> PyResult<()> {
        self.feed(source)?.push(ManualItem::Watermark(watermark));
        Ok(())
    }

    /// Ends test source `source`: after its queued items, the final watermark and end of input.
    fn end_input(&self, source: usize) -> PyResult<()> {
        self.feed(source)?.push(ManualItem::End);
        Ok(())
    }

    /// Moves processing time forward to `time` (ms); never backwards.
    fn advance_time(&self, time: i64) {
        self.clock.advance_to(time);
    }

    fn current_time(&self) -> i64 {
        self.clock.now()
    }

    /// Runs every task until nothing is left to do. Returns whether the job has finished.
    /// An exception from a user function comes out here.
    fn run(&mut self, py: Python<'_>) -> PyResult<bool> {
        let mut guard = self.job.lock().unwrap_or_else(|p| p.into_inner());
        let Some(job) = guard.as_mut() else {
            return Ok(self.finished);
        };
        match job.run_until_quiet() {
            Ok(done) => {
                self.finished = done;
                Ok(done)
            }
            Err(e) => {
                *guard = None;
                Err(job_error(py, e))
            }
        }
    }

    /// What output `index` received since the last call.
    fn take<'py>(&self, py: Python<'py>, index: usize) -> PyResult<Bound<'py, PyList>> {
        let receivers = self
            .outputs
            .get(index)
            .ok_or_else(|| PyIndexError::new_err(format!("there is no test output {index}")))?;
        let list = PyList::empty(py);
        for rx in receivers {
            while let Ok(message) = rx.try_recv() {
                if let Message::Batch(batch, _) = message {
                    for r in batch {
                        list.append(r.value.0)?;
                    }
                }
            }
        }
        Ok(list)
    }

    /// Closes every operator (`close()` of the user functions runs).
    fn close(&self) -> PyResult<()> {
        let mut guard = self
            .job
            .lock()
            .map_err(|_| PyRuntimeError::new_err("the test job is broken"))?;
        if let Some(mut job) = guard.take() {
            job.close();
        }
        for feed in &self.feeds {
            drop(feed.drain());
        }
        Ok(())
    }
}
