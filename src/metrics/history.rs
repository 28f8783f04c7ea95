//! A job's metrics over time: the job's driver samples every task at an interval (default
//! 0.5 s); each sample holds the totals, the rates per second since the sample before, and the
//! latency percentiles of that interval. The history is bounded: once it holds
//! [`MAX_SAMPLES`], every other sample goes and the interval doubles, so a long job keeps its
//! whole course at a coarser grain.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::metrics::histogram::{HistogramSnapshot, Percentiles};
use crate::metrics::task::{JobMetrics, OperatorSnapshot, TaskMetricsSnapshot};
use crate::runtime::lock::lock;

/// Samples kept before the history thins itself.
pub const MAX_SAMPLES: usize = 1200;

/// Per-second rates over an interval (Flink's `...PerSecond` metrics).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rates {
    pub records_in: f64,
    pub records_out: f64,
    pub busy_ms: f64,
    pub idle_ms: f64,
    pub back_pressured_ms: f64,
}

/// Everything read of one task at one moment.
#[derive(Clone, Debug)]
pub struct TaskView {
    pub task_name: String,
    pub subtask_index: usize,
    pub parallelism: usize,
    pub totals: TaskMetricsSnapshot,
    pub rates: Rates,
    /// Source-to-task latency over the last interval (over the run, for a live read before the
    /// first sample); None without records that carried their origin.
    pub latency: Option<Percentiles>,
    pub in_pool_usage: f64,
    pub out_pool_usage: f64,
    pub source_total: Option<u64>,
    pub operators: Vec<OperatorSnapshot>,
    pub counters: Vec<(&'static str, u64)>,
    pub user: Vec<(String, Option<f64>)>,
}

/// All tasks of a job at one moment.
#[derive(Clone, Debug)]
pub struct Sample {
    /// Unix time, in seconds.
    pub time: f64,
    /// Which run of the job (0, then one more per restart).
    pub run: u64,
    pub tasks: Vec<TaskView>,
}

struct Last {
    run: u64,
    at: Instant,
    totals: Vec<TaskMetricsSnapshot>,
    latency: Vec<HistogramSnapshot>,
    views: Vec<TaskView>,
}

struct Inner {
    interval: Duration,
    next_due: Option<Instant>,
    samples: VecDeque<Sample>,
    last: Option<Last>,
}

/// A job's metrics history (shared by its driver, which samples, and its readers).
pub struct MetricsHistory {
    inner: Mutex<Inner>,
}

impl MetricsHistory {
    pub fn new(interval: Duration) -> Self {
        MetricsHistory {
            inner: Mutex::new(Inner {
                interval: interval.max(Duration::from_millis(10)),
                next_due: None,
                samples: VecDeque::new(),
                last: None,
            }),
        }
    }

    /// Samples run `run`'s metrics when the interval has passed since the last sample, or
    /// always with `force` (at the end of a run).
    pub fn sample(&self, run: u64, metrics: &JobMetrics, force: bool) {
        let now = Instant::now();
        let previous = {
            let inner = lock(&self.inner);
            if !force && inner.next_due.is_some_and(|due| now < due) {
                return;
            }
            inner
                .last
                .as_ref()
                .filter(|l| l.run == run)
                .map(|l| (now.duration_since(l.at), l.totals.clone(), l.latency.clone()))
        };
        // Read outside the lock: gauges may run user code.
        let mut totals = Vec::with_capacity(metrics.tasks.len());
        let mut latency = Vec::with_capacity(metrics.tasks.len());
        let mut views = Vec::with_capacity(metrics.tasks.len());
        for (i, entry) in metrics.tasks.iter().enumerate() {
            let now_totals = entry.metrics.snapshot();
            let histogram = entry.metrics.latency.snapshot();
            let (rates, interval_latency) = match &previous {
                Some((elapsed, before, hist_before)) => (
                    before
                        .get(i)
                        .map_or_else(Rates::default, |b| rates(b, &now_totals, *elapsed)),
                    hist_before
                        .get(i)
                        .map_or_else(|| histogram.percentiles(), |h| histogram.since(h).percentiles()),
                ),
                None => (
                    // The first sample of a run: rates since the run started are unknown.
                    Rates::default(),
                    histogram.percentiles(),
                ),
            };
            views.push(read_view(metrics, i, now_totals, rates, interval_latency, true));
            totals.push(now_totals);
            latency.push(histogram);
        }
        let sample = Sample {
            time: unix_now(),
            run,
            tasks: views.clone(),
        };
        let mut inner = lock(&self.inner);
        let interval = inner.interval;
        inner.next_due = Some(now + interval);
        inner.last = Some(Last {
            run,
            at: now,
            totals,
            latency,
            views,
        });
        inner.samples.push_back(sample);
        if inner.samples.len() >= MAX_SAMPLES {
            let kept: VecDeque<Sample> = std::mem::take(&mut inner.samples)
                .into_iter()
                .enumerate()
                .filter(|(i, _)| i % 2 == 1)
                .map(|(_, s)| s)
                .collect();
            inner.samples = kept;
            inner.interval = interval * 2;
        }
    }

