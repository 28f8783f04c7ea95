//! A running job: one thread per task, the checkpoint coordinator's thread, and the handle
//! that waits for them, cancels them, lets go of those stuck in user code, and reports the
//! first failure.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::checkpoint::coordinator::{Coordinator, CoordinatorEnd};
use crate::checkpoint::metadata::remove_incomplete;
use crate::metrics::task::{JobMetrics, TaskMetricsEntry};
use crate::metrics::user::UserMetrics;
use crate::runtime::job::JobError;
use crate::runtime::lock::lock;
use crate::runtime::operator::OperatorError;
use crate::runtime::record::Data;
use crate::runtime::task::{Task, TaskFailure, TaskStats};

/// The stack of a task thread: 8 MiB, what a Python thread gets on Linux (the default stack
/// size of pthreads, from `ulimit -s`), so that user functions that recurse deeply in C (hashing
/// or pickling deeply nested values) run as they would in a plain Python thread; Rust's 2 MiB
/// default overflows. The memory is reserved, not used, until the stack grows.
pub const TASK_STACK_BYTES: usize = 8 << 20;

/// What a job did.
#[derive(Clone, Debug, Default)]
pub struct JobSummary {
    pub tasks: Vec<TaskStats>,
    pub duration: Duration,
}

struct JobControl {
    cancelled: AtomicBool,
    /// A savepoint that stops the job completed: the job ends as finished, not cancelled.
    stopped_with_savepoint: Arc<AtomicBool>,
    /// Every task thread ended (the coordinator stops too).
    tasks_done: AtomicBool,
    failure: Mutex<Option<TaskFailure>>,
    stats: Mutex<Vec<TaskStats>>,
    running: Mutex<usize>,
    finished: Condvar,
}

impl JobControl {
    fn task_ended(&self, result: Result<TaskStats, TaskFailure>) {
        match result {
            Ok(stats) => lock(&self.stats).push(stats),
            Err(failure) => {
                // The failure is kept before the others are told to stop: what stopping them
                // makes them report must not take its place. Once a savepoint stopped the job,
                // a failure is what stopping made of the task (an interrupted function), and
                // the job still ends as finished.
                let stopping = self.stopped_with_savepoint.load(Ordering::SeqCst);
                if matches!(failure, TaskFailure::Operator { .. }) && !stopping {
                    let mut slot = lock(&self.failure);
                    if slot.is_none() {
                        *slot = Some(failure);
                    }
                }
                self.cancelled.store(true, Ordering::SeqCst);
            }
        }
        let mut running = lock(&self.running);
        *running -= 1;
        if *running == 0 {
            self.finished.notify_all();
        }
    }
}

/// A running job.
pub struct JobHandle {
    control: Arc<JobControl>,
    threads: Vec<JoinHandle<()>>,
    /// The checkpoint coordinator's thread, when the job checkpoints.
    coordinator: Option<JoinHandle<()>>,
    started: Instant,
    metrics: Arc<JobMetrics>,
}

impl JobHandle {
    /// The OS thread ids (`pthread_t`, which is Python's `threading.get_ident()`) of the task
    /// threads still running, for interrupting the user code they run when the job is stopped.
    pub fn running_thread_ids(&self) -> Vec<u64> {
        self.running_tasks().into_iter().map(|(_, id)| id).collect()
    }

    /// The tasks still running: each thread's name (`ferroflow <task> (<subtask>)`) and OS
    /// thread id (as [`JobHandle::running_thread_ids`]; 0 where there is none).
    pub fn running_tasks(&self) -> Vec<(String, u64)> {
        self.threads
            .iter()
            .filter(|t| !t.is_finished())
            .map(|t| {
                (
                    t.thread().name().unwrap_or("ferroflow task").to_string(),
                    os_thread_id(t),
                )
            })
            .collect()
    }

    /// Lets go of the task threads still running, so that [`JobHandle::join`] and dropping the
    /// handle do not wait for them: for tasks stuck in a call that ignores the cancel (a user
    /// function blocked on I/O). Each such thread ends on its own once its call returns, and
    /// reports nothing that could change how the job ended.
    pub fn detach_running(&mut self) {
        self.threads.retain(|t| t.is_finished());
    }

    /// The live counters of the job's tasks.
    pub fn metrics(&self) -> Arc<JobMetrics> {
        Arc::clone(&self.metrics)
    }

    /// Whether every task has ended.
    pub fn is_finished(&self) -> bool {
        *lock(&self.control.running) == 0
    }

    /// Waits up to `timeout` for every task to end; returns whether they have.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let running = lock(&self.control.running);
        let (running, _) = self
            .control
            .finished
            .wait_timeout_while(running, timeout, |r| *r > 0)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *running == 0
    }

    /// Asks every task to stop. Returns at once; `join` waits for them.
    pub fn cancel(&self) {
        self.control.cancelled.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.control.cancelled.load(Ordering::SeqCst)
    }

    /// Waits for every task thread, then reports how the job ended: the first task failure, if
    /// any, else `Cancelled` if it was cancelled, else what the tasks did.
    pub fn join(mut self) -> Result<JobSummary, JobError> {
        for t in self.threads.drain(..) {
            // A task that panicked caught it and ended with a failure.
            let _ = t.join();
        }
        if let Some(c) = self.coordinator.take() {
            // The tasks are gone: a coordinator still waiting for them stops.
            self.control.tasks_done.store(true, Ordering::SeqCst);
            let _ = c.join();
        }
        if let Some(failure) = lock(&self.control.failure).take() {
            return Err(JobError::Failed(failure));
        }
        let stopped = self.control.stopped_with_savepoint.load(Ordering::SeqCst);
        if self.control.cancelled.load(Ordering::SeqCst) && !stopped {
            return Err(JobError::Cancelled);
        }
        let mut tasks = std::mem::take(&mut *lock(&self.control.stats));
        tasks.sort_by(|a, b| (&a.task_name, a.subtask_index).cmp(&(&b.task_name, b.subtask_index)));
        Ok(JobSummary {
            tasks,
            duration: self.started.elapsed(),
        })
    }
}

