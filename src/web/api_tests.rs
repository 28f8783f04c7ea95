use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::*;
use crate::metrics::history::{MetricsHistory, TaskView};
use crate::metrics::task::{JobMetrics, TaskMetrics, TaskMetricsEntry, TaskMetricsSnapshot};
use crate::web::plan::{vertex_id, WebEdge, WebPlan, WebVertex};
use crate::web::registry::{JobView, Registry};

struct Running(Arc<JobMetrics>);

impl JobView for Running {
    fn status(&self) -> &'static str {
        "RUNNING"
    }
    fn tasks(&self) -> Vec<TaskView> {
        MetricsHistory::new(Duration::from_secs(1)).live(0, &self.0, false)
    }
}

const JOB: &str = "0123456789abcdef0123456789abcdef";

/// A job of two tasks: a source chain at parallelism 1, keyed into a sink at parallelism 2.
fn registry() -> (Registry, Vec<Arc<TaskMetrics>>) {
    let vertex = |i: usize, name: &str, parallelism: usize, operators: &[&str]| WebVertex {
        id: vertex_id(i, name),
        name: name.into(),
        parallelism,
        max_parallelism: 128,
        operators: operators.iter().map(|s| s.to_string()).collect(),
    };
    let plan = WebPlan {
        vertices: vec![
            vertex(0, "Source: numbers -> Map", 1, &["Source: numbers", "Map"]),
            vertex(1, "Sink: out", 2, &["Sink: out"]),
        ],
        edges: vec![WebEdge {
            source: 0,
            target: 1,
            ship_strategy: "HASH",
        }],
    };
    let counters: Vec<Arc<TaskMetrics>> = (0..3).map(|_| Arc::new(TaskMetrics::default())).collect();
    let entry = |name: &str, subtask: usize, parallelism: usize, m: &Arc<TaskMetrics>| TaskMetricsEntry {
        task_name: name.into(),
        subtask_index: subtask,
        parallelism,
        metrics: Arc::clone(m),
    };
    let metrics = Arc::new(JobMetrics {
        user: Default::default(),
        tasks: vec![
            entry("Source: numbers -> Map", 0, 1, &counters[0]),
            entry("Sink: out", 0, 2, &counters[1]),
            entry("Sink: out", 1, 2, &counters[2]),
        ],
    });
    for (i, c) in counters.iter().enumerate() {
        c.store(&TaskMetricsSnapshot {
            records_in: 10 * (i as u64 + 1),
            records_out: 10 * (i as u64 + 1),
            busy: Duration::from_millis(100),
            input_watermark: if i == 0 { i64::MIN } else { 1000 + i as i64 },
            output_watermark: i64::MIN,
            ..Default::default()
        });
    }
    let registry = Registry::default();
    registry.register(Arc::new(JobRecord::new(
        JOB.into(),
        "my \"job\"".into(),
        plan,
        Arc::new(Running(metrics)),
        None,
    )));
    (registry, counters)
}

fn get(registry: &Registry, path: &str, query: Option<&str>) -> (u16, Value) {
    let reply = route(registry, path, query);
    assert!(reply.content_type.starts_with("application/json"), "{path}");
    let value = serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{path}: {e}: {}", reply.body));
    (reply.status, value)
}

fn sink_id() -> String {
    vertex_id(1, "Sink: out")
}

#[test]
fn lists_jobs_in_flinks_shapes() {
    let (r, _) = registry();
    let (status, jobs) = get(&r, "/jobs", None);
    assert_eq!(status, 200);
    assert_eq!(jobs["jobs"][0]["id"], JOB);
    assert_eq!(jobs["jobs"][0]["status"], "RUNNING");
    let (_, overview) = get(&r, "/jobs/overview", None);
    let job = &overview["jobs"][0];
    assert_eq!(job["jid"], JOB);
    assert_eq!(job["name"], "my \"job\"");
    assert_eq!(job["state"], "RUNNING");
    assert_eq!(job["end-time"], -1);
    assert_eq!(job["tasks"]["total"], 3);
    assert_eq!(job["tasks"]["running"], 3);
    let (_, o) = get(&r, "/overview", None);
    assert_eq!(o["jobs-running"], 1);
    assert_eq!(o["jobs-finished"], 0);
    let (_, c) = get(&r, "/config", None);
    assert!(c["flink-version"].as_str().is_some_and(|v| v.starts_with("ferroflow")));
}

#[test]
fn a_job_has_its_vertices_metrics_and_plan() {
    let (r, _) = registry();
    let (status, job) = get(&r, &format!("/jobs/{JOB}"), None);
    assert_eq!(status, 200);
    assert_eq!(job["state"], "RUNNING");
    let vertices = job["vertices"].as_array().expect("vertices");
    assert_eq!(vertices.len(), 2);
    assert_eq!(vertices[1]["id"], sink_id());
    assert_eq!(vertices[1]["parallelism"], 2);
    assert_eq!(vertices[1]["metrics"]["read-records"], 50);
    assert_eq!(vertices[0]["operators"][1], "Map");
    let nodes = job["plan"]["nodes"].as_array().expect("plan nodes");
    assert_eq!(nodes[1]["inputs"][0]["id"], vertices[0]["id"]);
    assert_eq!(nodes[1]["inputs"][0]["ship_strategy"], "HASH");
    let (_, v) = get(&r, &format!("/jobs/{JOB}/vertices/{}", sink_id()), None);
    assert_eq!(v["subtasks"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["subtasks"][1]["metrics"]["write-records"], 30);
}

#[test]
fn vertex_metrics_list_their_ids_and_give_values_as_strings() {
    let (r, counters) = registry();
    let path = format!("/jobs/{JOB}/vertices/{}/metrics", sink_id());
    let (_, ids) = get(&r, &path, None);
    let ids: Vec<&str> = ids
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"0.numRecordsIn") && ids.contains(&"1.currentInputWatermark"),
        "{ids:?}"
    );
    let (_, values) = get(
        &r,
        &path,
        Some("get=1.numRecordsIn%2C0.numRecordsOut,9.numRecordsIn,0.nope"),
    );
    assert_eq!(
        values,
        serde_json::json!([{"id": "1.numRecordsIn", "value": "30"}, {"id": "0.numRecordsOut", "value": "20"}])
    );
    // Live: a later read sees what the task stored since.
    counters[2].set_records_in(31);
    let (_, values) = get(&r, &path, Some("get=1.numRecordsIn"));
    assert_eq!(values[0]["value"], "31");
}