    /// Every sample, oldest first.
    pub fn samples(&self) -> Vec<Sample> {
        lock(&self.inner).samples.iter().cloned().collect()
    }

    /// The tasks of run `run` now: totals read now, with the rates and latency of the last
    /// sample of that run. Gauges are read now with `fresh_gauges` (see
    /// [`UserMetrics::values`](crate::metrics::user::UserMetrics::values)), else as last read.
    pub fn live(&self, run: u64, metrics: &JobMetrics, fresh_gauges: bool) -> Vec<TaskView> {
        let last: Option<Vec<TaskView>> = lock(&self.inner)
            .last
            .as_ref()
            .filter(|l| l.run == run)
            .map(|l| l.views.clone());
        (0..metrics.tasks.len())
            .map(|i| {
                let totals = metrics.tasks[i].metrics.snapshot();
                match last.as_ref().and_then(|l| l.get(i)) {
                    Some(sampled) => {
                        let latency = sampled
                            .latency
                            .or_else(|| metrics.tasks[i].metrics.latency.snapshot().percentiles());
                        read_view(metrics, i, totals, sampled.rates, latency, fresh_gauges)
                    }
                    None => read_view(
                        metrics,
                        i,
                        totals,
                        Rates::default(),
                        metrics.tasks[i].metrics.latency.snapshot().percentiles(),
                        fresh_gauges,
                    ),
                }
            })
            .collect()
    }

