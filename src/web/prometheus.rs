//! `/metrics`: every task's metrics in Prometheus' text exposition format (version 0.0.4), named
//! and labelled as Flink's Prometheus reporter does (`flink_taskmanager_job_task_<metric>`, all
//! of them gauges, with `job_id`, `job_name`, `task_id`, `task_name`, `subtask_index`).

use std::fmt::Write;
use std::sync::Arc;

use crate::web::registry::JobRecord;
use crate::web::task_metrics::{metric_names, metric_value, vertex_views};

const SCOPE: &str = "taskmanager_job_task";

/// The text for the jobs `jobs`.
pub fn prometheus_text(jobs: &[Arc<JobRecord>]) -> String {
    // The snapshots are read once, so that every metric of one subtask is of the same moment.
    let mut series = Vec::new();
    for job in jobs {
        let tasks = job.view.tasks();
        for (v, vertex) in job.plan.vertices.iter().enumerate() {
            for (subtask, view) in vertex_views(&job.plan, &tasks, v).into_iter().enumerate() {
                let labels = format!(
                    "job_id=\"{}\",job_name=\"{}\",task_id=\"{}\",task_name=\"{}\",subtask_index=\"{}\",task_attempt_num=\"0\"",
                    escape(&job.id),
                    escape(&job.name),
                    escape(&vertex.id),
                    escape(&vertex.name),
                    subtask
                );
                series.push((labels, view.clone()));
            }
        }
    }
    let mut names: Vec<&'static str> = Vec::new();
    for (_, view) in &series {
        for name in metric_names(view) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    let mut out = String::new();
    for name in names {
        let values: Vec<(&String, f64)> = series
            .iter()
            .filter_map(|(labels, m)| metric_value(m, name).map(|v| (labels, v)))
            .collect();
        if values.is_empty() {
            continue;
        }
        let metric = format!("flink_{SCOPE}_{name}");
        let _ = writeln!(out, "# HELP {metric} {name} (scope: {SCOPE})");
        let _ = writeln!(out, "# TYPE {metric} gauge");
        for (labels, value) in values {
            let _ = writeln!(out, "{metric}{{{labels}}} {}", number(value));
        }
    }
    out
}

/// A label value with `\`, `"` and newlines escaped, as the format requires.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        crate::web::task_metrics::format_value(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn numbers_follow_the_text_format() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NAN), "NaN");
    }
}