#[test]
fn subtask_metrics_are_aggregated() {
    let (r, _) = registry();
    let path = format!("/jobs/{JOB}/vertices/{}/subtasks/metrics", sink_id());
    let (_, names) = get(&r, &path, None);
    assert!(names
        .as_array()
        .expect("list")
        .iter()
        .any(|m| m["id"] == "numRecordsOut"));
    let (_, all) = get(&r, &path, Some("get=numRecordsIn"));
    assert_eq!(all[0]["min"], 20.0);
    assert_eq!(all[0]["max"], 30.0);
    assert_eq!(all[0]["sum"], 50.0);
    assert_eq!(all[0]["avg"], 25.0);
    assert_eq!(all[0]["skew"], 20.0);
    let (_, some) = get(&r, &path, Some("get=numRecordsIn,currentInputWatermark&agg=min,max"));
    assert_eq!(
        some,
        serde_json::json!([
            {"id": "numRecordsIn", "min": 20.0, "max": 30.0},
            {"id": "currentInputWatermark", "min": 1001.0, "max": 1002.0}
        ])
    );
    // The source has no watermark yet: nothing to aggregate.
    let source = format!(
        "/jobs/{JOB}/vertices/{}/subtasks/metrics",
        vertex_id(0, "Source: numbers -> Map")
    );
    let (_, none) = get(&r, &source, Some("get=currentInputWatermark"));
    assert_eq!(none, serde_json::json!([]));
}

#[test]
fn checkpoints_of_a_job_without_them_are_empty_counts() {
    let (r, _) = registry();
    let (status, c) = get(&r, &format!("/jobs/{JOB}/checkpoints"), None);
    assert_eq!(status, 200);
    assert_eq!(c["counts"]["completed"], 0);
    assert_eq!(c["history"], serde_json::json!([]));
    assert_eq!(c["latest"]["completed"], Value::Null);
}

#[test]
fn unknown_jobs_vertices_and_paths_are_404_with_flinks_errors_body() {
    let (r, _) = registry();
    for path in [
        "/jobs/ffffffffffffffffffffffffffffffff".to_string(),
        format!("/jobs/{JOB}/vertices/abc"),
        format!("/jobs/{JOB}/vertices/abc/metrics"),
        format!("/jobs/{JOB}/nothing"),
        "/nothing".to_string(),
    ] {
        let (status, body) = get(&r, &path, None);
        assert_eq!(status, 404, "{path}");
        assert!(
            body["errors"][0].as_str().is_some_and(|m| !m.is_empty()),
            "{path}: {body}"
        );
    }
    let (_, body) = get(&r, "/jobs/ffffffffffffffffffffffffffffffff", None);
    assert_eq!(body["errors"][0], "Job ffffffffffffffffffffffffffffffff not found");
}

#[test]
fn the_dashboard_and_prometheus_text_are_served() {
    let (r, _) = registry();
    let page = route(&r, "/", None);
    assert_eq!(page.status, 200);
    assert!(page.content_type.starts_with("text/html"));
    assert!(page.body.contains("<html"));
    let text = route(&r, "/metrics", None);
    assert!(text.content_type.starts_with("text/plain; version=0.0.4"));
    let body = text.body;
    assert!(
        body.contains("# HELP flink_taskmanager_job_task_numRecordsIn numRecordsIn (scope: taskmanager_job_task)\n")
    );
    assert!(body.contains("# TYPE flink_taskmanager_job_task_numRecordsIn gauge\n"));
    let line = format!(
        "flink_taskmanager_job_task_numRecordsIn{{job_id=\"{JOB}\",job_name=\"my \\\"job\\\"\",task_id=\"{}\",\
         task_name=\"Sink: out\",subtask_index=\"1\",task_attempt_num=\"0\"}} 30\n",
        sink_id()
    );
    assert!(body.contains(&line), "{body}");
    // A watermark before the first is left out, not written as a number.
    assert_eq!(
        body.matches("flink_taskmanager_job_task_currentOutputWatermark")
            .count(),
        0
    );
    assert_eq!(
        body.matches("flink_taskmanager_job_task_currentInputWatermark{")
            .count(),
        2,
        "{body}"
    );
}

#[test]
fn query_values_are_percent_decoded() {
    assert_eq!(percent_decode("a%2Cb+c%zz%4"), "a,b c%zz%4");
    assert_eq!(percent_decode("%C3%A9"), "é");
}
