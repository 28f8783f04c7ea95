//! Running a job to its end on a thread of its own, restarting it from its latest completed
//! checkpoint after a failure while its restart strategy allows: what `execute()` waits for
//! (with Ctrl-C watched on the main thread) and what `execute_async()`'s JobClient watches.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use pyo3::prelude::*;

use crate::bindings::cancellation::{Stopping, StuckReport};
use crate::bindings::checkpointing::read_restore;
use crate::bindings::iterable_source::mark_spent;
use crate::bindings::value::PyValue;
use crate::checkpoint::coordinator::{CheckpointHistory, Coordinator};
use crate::checkpoint::options::Retention;
use crate::checkpoint::restart::{RestartStrategy, RestartTracker};
use crate::checkpoint::savepoint::SavepointRequest;
use crate::graph::stream_graph::StreamGraph;
use crate::metrics::history::{MetricsHistory, Sample, TaskView};
use crate::metrics::task::JobMetrics;
use crate::runtime::job::{DeployError, DeployedJob, JobError, RunSetup};
use crate::runtime::job_handle::{panic_message, JobSummary, TASK_STACK_BYTES};
use crate::runtime::lock::lock;
use crate::web::plan::WebPlan;
use crate::web::registry::{JobRecord, JobView};
use crate::web::server::WebServer;

/// How often the driver looks at a cancel request while it waits.
const WAIT_SLICE: Duration = Duration::from_millis(20);

/// Where a job is, with Flink's names (`JobStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    Running,
    Restarting,
    Cancelling,
    Finished,
    Failed,
    Canceled,
}

impl JobStatus {
    pub fn name(self) -> &'static str {
        match self {
            JobStatus::Running => "RUNNING",
            JobStatus::Restarting => "RESTARTING",
            JobStatus::Cancelling => "CANCELLING",
            JobStatus::Finished => "FINISHED",
            JobStatus::Failed => "FAILED",
            JobStatus::Canceled => "CANCELED",
        }
    }
}

/// How a job ended.
pub enum Outcome {
    Finished(JobSummary),
    Cancelled,
    Failed(JobError),
    /// A run could not be started.
    NotStarted(DeployError),
    /// The checkpoint to restart from could not be read.
    Error(PyErr),
}

/// What the driver thread and its owner share.
struct Shared {
    status: Mutex<JobStatus>,
    cancel: AtomicBool,
    /// Stop waiting for stuck tasks (a second Ctrl-C).
    abandon: AtomicBool,
    /// Tasks that did not stop in time, from every run of the job.
    stuck: Mutex<Vec<StuckReport>>,
    /// The live metrics of the job's current (or last) run, with the run's number.
    metrics: Mutex<Option<(u64, Arc<JobMetrics>)>>,
    /// The metrics of every run over time.
    metrics_history: Arc<MetricsHistory>,
    outcome: Mutex<Option<Outcome>>,
    /// Set with the outcome (which the owner takes; this stays).
    done: AtomicBool,
    ended: Condvar,
    restarts: AtomicUsize,
}

impl Shared {
    fn set_status(&self, status: JobStatus) {
        *lock(&self.status) = status;
    }

    fn status(&self) -> JobStatus {
        *lock(&self.status)
    }

    fn cancel_requested(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    /// Sleeps `delay` unless a cancel request comes first; returns whether it slept in full.
    fn sleep_unless_cancelled(&self, delay: Duration) -> bool {
        let until = Instant::now() + delay;
        loop {
            if self.cancel_requested() {
                return false;
            }
            let now = Instant::now();
            if now >= until {
                return true;
            }
            std::thread::sleep((until - now).min(WAIT_SLICE));
        }
    }
}

/// What the dashboard reads of a job while it runs.
impl JobView for Shared {
    fn status(&self) -> &'static str {
        Shared::status(self).name()
    }

    /// Gauges as last read: the server's thread must never wait for the interpreter (a job's
    /// owner may hold it while it waits for the server to stop).
    fn tasks(&self) -> Vec<TaskView> {
        self.live(false)
    }
}

impl Shared {
    /// The tasks of the current (or last) run, read now.
    fn live(&self, fresh_gauges: bool) -> Vec<TaskView> {
        match lock(&self.metrics).clone() {
            Some((run, metrics)) => self.metrics_history.live(run, &metrics, fresh_gauges),
            None => Vec::new(),
        }
    }
}

