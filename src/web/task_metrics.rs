//! One task's metrics under Flink's names, as the REST API and `/metrics` both list them.

use crate::metrics::history::{unix_now, TaskView};
use crate::web::plan::WebPlan;

/// The metric names every task has, in the order they are listed (an operator's own counters,
/// such as `numLateRecordsDropped`, and a task's latency come after).
pub const TASK_METRICS: &[&str] = &[
    "numRecordsIn",
    "numRecordsOut",
    "numBytesOut",
    "numBatchesOut",
    "numRecordsInPerSecond",
    "numRecordsOutPerSecond",
    "busyTimeMsPerSecond",
    "idleTimeMsPerSecond",
    "backPressuredTimeMsPerSecond",
    "accumulateBusyTimeMs",
    "accumulateIdleTimeMs",
    "accumulateBackPressuredTimeMs",
    "inPoolUsage",
    "outPoolUsage",
    "currentInputWatermark",
    "currentOutputWatermark",
    "watermarkLagMs",
    "latencyP50Ms",
    "latencyP95Ms",
    "latencyP99Ms",
    "sourceRecordsTotal",
];

/// The names of the metrics `view` has: [`TASK_METRICS`] and its operators' counters.
pub fn metric_names(view: &TaskView) -> Vec<&'static str> {
    let mut names = TASK_METRICS.to_vec();
    names.extend(
        view.counters
            .iter()
            .map(|(name, _)| *name)
            .filter(|n| !TASK_METRICS.contains(n)),
    );
    names
}

/// The value of metric `name` of `view`; None when the task has none (a watermark before the
/// first one, latency without records that carried their origin, an unknown name).
pub fn metric_value(view: &TaskView, name: &str) -> Option<f64> {
    let m = &view.totals;
    let r = &view.rates;
    let watermark = |w: i64| (w != i64::MIN).then_some(w as f64);
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    match name {
        "numRecordsIn" => Some(m.records_in as f64),
        "numRecordsOut" => Some(m.records_out as f64),
        "numBytesOut" => Some(m.bytes_out as f64),
        "numBatchesOut" => Some(m.batches_out as f64),
        "numRecordsInPerSecond" => Some(r.records_in),
        "numRecordsOutPerSecond" => Some(r.records_out),
        "busyTimeMsPerSecond" => Some(r.busy_ms),
        "idleTimeMsPerSecond" => Some(r.idle_ms),
        "backPressuredTimeMsPerSecond" => Some(r.back_pressured_ms),
        "accumulateBusyTimeMs" => Some(ms(m.busy)),
        "accumulateIdleTimeMs" => Some(ms(m.idle)),
        "accumulateBackPressuredTimeMs" => Some(ms(m.back_pressured)),
        "inPoolUsage" => Some(view.in_pool_usage),
        "outPoolUsage" => Some(view.out_pool_usage),
        "currentInputWatermark" => watermark(m.input_watermark),
        "currentOutputWatermark" => watermark(m.output_watermark),
        "watermarkLagMs" => watermark(m.output_watermark)
            .filter(|_| m.output_watermark != i64::MAX)
            .map(|w| unix_now() * 1000.0 - w),
        "latencyP50Ms" => view.latency.map(|p| p.p50),
        "latencyP95Ms" => view.latency.map(|p| p.p95),
        "latencyP99Ms" => view.latency.map(|p| p.p99),
        "sourceRecordsTotal" => view.source_total.map(|t| t as f64),
        other => view.counters.iter().find(|(n, _)| *n == other).map(|(_, v)| *v as f64),
    }
}

/// The views of each subtask of the `vertex`th task of `plan`, by subtask index. The job's
/// tasks are listed vertex by vertex in plan order, each with its subtasks.
pub fn vertex_views<'a>(plan: &WebPlan, tasks: &'a [TaskView], vertex: usize) -> Vec<&'a TaskView> {
    let Some(v) = plan.vertices.get(vertex) else {
        return Vec::new();
    };
    let first: usize = plan.vertices[..vertex].iter().map(|v| v.parallelism).sum();
    let mut rows: Vec<&TaskView> = tasks
        .iter()
        .skip(first)
        .take(v.parallelism)
        .filter(|t| t.task_name == v.name)
        .collect();
    if rows.len() != v.parallelism {
        // Not laid out as expected: find the vertex's tasks by name instead.
        rows = tasks.iter().filter(|t| t.task_name == v.name).collect();
    }
    rows.sort_by_key(|t| t.subtask_index);
    rows
}

/// A value as Flink's REST API writes metric values: a string, integral when it is one.
pub fn format_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::history::Rates;
    use crate::metrics::task::TaskMetricsSnapshot;

    pub fn view(totals: TaskMetricsSnapshot) -> TaskView {
        TaskView {
            task_name: "t".into(),
            subtask_index: 0,
            parallelism: 1,
            totals,
            rates: Rates::default(),
            latency: None,
            in_pool_usage: 0.0,
            out_pool_usage: 0.0,
            source_total: None,
            operators: Vec::new(),
            counters: vec![("numLateRecordsDropped", 4)],
            user: Vec::new(),
        }
    }

    #[test]
    fn values_are_written_as_flink_writes_them() {
        assert_eq!(format_value(12.0), "12");
        assert_eq!(format_value(1.5), "1.5");
        assert_eq!(format_value(-3.0), "-3");
    }

    #[test]
    fn a_missing_value_is_none_and_counters_have_their_names() {
        let mut v = view(TaskMetricsSnapshot {
            input_watermark: i64::MIN,
            output_watermark: i64::MIN,
            records_in: 7,
            ..Default::default()
        });
        assert_eq!(metric_value(&v, "currentInputWatermark"), None);
        assert_eq!(metric_value(&v, "watermarkLagMs"), None);
        assert_eq!(metric_value(&v, "latencyP99Ms"), None);
        assert_eq!(metric_value(&v, "numRecordsIn"), Some(7.0));
        assert_eq!(metric_value(&v, "numLateRecordsDropped"), Some(4.0));
        assert!(metric_names(&v).contains(&"numLateRecordsDropped"));
        assert_eq!(metric_value(&v, "noSuchMetric"), None);
        v.totals.input_watermark = 5;
        assert_eq!(metric_value(&v, "currentInputWatermark"), Some(5.0));
    }
}
