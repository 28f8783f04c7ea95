//! Stopping a job whose user code does not stop: what `execute()`, a `JobClient` and
//! `execute_and_collect()` do once a job is cancelled or one of its tasks failed.
//!
//! The tasks still running get an asynchronous `KeyboardInterrupt` at once (see
//! [`interrupt_task_threads`]): Python code stops at its next bytecode. A call that blocks in
//! C (`queue.get()`, a socket read, `time.sleep`) cannot be interrupted that way, so after the
//! cancellation timeout (`task.cancellation.timeout`; a second Ctrl-C skips the rest of it) the
//! job lets go of the tasks still running: it ends as it would have, each such task is named
//! with its Python stack in a `StuckTaskWarning`, and its thread ends on its own once the call
//! returns (the interrupt then stops it).

use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::bindings::interrupt::interrupt_task_threads;
use crate::runtime::job_handle::JobHandle;

/// A task that did not stop within the cancellation timeout.
pub struct StuckTask {
    /// The task's name and subtask, as its thread is named.
    pub task: String,
    /// Where its Python code was, innermost call last (empty when it was in none).
    pub stack: String,
}

/// The tasks a stopping job let go of, and after how long.
pub struct StuckReport {
    pub tasks: Vec<StuckTask>,
    /// "the cancellation timeout of 5 s ...", or "a second Ctrl-C".
    waited: String,
}

/// Watches a job while it stops.
pub struct Stopping {
    timeout: Option<Duration>,
    since: Option<Instant>,
    stuck: Option<StuckReport>,
}

impl Stopping {
    /// `timeout`: how long tasks get to stop; None: as long as they take.
    pub fn new(timeout: Option<Duration>) -> Self {
        Stopping {
            timeout,
            since: None,
            stuck: None,
        }
    }

    /// Called while waiting for `job` to end. Once the job is stopping (cancelled, or a task
    /// failed), interrupts the Python code of its tasks; once the timeout has passed since then
    /// (at once when `abandon`), records the tasks still running and lets go of them. Returns
    /// whether there is nothing left to wait for.
    pub fn check(&mut self, job: &mut JobHandle, abandon: bool) -> bool {
        if job.is_finished() {
            return true;
        }
        if !job.is_cancelled() {
            return false;
        }
        let since = match self.since {
            Some(since) => since,
            None => {
                Python::attach(|py| interrupt_task_threads(py, job));
                *self.since.insert(Instant::now())
            }
        };
        let timed_out = self.timeout.is_some_and(|t| since.elapsed() >= t);
        if !(timed_out || abandon) {
            return false;
        }
        let waited = match self.timeout {
            Some(t) if timed_out => format!(
                "within the cancellation timeout of {} s (task.cancellation.timeout)",
                t.as_secs_f64()
            ),
            _ => "before it was cut short (a second Ctrl-C)".to_string(),
        };
        let tasks = Python::attach(|py| describe(py, job));
        job.detach_running();
        if !tasks.is_empty() {
            self.stuck = Some(StuckReport { tasks, waited });
        }
        true
    }

    /// Waits for `job` to end or be let go of, checking every `slice`.
    pub fn wait(&mut self, job: &mut JobHandle, slice: Duration) {
        while !job.wait_timeout(slice) {
            if self.check(job, false) {
                return;
            }
        }
    }

    /// As [`Stopping::wait`], on the thread that handles Ctrl-C: the first Ctrl-C cancels the
    /// job and is returned (to be raised once the job ended), a second one lets go of stuck
    /// tasks at once. `interrupted`: a Ctrl-C already started the stop.
    pub fn wait_watching_signals(
        &mut self,
        py: Python<'_>,
        job: &mut JobHandle,
        slice: Duration,
        interrupted: bool,
    ) -> Option<PyErr> {
        let mut interrupt = None;
        let mut abandon = false;
        while !py.detach(|| job.wait_timeout(slice)) {
            if let Err(e) = py.check_signals() {
                if interrupt.is_none() && !interrupted {
                    job.cancel();
                    interrupt = Some(e);
                } else {
                    abandon = true;
                }
            }
            if self.check(job, abandon) {
                break;
            }
        }
        interrupt
    }

    /// The tasks let go of, if any (taken: a second call gets None).
    pub fn take_stuck(&mut self) -> Option<StuckReport> {
        self.stuck.take()
    }
}

/// The tasks of `job` still running, with their Python stacks.
fn describe(py: Python<'_>, job: &JobHandle) -> Vec<StuckTask> {
    let frames = py
        .import("sys")
        .and_then(|sys| sys.call_method0("_current_frames"))
        .ok()
        .and_then(|f| f.cast_into::<PyDict>().ok());
    job.running_tasks()
        .into_iter()
        .map(|(name, id)| {
            let stack = frames
                .as_ref()
                .and_then(|frames| frames.get_item(id).ok().flatten())
                .and_then(|frame| {
                    let lines = py
                        .import("traceback")
                        .ok()?
                        .call_method1("format_stack", (frame,))
                        .ok()?;
                    let lines: Vec<String> = lines.extract().ok()?;
                    Some(lines.concat())
                })
                .unwrap_or_default();
            StuckTask {
                task: name.strip_prefix("ferroflow ").unwrap_or(&name).to_string(),
                stack,
            }
        })
        .collect()
}

/// Warns about the tasks of `reports`, after the job's `result` is known: an error the job
/// ended with is not replaced by a warning turned into an error (`-W error`).
pub fn warn_stuck<T>(py: Python<'_>, reports: &[StuckReport], result: PyResult<T>) -> PyResult<T> {
    let warned = reports.iter().try_for_each(|r| r.warn(py));
    match (result, warned) {
        (Err(e), _) => Err(e),
        (Ok(_), Err(w)) => Err(w),
        (Ok(value), Ok(())) => Ok(value),
    }
}

impl StuckReport {
    /// Warns about each task with a `ferroflow.StuckTaskWarning`.
    pub fn warn(&self, py: Python<'_>) -> PyResult<()> {
        let category = py.import("ferroflow._warnings")?.getattr("StuckTaskWarning")?;
        let warn = py.import("warnings")?.getattr("warn")?;
        for task in &self.tasks {
            let place = if task.stack.is_empty() {
                "It was not running Python code.".to_string()
            } else {
                format!("Its Python stack (innermost call last):\n{}", task.stack.trim_end())
            };
            let message = format!(
                "the task {} did not stop {}; ferroflow let go of it: its thread ends on its own \
                 once the call it is blocked in returns. {place}",
                task.task, self.waited
            );
            warn.call1((message, &category, 2))?;
        }
        Ok(())
    }
}