/// Everything one job's driver needs.
pub struct JobRun {
    pub graph: StreamGraph<PyValue>,
    pub job_id: String,
    pub setup: RunSetup,
    pub strategy: RestartStrategy,
    pub ignore_unclaimed: bool,
    /// The iterators of `from_iterable` sources, marked spent when the job does not finish.
    pub iterables: Vec<Py<PyAny>>,
    /// The dashboard's server the job registers with (`rest.port`).
    pub web: Option<Arc<WebServer>>,
}

/// A job running on its driver thread.
pub struct JobDriver {
    pub job_id: String,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    history: Option<Arc<Mutex<CheckpointHistory>>>,
    savepoints: Option<Sender<SavepointRequest>>,
    started: Instant,
    /// The dashboard's server and the job's entry there.
    web: Option<(Arc<WebServer>, Arc<JobRecord>)>,
}

impl JobDriver {
    /// Starts the job's driver thread. `savepoints` receives the requests the job's
    /// checkpoint coordinator serves (None when the job does not checkpoint).
    pub fn start(
        run: JobRun,
        savepoints: Option<(Sender<SavepointRequest>, Receiver<SavepointRequest>)>,
    ) -> PyResult<Self> {
        let shared = Arc::new(Shared {
            status: Mutex::new(JobStatus::Running),
            cancel: AtomicBool::new(false),
            abandon: AtomicBool::new(false),
            stuck: Mutex::new(Vec::new()),
            metrics: Mutex::new(None),
            metrics_history: Arc::new(MetricsHistory::new(run.graph.config.metrics.history_interval)),
            outcome: Mutex::new(None),
            done: AtomicBool::new(false),
            ended: Condvar::new(),
            restarts: AtomicUsize::new(0),
        });
        let mut run = run;
        let (sender, receiver) = match savepoints {
            Some((s, r)) => (Some(s), Some(r)),
            None => (None, None),
        };
        if let Some(c) = run.setup.checkpointing.as_mut() {
            c.savepoints = receiver.clone();
        }
        let history = run.setup.checkpointing.as_ref().map(|c| Arc::clone(&c.history));
        let job_id = run.job_id.clone();
        let web = run.web.take().map(|server| {
            let view: Arc<dyn JobView> = Arc::clone(&shared) as Arc<dyn JobView>;
            let plan = WebPlan::of(&run.graph);
            let record = Arc::new(JobRecord::new(
                job_id.clone(),
                run.graph.config.name.clone(),
                plan,
                view,
                history.clone(),
            ));
            server.registry.register(Arc::clone(&record));
            (server, record)
        });
        let record = web.as_ref().map(|(_, r)| Arc::clone(r));
        let for_thread = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("ferroflow job {}", &job_id[..job_id.len().min(8)]))
            .stack_size(TASK_STACK_BYTES)
            .spawn(move || {
                // A panic is a bug in ferroflow; it must still end the job, not hang its waiters.
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drive(run, &for_thread)))
                    .unwrap_or_else(|panic| {
                        let message = panic_message(panic.as_ref());
                        Outcome::Error(pyo3::exceptions::PyRuntimeError::new_err(format!(
                            "internal error in ferroflow (the job's driver panicked): {message}"
                        )))
                    });
                for_thread.set_status(match &outcome {
                    Outcome::Finished(_) => JobStatus::Finished,
                    Outcome::Cancelled => JobStatus::Canceled,
                    _ => JobStatus::Failed,
                });
                if let Some(r) = &record {
                    r.ended();
                }
                // Savepoints asked for too late get their answer once the status says why.
                if let Some(r) = receiver {
                    while let Ok(request) = r.try_recv() {
                        request.answer(Err(format!(
                            "the job is {}: no savepoint can be taken",
                            for_thread.status().name()
                        )));
                    }
                }
                let mut slot = lock(&for_thread.outcome);
                *slot = Some(outcome);
                // Under the lock, so that a waiter cannot miss it.
                for_thread.done.store(true, Ordering::SeqCst);
                drop(slot);
                for_thread.ended.notify_all();
            })
            .map_err(|e| pyo3::exceptions::PyOSError::new_err(format!("could not start the job's thread: {e}")))?;
        Ok(JobDriver {
            job_id,
            shared,
            thread: Mutex::new(Some(thread)),
            history,
            savepoints: sender,
            started: Instant::now(),
            web,
        })
    }

    pub fn status(&self) -> JobStatus {
        self.shared.status()
    }

    pub fn restarts(&self) -> usize {
        self.shared.restarts.load(Ordering::SeqCst)
    }

    pub fn history(&self) -> Option<&Arc<Mutex<CheckpointHistory>>> {
        self.history.as_ref()
    }

    /// The URL of the dashboard showing this job (None without `rest.port`).
    pub fn web_url(&self) -> Option<&str> {
        self.web.as_ref().map(|(server, _)| server.url.as_str())
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Asks the job to stop; returns at once.
    pub fn cancel(&self) {
        if !self.shared.cancel.swap(true, Ordering::SeqCst) {
            let mut status = lock(&self.shared.status);
            if matches!(*status, JobStatus::Running | JobStatus::Restarting) {
                *status = JobStatus::Cancelling;
            }
        }
    }

    /// Stops waiting for tasks stuck in user code: the job lets go of them at once (a second
    /// Ctrl-C). Only has an effect once the job is stopping.
    pub fn abandon(&self) {
        self.shared.abandon.store(true, Ordering::SeqCst);
    }

    /// The tasks of the job's current (or last) run, read now; empty before it started.
    /// Reads gauges now: call it without the interpreter held.
    pub fn live_metrics(&self) -> Vec<TaskView> {
        self.shared.live(true)
    }

    /// The job's metrics over time.
    pub fn metrics_history(&self) -> Vec<Sample> {
        self.shared.metrics_history.samples()
    }

    /// The tasks the job let go of because they did not stop in time (taken).
    pub fn take_stuck(&self) -> Vec<StuckReport> {
        std::mem::take(&mut *lock(&self.shared.stuck))
    }

    /// Waits up to `timeout` for the job to end; returns whether it has.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let outcome = lock(&self.shared.outcome);
        let (outcome, _) = self
            .shared
            .ended
            .wait_timeout_while(outcome, timeout, |_| !self.shared.done.load(Ordering::SeqCst))
            .unwrap_or_else(|p| p.into_inner());
        drop(outcome);
        self.shared.done.load(Ordering::SeqCst)
    }

    /// The job's outcome, once it ended (taken: a second call gets None).
    pub fn take_outcome(&self) -> Option<Outcome> {
        let outcome = lock(&self.shared.outcome).take()?;
        if let Some(t) = lock(&self.thread).take() {
            let _ = t.join();
        }
        Some(outcome)
    }

    /// Asks for a savepoint under `target`; the receiver gets its directory or why it failed.
    pub fn request_savepoint(&self, target: PathBuf, stop: bool) -> Result<Receiver<Result<PathBuf, String>>, String> {
        let Some(sender) = &self.savepoints else {
            return Err(
                "savepoints need checkpointing: call env.enable_checkpointing(interval) \
                        before building the job"
                    .into(),
            );
        };
        if matches!(
            self.status(),
            JobStatus::Finished | JobStatus::Failed | JobStatus::Canceled | JobStatus::Cancelling
        ) {
            return Err(format!(
                "the job is {}: no savepoint can be taken",
                self.status().name()
            ));
        }
        let (reply, answer) = crossbeam_channel::bounded(1);
        sender
            .send(SavepointRequest { target, stop, reply })
            .map_err(|_| "the job has ended: no savepoint can be taken".to_string())?;
        Ok(answer)
    }
}

