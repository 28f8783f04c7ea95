//! Metrics that user functions define (`runtime_context.get_metrics_group()`): counters,
//! meters, distributions and gauges, registered per task and subtask under a dotted name
//! (`group.subgroup.name`), updated by the function's thread without locks and read by anyone.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::runtime::lock::lock;

/// A gauge's value, read when metrics are read (it may run user code).
pub type GaugeFn = Arc<dyn Fn() -> Option<f64> + Send + Sync>;

/// A counter that goes up and down (Flink's `Counter`).
#[derive(Debug, Default)]
pub struct Counter(AtomicI64);

impl Counter {
    pub fn add(&self, n: i64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Events and their rate per second over a time span (Flink's `MeterView`).
#[derive(Debug)]
pub struct Meter {
    count: AtomicU64,
    span: Duration,
    started: Instant,
    /// (when, count) seen by readers, for the rate over the span.
    seen: Mutex<VecDeque<(Instant, u64)>>,
}

impl Meter {
    pub fn new(span: Duration) -> Self {
        Meter {
            count: AtomicU64::new(0),
            span,
            started: Instant::now(),
            seen: Mutex::new(VecDeque::new()),
        }
    }

    pub fn mark(&self, n: u64) {
        self.count.fetch_add(n, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Events per second over the last span (over the meter's life while it is shorter).
    pub fn rate(&self) -> f64 {
        let now = Instant::now();
        let count = self.count();
        let mut seen = lock(&self.seen);
        while seen.len() > 1 && seen.get(1).is_some_and(|(t, _)| now.duration_since(*t) >= self.span) {
            seen.pop_front();
        }
        let (since, base) = match seen.front() {
            Some(&(t, c)) if now.duration_since(t) >= self.span / 2 => (t, c),
            _ => (self.started, 0),
        };
        seen.push_back((now, count));
        let elapsed = now.duration_since(since).as_secs_f64();
        if elapsed <= 0.0 {
            0.0
        } else {
            count.saturating_sub(base) as f64 / elapsed
        }
    }
}

/// Count, sum, min and max of the values given (PyFlink's `Distribution`).
#[derive(Debug)]
pub struct Distribution {
    count: AtomicU64,
    sum: AtomicI64,
    min: AtomicI64,
    max: AtomicI64,
}

impl Default for Distribution {
    fn default() -> Self {
        Distribution {
            count: AtomicU64::new(0),
            sum: AtomicI64::new(0),
            min: AtomicI64::new(i64::MAX),
            max: AtomicI64::new(i64::MIN),
        }
    }
}

impl Distribution {
    pub fn update(&self, value: i64) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(value, Ordering::Relaxed);
        self.min.fetch_min(value, Ordering::Relaxed);
        self.max.fetch_max(value, Ordering::Relaxed);
    }

    /// (count, sum, min, max, mean); None before the first value.
    pub fn stats(&self) -> Option<(u64, i64, i64, i64, f64)> {
        let count = self.count.load(Ordering::Relaxed);
        if count == 0 {
            return None;
        }
        let sum = self.sum.load(Ordering::Relaxed);
        Some((
            count,
            sum,
            self.min.load(Ordering::Relaxed),
            self.max.load(Ordering::Relaxed),
            sum as f64 / count as f64,
        ))
    }
}

/// A gauge: the function that reads it, and its value as last read.
pub struct Gauge {
    read: GaugeFn,
    last: Mutex<Option<f64>>,
}

impl Gauge {
    pub fn new(read: GaugeFn) -> Self {
        Gauge {
            read,
            last: Mutex::new(None),
        }
    }

    /// Reads the gauge now (this may run user code), or gives its last value.
    fn value(&self, fresh: bool) -> Option<f64> {
        if !fresh {
            return *lock(&self.last);
        }
        let value = (self.read)();
        *lock(&self.last) = value;
        value
    }
}

/// What kind of metric, with its storage.
#[derive(Clone)]
pub enum UserMetricKind {
    Counter(Arc<Counter>),
    Meter(Arc<Meter>),
    Distribution(Arc<Distribution>),
    Gauge(Arc<Gauge>),
}

impl fmt::Debug for UserMetricKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UserMetricKind::Counter(_) => "Counter",
            UserMetricKind::Meter(_) => "Meter",
            UserMetricKind::Distribution(_) => "Distribution",
            UserMetricKind::Gauge(_) => "Gauge",
        })
    }
}

#[derive(Clone, Debug)]
struct UserMetric {
    task: String,
    subtask: usize,
    name: String,
    kind: UserMetricKind,
}

/// The metrics the functions of one run of a job defined.
#[derive(Debug, Default)]
pub struct UserMetrics {
    metrics: Mutex<Vec<UserMetric>>,
}

/// Why a metric could not be registered.
#[derive(Debug, PartialEq, Eq)]
pub struct NameTaken {
    pub name: String,
    pub kind: &'static str,
}

impl fmt::Display for NameTaken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the metric {:?} is already registered in this subtask as a {}",
            self.name, self.kind
        )
    }
}

