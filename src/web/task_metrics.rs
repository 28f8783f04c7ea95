//! One task's metrics under Flink's names, as the REST API and `/metrics` both list them.

use crate::metrics::task::{JobMetrics, TaskMetricsEntry, TaskMetricsSnapshot};
use crate::web::plan::WebPlan;

/// The metric names a task has, in the order they are listed.
pub const TASK_METRICS: &[&str] = &[
    "numRecordsIn",
    "numRecordsOut",
    "numBytesOut",
    "numBatchesOut",
    "accumulateBusyTimeMs",
    "accumulateBackPressuredTimeMs",
    "currentInputWatermark",
    "currentOutputWatermark",
];

/// The value of metric `name` in `m`; None when the task has none (a watermark before the
/// first one, or an unknown name).
pub fn metric_value(m: &TaskMetricsSnapshot, name: &str) -> Option<f64> {
    let watermark = |w: i64| (w != i64::MIN).then_some(w as f64);
    match name {
        "numRecordsIn" => Some(m.records_in as f64),
        "numRecordsOut" => Some(m.records_out as f64),
        "numBytesOut" => Some(m.bytes_out as f64),
        "numBatchesOut" => Some(m.batches_out as f64),
        "accumulateBusyTimeMs" => Some(m.busy.as_secs_f64() * 1000.0),
        "accumulateBackPressuredTimeMs" => Some(m.back_pressured.as_secs_f64() * 1000.0),
        "currentInputWatermark" => watermark(m.input_watermark),
        "currentOutputWatermark" => watermark(m.output_watermark),
        _ => None,
    }
}

/// The snapshots of each subtask of the `vertex`th task of `plan`, by subtask index.
/// The job's tasks are listed vertex by vertex in plan order, each with its subtasks.
pub fn vertex_snapshots(plan: &WebPlan, metrics: Option<&JobMetrics>, vertex: usize) -> Vec<TaskMetricsSnapshot> {
    let Some(metrics) = metrics else { return Vec::new() };
    let first: usize = plan.vertices[..vertex].iter().map(|v| v.parallelism).sum();
    let Some(v) = plan.vertices.get(vertex) else {
        return Vec::new();
    };
    let mut rows: Vec<&TaskMetricsEntry> = metrics
        .tasks
        .iter()
        .skip(first)
        .take(v.parallelism)
        .filter(|e| e.task_name == v.name)
        .collect();
    if rows.len() != v.parallelism {
        // Not laid out as expected: find the vertex's tasks by name instead.
        rows = metrics.tasks.iter().filter(|e| e.task_name == v.name).collect();
    }
    rows.sort_by_key(|e| e.subtask_index);
    rows.iter().map(|e| e.metrics.snapshot()).collect()
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

    #[test]
    fn values_are_written_as_flink_writes_them() {
        assert_eq!(format_value(12.0), "12");
        assert_eq!(format_value(1.5), "1.5");
        assert_eq!(format_value(-3.0), "-3");
    }

    #[test]
    fn a_watermark_before_the_first_has_no_value() {
        let mut m = TaskMetricsSnapshot {
            input_watermark: i64::MIN,
            records_in: 7,
            ..Default::default()
        };
        assert_eq!(metric_value(&m, "currentInputWatermark"), None);
        assert_eq!(metric_value(&m, "numRecordsIn"), Some(7.0));
        m.input_watermark = 5;
        assert_eq!(metric_value(&m, "currentInputWatermark"), Some(5.0));
        assert_eq!(metric_value(&m, "noSuchMetric"), None);
    }
}
