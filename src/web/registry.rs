//! The jobs a web server shows: each one's identity and plan, fixed when it starts, and views of
//! what changes (its status, its current run's metrics, its checkpoints), read when asked.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use crate::checkpoint::coordinator::CheckpointHistory;
use crate::metrics::history::TaskView;
use crate::runtime::lock::lock;
use crate::time::clock::Clock;
use crate::web::plan::WebPlan;

/// How many ended jobs a server keeps listing.
pub const ENDED_JOBS_KEPT: usize = 16;

/// What changes while a job runs, as its driver knows it.
pub trait JobView: Send + Sync {
    /// Flink's name of the job's status (`RUNNING`, `FINISHED`, ...).
    fn status(&self) -> &'static str;
    /// Every task of the job's current (or last) run, read now; empty before it started.
    fn tasks(&self) -> Vec<TaskView>;
}

/// One job as a web server shows it.
pub struct JobRecord {
    /// Flink's 32-hex JobID (the id `JobClient.get_job_id()` gives).
    pub id: String,
    pub name: String,
    /// Unix epoch milliseconds.
    pub start_time: i64,
    /// -1 while the job runs (Flink's convention).
    end_time: AtomicI64,
    pub plan: WebPlan,
    pub view: Arc<dyn JobView>,
    pub checkpoints: Option<Arc<Mutex<CheckpointHistory>>>,
}

impl JobRecord {
    pub fn new(
        id: String,
        name: String,
        plan: WebPlan,
        view: Arc<dyn JobView>,
        checkpoints: Option<Arc<Mutex<CheckpointHistory>>>,
    ) -> Self {
        JobRecord {
            id,
            name,
            start_time: Clock::System.now(),
            end_time: AtomicI64::new(-1),
            plan,
            view,
            checkpoints,
        }
    }

    /// Marks the job ended now (its driver, once it knows the outcome).
    pub fn ended(&self) {
        let _ = self
            .end_time
            .compare_exchange(-1, Clock::System.now(), Ordering::SeqCst, Ordering::SeqCst);
    }

    /// Unix epoch milliseconds; -1 while the job runs.
    pub fn end_time(&self) -> i64 {
        self.end_time.load(Ordering::SeqCst)
    }

    pub fn is_ended(&self) -> bool {
        self.end_time() >= 0
    }

    /// Milliseconds from start to end, or to now while it runs.
    pub fn duration(&self, now: i64) -> i64 {
        let end = self.end_time();
        (if end >= 0 { end } else { now }) - self.start_time
    }
}

/// The jobs of one server: every running job and the last [`ENDED_JOBS_KEPT`] that ended, in
/// the order they started.
#[derive(Default)]
pub struct Registry {
    jobs: Mutex<Vec<Arc<JobRecord>>>,
}

impl Registry {
    /// Adds a job, forgetting the oldest ended ones past the bound.
    pub fn register(&self, job: Arc<JobRecord>) {
        let mut jobs = lock(&self.jobs);
        jobs.push(job);
        let ended = jobs.iter().filter(|j| j.is_ended()).count();
        let mut surplus = ended.saturating_sub(ENDED_JOBS_KEPT);
        jobs.retain(|j| {
            let drop = surplus > 0 && j.is_ended();
            if drop {
                surplus -= 1;
            }
            !drop
        });
    }

    /// The jobs now, oldest first.
    pub fn jobs(&self) -> Vec<Arc<JobRecord>> {
        lock(&self.jobs).clone()
    }

    pub fn job(&self, id: &str) -> Option<Arc<JobRecord>> {
        lock(&self.jobs).iter().find(|j| j.id == id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub struct Fixed(pub &'static str);

    impl JobView for Fixed {
        fn status(&self) -> &'static str {
            self.0
        }
        fn tasks(&self) -> Vec<TaskView> {
            Vec::new()
        }
    }

    fn record(id: &str) -> Arc<JobRecord> {
        Arc::new(JobRecord::new(
            id.into(),
            "job".into(),
            WebPlan::default(),
            Arc::new(Fixed("RUNNING")),
            None,
        ))
    }

    #[test]
    fn keeps_running_jobs_and_a_bounded_number_of_ended_ones() {
        let registry = Registry::default();
        let running = record("running");
        registry.register(Arc::clone(&running));
        for i in 0..ENDED_JOBS_KEPT + 3 {
            let r = record(&format!("ended-{i}"));
            r.ended();
            registry.register(r);
        }
        let ids: Vec<String> = registry.jobs().iter().map(|j| j.id.clone()).collect();
        assert_eq!(ids.len(), ENDED_JOBS_KEPT + 1);
        assert_eq!(ids[0], "running");
        assert_eq!(ids[1], "ended-3");
        assert!(registry.job("ended-2").is_none());
        assert!(registry.job("running").is_some());
    }

    #[test]
    fn an_ended_job_keeps_its_first_end_time() {
        let r = record("a");
        assert_eq!(r.end_time(), -1);
        r.ended();
        let first = r.end_time();
        assert!(first >= r.start_time);
        r.ended();
        assert_eq!(r.end_time(), first);
    }
}