impl Drop for JobDriver {
    /// A job whose owner lets go runs on (as a job submitted with PyFlink's `execute_async`
    /// does); its thread ends with it. The Python `JobClient` cancels jobs still running when
    /// the interpreter exits.
    fn drop(&mut self) {
        if let Some(t) = lock(&self.thread).take() {
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

/// Runs the job, restarting it after failures, until it finishes, fails for good, or is
/// cancelled.
fn drive(run: JobRun, shared: &Shared) -> Outcome {
    let JobRun {
        graph,
        job_id,
        mut setup,
        strategy,
        ignore_unclaimed,
        iterables,
        web: _,
    } = run;
    let initial_restore = setup.restore.clone();
    let mut restarts = RestartTracker::new(strategy);
    let outcome = loop {
        if shared.cancel_requested() {
            break Outcome::Cancelled;
        }
        let mut job = match DeployedJob::deploy(&graph, &setup) {
            Ok(deployed) => deployed.start(),
            Err(e) => break Outcome::NotStarted(e),
        };
        let (run, metrics) = (setup.attempt as u64, job.metrics());
        *lock(&shared.metrics) = Some((run, Arc::clone(&metrics)));
        let sampling = graph.config.metrics.enabled;
        let mut stopping = Stopping::new(graph.config.cancellation_timeout);
        let mut cancel_sent = false;
        while !job.wait_timeout(WAIT_SLICE) {
            if sampling {
                shared.metrics_history.sample(run, &metrics, false);
            }
            if shared.cancel_requested() && !cancel_sent {
                job.cancel();
                cancel_sent = true;
            }
            // A task failed or the job was cancelled: the others stop now, not after their
            // batch in progress, or are let go of after the cancellation timeout.
            if stopping.check(&mut job, shared.abandon.load(Ordering::SeqCst)) {
                break;
            }
        }
        if let Some(stuck) = stopping.take_stuck() {
            lock(&shared.stuck).push(stuck);
        }
        let joined = job.join();
        if sampling {
            // The run's last totals, after every task stored its final metrics.
            shared.metrics_history.sample(run, &metrics, true);
        }
        match joined {
            Ok(summary) => break Outcome::Finished(summary),
            Err(_) if shared.cancel_requested() => break Outcome::Cancelled,
            Err(JobError::Cancelled) => break Outcome::Cancelled,
            Err(error) => {
                let Some(delay) = restarts.on_failure(Instant::now()) else {
                    break Outcome::Failed(error);
                };
                shared.set_status(JobStatus::Restarting);
                if !shared.sleep_unless_cancelled(delay) {
                    break Outcome::Cancelled;
                }
                // From the latest completed checkpoint; with none yet, from where the job
                // started (nothing of the input is skipped).
                let latest = setup
                    .checkpointing
                    .as_ref()
                    .and_then(|c| lock(&c.history).latest().map(|l| l.directory.clone()));
                setup.restore = match latest {
                    Some(dir) => match Python::attach(|_| read_restore(&dir, ignore_unclaimed)) {
                        Ok(plan) => Some(plan),
                        Err(e) => break Outcome::Error(e),
                    },
                    None => initial_restore.clone(),
                };
                setup.attempt += 1;
                setup.run_id = format!("{job_id}-{}", setup.attempt);
                shared.restarts.fetch_add(1, Ordering::SeqCst);
                let mut status = lock(&shared.status);
                if *status == JobStatus::Restarting {
                    *status = JobStatus::Running;
                }
            }
        }
    };
    let succeeded_or_cancelled = matches!(outcome, Outcome::Finished(_) | Outcome::Cancelled);
    clean_up_checkpoints(&setup, succeeded_or_cancelled);
    // The plan holds the user's functions: let them go with the interpreter held.
    Python::attach(|py| {
        // A job that never started read nothing.
        if !matches!(outcome, Outcome::Finished(_) | Outcome::NotStarted(_)) {
            let _ = mark_spent(py, &iterables);
        }
        drop(iterables);
        drop(graph)
    });
    outcome
}

/// Removes a job's checkpoints when it ended the way its retention says they go.
pub fn clean_up_checkpoints(setup: &RunSetup, succeeded_or_cancelled: bool) {
    let Some(c) = &setup.checkpointing else { return };
    let remove =
        c.options.temporary || (succeeded_or_cancelled && c.options.retention == Retention::DeleteOnCancellation);
    let directory = Coordinator::job_directory(&c.options, &c.job_id);
    if remove {
        let _ = std::fs::remove_dir_all(&directory);
        // Statistics stay; the directories they name are gone.
        for completed in lock(&c.history).completed.iter_mut() {
            if completed.directory.starts_with(&directory) {
                completed.directory = PathBuf::new();
            }
        }
    } else {
        // A job that failed before its first checkpoint leaves nothing to resume from.
        let _ = std::fs::remove_dir(&directory);
    }
}