impl UserMetrics {
    /// The metric `name` of a subtask: the one registered before when it is of the same kind
    /// (so a function opened twice keeps counting), else a new one from `make`. A gauge
    /// registered again replaces the old one. A name taken by another kind is an error.
    pub fn register(
        &self,
        task: &str,
        subtask: usize,
        name: &str,
        make: impl FnOnce() -> UserMetricKind,
    ) -> Result<UserMetricKind, NameTaken> {
        let mut metrics = lock(&self.metrics);
        let kind = make();
        if let Some(existing) = metrics
            .iter_mut()
            .find(|m| m.task == task && m.subtask == subtask && m.name == name)
        {
            return match (&existing.kind, &kind) {
                (UserMetricKind::Gauge(_), UserMetricKind::Gauge(_)) => {
                    existing.kind = kind.clone();
                    Ok(kind)
                }
                (a, b) if std::mem::discriminant(a) == std::mem::discriminant(b) => Ok(existing.kind.clone()),
                (a, _) => Err(NameTaken {
                    name: name.to_string(),
                    kind: kind_name(a),
                }),
            };
        }
        metrics.push(UserMetric {
            task: task.to_string(),
            subtask,
            name: name.to_string(),
            kind: kind.clone(),
        });
        Ok(kind)
    }

    /// The values of one subtask's metrics, by name: a counter's count, a meter's rate per
    /// second (and `<name>.count`), a distribution's `<name>.count/.sum/.min/.max/.mean`, a
    /// gauge's value (None when it failed or is not a number). Gauges are read now with
    /// `fresh_gauges` (which runs user code: never from a thread that something holding the
    /// interpreter may wait for), else as last read.
    pub fn values(&self, task: &str, subtask: usize, fresh_gauges: bool) -> Vec<(String, Option<f64>)> {
        let mine: Vec<UserMetric> = lock(&self.metrics)
            .iter()
            .filter(|m| m.task == task && m.subtask == subtask)
            .cloned()
            .collect();
        let mut values = Vec::with_capacity(mine.len());
        for m in mine {
            match &m.kind {
                UserMetricKind::Counter(c) => values.push((m.name, Some(c.get() as f64))),
                UserMetricKind::Meter(meter) => {
                    values.push((format!("{}.count", m.name), Some(meter.count() as f64)));
                    values.push((m.name, Some(meter.rate())));
                }
                UserMetricKind::Distribution(d) => {
                    let stats = d.stats();
                    let parts = ["count", "sum", "min", "max", "mean"];
                    for (i, part) in parts.iter().enumerate() {
                        let v = stats.map(|(c, s, lo, hi, mean)| [c as f64, s as f64, lo as f64, hi as f64, mean][i]);
                        values.push((format!("{}.{part}", m.name), v));
                    }
                }
                // Read without the registry's lock: a gauge runs user code.
                UserMetricKind::Gauge(g) => values.push((m.name, g.value(fresh_gauges))),
            }
        }
        values
    }

    pub fn is_empty(&self) -> bool {
        lock(&self.metrics).is_empty()
    }
}

fn kind_name(kind: &UserMetricKind) -> &'static str {
    match kind {
        UserMetricKind::Counter(_) => "counter",
        UserMetricKind::Meter(_) => "meter",
        UserMetricKind::Distribution(_) => "distribution",
        UserMetricKind::Gauge(_) => "gauge",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_kept_per_subtask_and_reused_by_name() {
        let m = UserMetrics::default();
        let counter = |m: &UserMetrics, s| match m.register("T", s, "g.c", || UserMetricKind::Counter(Arc::default())) {
            Ok(UserMetricKind::Counter(c)) => c,
            other => panic!("{other:?}"),
        };
        counter(&m, 0).add(3);
        counter(&m, 0).add(2);
        counter(&m, 1).add(-1);
        assert_eq!(m.values("T", 0, true), vec![("g.c".to_string(), Some(5.0))]);
        assert_eq!(m.values("T", 1, true), vec![("g.c".to_string(), Some(-1.0))]);
        let taken = m.register("T", 0, "g.c", || {
            UserMetricKind::Meter(Arc::new(Meter::new(Duration::from_secs(60))))
        });
        assert_eq!(taken.unwrap_err().kind, "counter");
    }

    #[test]
    fn distributions_gauges_and_meters_report_their_values() {
        let m = UserMetrics::default();
        let Ok(UserMetricKind::Distribution(d)) =
            m.register("T", 0, "d", || UserMetricKind::Distribution(Arc::default()))
        else {
            panic!()
        };
        for v in [4, -2, 10] {
            d.update(v);
        }
        m.register("T", 0, "g", || {
            UserMetricKind::Gauge(Arc::new(Gauge::new(Arc::new(|| Some(1.5)))))
        })
        .unwrap();
        let Ok(UserMetricKind::Meter(meter)) = m.register("T", 0, "m", || {
            UserMetricKind::Meter(Arc::new(Meter::new(Duration::from_secs(60))))
        }) else {
            panic!()
        };
        meter.mark(10);
        // Before the first fresh read, a gauge has no value.
        let cached = m.values("T", 0, false);
        assert!(cached.iter().any(|(k, v)| k == "g" && v.is_none()));
        let values = m.values("T", 0, true);
        let get = |n: &str| values.iter().find(|(k, _)| k == n).and_then(|(_, v)| *v);
        assert_eq!(
            (get("d.count"), get("d.sum"), get("d.min"), get("d.max")),
            (Some(3.0), Some(12.0), Some(-2.0), Some(10.0))
        );
        assert_eq!(get("d.mean"), Some(4.0));
        assert_eq!(get("g"), Some(1.5));
        let cached = m.values("T", 0, false);
        assert!(cached.iter().any(|(k, v)| k == "g" && *v == Some(1.5)));
        assert_eq!(get("m.count"), Some(10.0));
        assert!(get("m").is_some_and(|r| r > 0.0));
    }
}
