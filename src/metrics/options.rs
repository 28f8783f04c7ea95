//! How a job keeps its metrics.

use std::time::Duration;

/// The metrics settings of a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricsOptions {
    /// Whether tasks store their metrics while they run (`ferroflow.metrics.enabled`). Off,
    /// live metrics, rates, latency and the history stay empty; the job's result still counts
    /// what each task did.
    pub enabled: bool,
    /// How often the job's driver samples its tasks for the history and the rates
    /// (`ferroflow.metrics.history-interval`).
    pub history_interval: Duration,
}

impl Default for MetricsOptions {
    fn default() -> Self {
        MetricsOptions {
            enabled: true,
            history_interval: Duration::from_millis(500),
        }
    }
}