impl Drop for JobHandle {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            self.control.cancelled.store(true, Ordering::SeqCst);
            for t in self.threads.drain(..) {
                let _ = t.join();
            }
        }
        if let Some(c) = self.coordinator.take() {
            self.control.tasks_done.store(true, Ordering::SeqCst);
            let _ = c.join();
        }
    }
}

/// The OS thread id of `thread` (`pthread_t`, Python's `threading.get_ident()`).
fn os_thread_id(thread: &JoinHandle<()>) -> u64 {
    #[cfg(unix)]
    {
        use std::os::unix::thread::JoinHandleExt;
        // `pthread_t` is a u64 on Linux and a pointer on macOS.
        #[allow(clippy::unnecessary_cast)]
        let id = thread.as_pthread_t() as u64;
        id
    }
    #[cfg(not(unix))]
    {
        let _ = thread;
        0
    }
}

/// What a caught panic says (its `&str` or `String` payload).
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

impl JobHandle {
    /// Runs `tasks`, one thread each, and `coordinator` (when the job checkpoints) on one of its own.
    pub fn start<V: Data>(tasks: Vec<Task<V>>, coordinator: Option<Coordinator>, user: Arc<UserMetrics>) -> JobHandle {
        let control = Arc::new(JobControl {
            cancelled: AtomicBool::new(false),
            stopped_with_savepoint: coordinator.as_ref().map_or_else(
                || Arc::new(AtomicBool::new(false)),
                |c| Arc::clone(&c.stopped_with_savepoint),
            ),
            tasks_done: AtomicBool::new(false),
            failure: Mutex::new(None),
            stats: Mutex::new(Vec::new()),
            running: Mutex::new(tasks.len()),
            finished: Condvar::new(),
        });
        let mut threads = Vec::with_capacity(tasks.len());
        let metrics = Arc::new(JobMetrics {
            tasks: tasks
                .iter()
                .map(|t| TaskMetricsEntry {
                    task_name: t.name.clone(),
                    subtask_index: t.subtask_index,
                    parallelism: t.failed_operator(None).2,
                    metrics: t.metrics(),
                })
                .collect(),
            user,
        });
        for task in tasks {
            let control_for_task = Arc::clone(&control);
            let thread_name = format!("ferroflow {} ({})", task.name, task.subtask_index + 1);
            let (task_name, subtask_index, parallelism) = task.failed_operator(None);
            let spawned = std::thread::Builder::new()
                .name(thread_name)
                .stack_size(TASK_STACK_BYTES)
                .spawn(move || {
                    let control = control_for_task;
                    // A panic is a bug in ferroflow, but it must still end the job, not hang it.
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        V::run_thread(|| task.run(&control.cancelled))
                    }))
                    .unwrap_or_else(|panic| {
                        let message = panic_message(panic.as_ref());
                        Err(TaskFailure::Operator {
                            operator: task_name,
                            subtask_index,
                            parallelism,
                            record_index: None,
                            error: OperatorError::new(format!(
                                "internal error in ferroflow (task panicked): {message}"
                            )),
                        })
                    });
                    control.task_ended(result);
                });
            match spawned {
                Ok(handle) => threads.push(handle),
                Err(e) => {
                    // The task never ran: count it out and stop the others.
                    control.task_ended(Err(TaskFailure::Operator {
                        operator: "ferroflow runtime".into(),
                        subtask_index: 0,
                        parallelism: 1,
                        record_index: None,
                        error: OperatorError::new(format!("could not start a task thread: {e}")),
                    }));
                }
            }
        }
        let coordinator = coordinator.and_then(|coordinator| {
            let control = Arc::clone(&control);
            let job_directory = Coordinator::job_directory(&coordinator.options, &coordinator.job_id);
            std::thread::Builder::new()
                .name("ferroflow checkpoint coordinator".into())
                .spawn(move || {
                    let stop = StopWhenEither(&control.cancelled, &control.tasks_done);
                    let end = coordinator.run_until(|| stop.is_set());
                    let finished = end == CoordinatorEnd::Finished;
                    if let CoordinatorEnd::Failed(reason) = end {
                        let mut slot = lock(&control.failure);
                        if slot.is_none() {
                            *slot = Some(TaskFailure::Operator {
                                operator: "checkpoint coordinator".into(),
                                subtask_index: 0,
                                parallelism: 1,
                                record_index: None,
                                error: OperatorError::new(reason),
                            });
                        }
                        drop(slot);
                        control.cancelled.store(true, Ordering::SeqCst);
                    }
                    // Once every task ended (stopped above, or by whatever stopped the
                    // coordinator), nothing writes into a checkpoint given up.
                    if !finished {
                        while !control.tasks_done.load(Ordering::SeqCst) {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        remove_incomplete(&job_directory);
                    }
                })
                .ok()
        });
        JobHandle {
            control,
            threads,
            coordinator,
            started: Instant::now(),
            metrics,
        }
    }
}

/// Set when either flag is.
struct StopWhenEither<'a>(&'a AtomicBool, &'a AtomicBool);

impl StopWhenEither<'_> {
    fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst) || self.1.load(Ordering::SeqCst)
    }
}