    pub fn interval(&self) -> Duration {
        lock(&self.inner).interval
    }
}

/// Task `i` of `metrics`, read now, with the given totals, rates and latency.
fn read_view(
    metrics: &JobMetrics,
    i: usize,
    totals: TaskMetricsSnapshot,
    rates: Rates,
    latency: Option<Percentiles>,
    fresh_gauges: bool,
) -> TaskView {
    let entry = &metrics.tasks[i];
    TaskView {
        task_name: entry.task_name.clone(),
        subtask_index: entry.subtask_index,
        parallelism: entry.parallelism,
        totals,
        rates,
        latency,
        in_pool_usage: entry.metrics.in_pool_usage(),
        out_pool_usage: entry.metrics.out_pool_usage(),
        source_total: entry.metrics.source_total(),
        operators: entry.metrics.operators(),
        counters: entry.metrics.counters(),
        user: metrics.user.values(&entry.task_name, entry.subtask_index, fresh_gauges),
    }
}

/// Per-second rates between two readings of a task `elapsed` apart.
fn rates(before: &TaskMetricsSnapshot, now: &TaskMetricsSnapshot, elapsed: Duration) -> Rates {
    let secs = elapsed.as_secs_f64();
    if secs <= 0.0 {
        return Rates::default();
    }
    let per_sec = |a: u64, b: u64| b.saturating_sub(a) as f64 / secs;
    // A step's time counts when it ends, so an interval may get more than it lasted: at most
    // all of it.
    let ms_per_sec = |a: Duration, b: Duration| (b.saturating_sub(a).as_secs_f64() * 1000.0 / secs).min(1000.0);
    Rates {
        records_in: per_sec(before.records_in, now.records_in),
        records_out: per_sec(before.records_out, now.records_out),
        busy_ms: ms_per_sec(before.busy, now.busy),
        idle_ms: ms_per_sec(before.idle, now.idle),
        back_pressured_ms: ms_per_sec(before.back_pressured, now.back_pressured),
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The history shared by a job's driver and its readers.
pub type SharedHistory = Arc<MetricsHistory>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::task::{TaskMetrics, TaskMetricsEntry};

    fn job(tasks: usize) -> JobMetrics {
        JobMetrics {
            tasks: (0..tasks)
                .map(|i| TaskMetricsEntry {
                    task_name: "T".into(),
                    subtask_index: i,
                    parallelism: tasks,
                    metrics: Arc::new(TaskMetrics::new(vec!["Map".into()], vec![])),
                })
                .collect(),
            user: Arc::default(),
        }
    }

    fn set_records(job: &JobMetrics, i: usize, records_in: u64) {
        job.tasks[i].metrics.store(&TaskMetricsSnapshot {
            records_in,
            ..TaskMetricsSnapshot::default()
        });
    }

    #[test]
    fn rates_come_from_consecutive_samples_of_one_run() {
        let history = MetricsHistory::new(Duration::from_millis(10));
        let run = job(1);
        history.sample(0, &run, true);
        set_records(&run, 0, 1000);
        std::thread::sleep(Duration::from_millis(20));
        history.sample(0, &run, true);
        let samples = history.samples();
        assert_eq!(samples.len(), 2);
        assert_eq!(samples[0].tasks[0].rates, Rates::default());
        let rate = samples[1].tasks[0].rates.records_in;
        // 1000 records in at least 20 ms (and far less than a minute).
        assert!(rate > 10.0 && rate <= 50_000.0, "{rate}");
        // A new run starts its rates afresh.
        let second = job(1);
        set_records(&second, 0, 5);
        history.sample(1, &second, true);
        assert_eq!(history.samples()[2].tasks[0].rates, Rates::default());
        let live = history.live(1, &second, true);
        assert_eq!(live[0].totals.records_in, 5);
    }

    #[test]
    fn a_sample_waits_for_its_interval_unless_forced() {
        let history = MetricsHistory::new(Duration::from_secs(60));
        let run = job(2);
        history.sample(0, &run, false);
        history.sample(0, &run, false);
        assert_eq!(history.samples().len(), 1);
        history.sample(0, &run, true);
        assert_eq!(history.samples().len(), 2);
        assert_eq!(history.samples()[1].tasks.len(), 2);
    }

    #[test]
    fn a_full_history_thins_itself_and_doubles_its_interval() {
        let history = MetricsHistory::new(Duration::from_millis(100));
        let run = job(1);
        for n in 0..MAX_SAMPLES as u64 {
            set_records(&run, 0, n);
            history.sample(0, &run, true);
        }
        let samples = history.samples();
        assert_eq!(samples.len(), MAX_SAMPLES / 2);
        assert_eq!(history.interval(), Duration::from_millis(200));
        // The newest sample stays.
        assert_eq!(
            samples.last().map(|s| s.tasks[0].totals.records_in),
            Some(MAX_SAMPLES as u64 - 1)
        );
    }

    #[test]
    fn latency_of_an_interval_is_what_was_recorded_in_it() {
        let history = MetricsHistory::new(Duration::from_millis(10));
        let run = job(1);
        run.tasks[0].metrics.latency.record(Duration::from_secs(2), 50);
        history.sample(0, &run, true);
        run.tasks[0].metrics.latency.record(Duration::from_millis(4), 50);
        history.sample(0, &run, true);
        let samples = history.samples();
        assert!(samples[0].tasks[0].latency.is_some_and(|p| p.p50 > 1500.0));
        let second = samples[1].tasks[0].latency.unwrap();
        assert!(second.p99 < 5.0 && second.count == 50, "{second:?}");
    }
}
