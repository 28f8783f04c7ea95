//! Routing and the JSON bodies of the REST API, with Flink's paths, field names and shapes for
//! what ferroflow has. Pure functions of the registry: the server only moves bytes.

use serde_json::{json, Value};

use crate::checkpoint::coordinator::CheckpointHistory;
use crate::metrics::history::TaskView;
use crate::runtime::lock::lock;
use crate::time::clock::Clock;
use crate::web::plan::WebVertex;
use crate::web::prometheus::prometheus_text;
use crate::web::registry::{JobRecord, Registry};
use crate::web::task_metrics::{format_value, metric_names, metric_value, vertex_views, TASK_METRICS};

/// The dashboard page, embedded in the binary.
pub const DASHBOARD: &str = include_str!("dashboard.html");

/// Completed checkpoints listed in `/jobs/<id>/checkpoints` (Flink's `web.checkpoints.history`).
const CHECKPOINT_HISTORY: usize = 10;

const VERSION: &str = concat!("ferroflow ", env!("CARGO_PKG_VERSION"));

/// An answer: status code, content type and body.
#[derive(Debug, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Reply {
    fn json(value: &Value) -> Reply {
        Reply {
            status: 200,
            content_type: "application/json; charset=UTF-8",
            body: value.to_string(),
        }
    }

    /// Flink's error body: `{"errors": [...]}`.
    fn not_found(message: String) -> Reply {
        Reply {
            status: 404,
            content_type: "application/json; charset=UTF-8",
            body: json!({ "errors": [message] }).to_string(),
        }
    }
}

/// The answer to `GET path?query`.
pub fn route(registry: &Registry, path: &str, query: Option<&str>) -> Reply {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let params = Params::parse(query.unwrap_or(""));
    match parts.as_slice() {
        [] | ["index.html"] => Reply {
            status: 200,
            content_type: "text/html; charset=UTF-8",
            body: DASHBOARD.to_string(),
        },
        ["metrics"] => Reply {
            status: 200,
            content_type: "text/plain; version=0.0.4; charset=utf-8",
            body: prometheus_text(&registry.jobs()),
        },
        ["overview"] => Reply::json(&overview(registry)),
        ["config"] => Reply::json(&config()),
        ["jobs"] => Reply::json(&json!({
            "jobs": registry.jobs().iter().map(|j| json!({"id": j.id, "status": j.view.status()})).collect::<Vec<_>>()
        })),
        ["jobs", "overview"] => Reply::json(&json!({
            "jobs": registry.jobs().iter().rev().map(|j| job_overview(j)).collect::<Vec<_>>()
        })),
        ["jobs", id, rest @ ..] => match registry.job(id) {
            None => Reply::not_found(format!("Job {id} not found")),
            Some(job) => job_route(&job, rest, &params),
        },
        _ => Reply::not_found(format!("Not found: {path}")),
    }
}

fn job_route(job: &JobRecord, rest: &[&str], params: &Params) -> Reply {
    match rest {
        [] => Reply::json(&job_details(job)),
        ["plan"] => Reply::json(&json!({ "plan": plan(job) })),
        ["checkpoints"] => Reply::json(&checkpoints(job)),
        ["vertices", vid, rest @ ..] => {
            let Some((index, vertex)) = job.plan.vertex(vid) else {
                return Reply::not_found(format!("Vertex {vid} not found in job {}", job.id));
            };
            let tasks = job.view.tasks();
            let subtasks = vertex_views(&job.plan, &tasks, index);
            match rest {
                [] => Reply::json(&vertex_details(job, vertex, &subtasks)),
                ["metrics"] => Reply::json(&vertex_metrics(&subtasks, params.list("get"))),
                ["watermarks"] => Reply::json(&vertex_metrics(
                    &subtasks,
                    Some(vec!["currentInputWatermark".to_string()]),
                )),
                ["subtasks", "metrics"] => {
                    Reply::json(&aggregated_metrics(&subtasks, params.list("get"), params.list("agg")))
                }
                _ => Reply::not_found(format!("Not found: vertex path /{}", rest.join("/"))),
            }
        }
        _ => Reply::not_found(format!("Not found: job path /{}", rest.join("/"))),
    }
}

/// The query's parameters (`get=a,b&agg=min`), percent-decoded.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(query: &str) -> Params {
        Params(
            query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (percent_decode(k), percent_decode(v))
                })
                .collect(),
        )
    }

    /// The comma-separated values of `key` (over all its occurrences); None when absent.
    fn list(&self, key: &str) -> Option<Vec<String>> {
        let values: Vec<&String> = self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v).collect();
        if values.is_empty() {
            return None;
        }
        Some(
            values
                .iter()
                .flat_map(|v| v.split(','))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        )
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            bytes.get(i + 1).and_then(|&b| hex(b)),
            bytes.get(i + 2).and_then(|&b| hex(b)),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_running(status: &str) -> bool {
    !matches!(status, "FINISHED" | "FAILED" | "CANCELED")
}

fn overview(registry: &Registry) -> Value {
    let jobs = registry.jobs();
    let count = |f: &dyn Fn(&str) -> bool| jobs.iter().filter(|j| f(j.view.status())).count();
    let slots: usize = jobs
        .iter()
        .filter(|j| is_running(j.view.status()))
        .map(|j| j.plan.vertices.iter().map(|v| v.parallelism).max().unwrap_or(0))
        .sum();
    json!({
        "taskmanagers": 1,
        "slots-total": slots,
        "slots-available": 0,
        "jobs-running": count(&is_running),
        "jobs-finished": count(&|s| s == "FINISHED"),
        "jobs-cancelled": count(&|s| s == "CANCELED"),
        "jobs-failed": count(&|s| s == "FAILED"),
        "flink-version": VERSION,
        "flink-commit": "",
    })
}

fn config() -> Value {
    json!({
        "refresh-interval": 1000,
        "timezone-name": "Coordinated Universal Time",
        "timezone-offset": 0,
        "flink-version": VERSION,
        "flink-revision": "",
        "features": { "web-submit": false, "web-cancel": false, "web-rescale": false, "web-history": false },
    })
}

/// The state of every task of a job in `status`, as Flink names task states.
fn task_state(status: &str) -> &'static str {
    match status {
        "FINISHED" => "FINISHED",
        "FAILED" => "FAILED",
        "CANCELED" => "CANCELED",
        "CANCELLING" => "CANCELING",
        "RESTARTING" => "DEPLOYING",
        _ => "RUNNING",
    }
}

/// Flink's task counts (`tasks`, `status-counts`): all `n` tasks in the state of `status`.
fn task_counts(status: &str, n: usize) -> Value {
    let mut counts = json!({
        "CREATED": 0, "SCHEDULED": 0, "DEPLOYING": 0, "RUNNING": 0, "FINISHED": 0,
        "CANCELING": 0, "CANCELED": 0, "FAILED": 0, "RECONCILING": 0, "INITIALIZING": 0,
    });
    counts[task_state(status)] = json!(n);
    counts
}

fn job_overview(job: &JobRecord) -> Value {
    let status = job.view.status();
    let now = Clock::System.now();
    let tasks: usize = job.plan.vertices.iter().map(|v| v.parallelism).sum();
    let lower = |v: Value| {
        let Value::Object(map) = v else { return v };
        Value::Object(map.into_iter().map(|(k, v)| (k.to_lowercase(), v)).collect())
    };
    let mut tasks_json = lower(task_counts(status, tasks));
    tasks_json["total"] = json!(tasks);
    json!({
        "jid": job.id,
        "name": job.name,
        "state": status,
        "start-time": job.start_time,
        "end-time": job.end_time(),
        "duration": job.duration(now),
        "last-modification": if job.is_ended() { job.end_time() } else { job.start_time },
        "tasks": tasks_json,
    })
}

/// A task's totals over its subtasks, with the keys of Flink's vertex `metrics`.
fn vertex_totals(subtasks: &[&TaskView]) -> Value {
    let sum = |f: &dyn Fn(&TaskView) -> f64| subtasks.iter().map(|v| f(v)).sum::<f64>();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    json!({
        "read-bytes": 0,
        "read-bytes-complete": true,
        "write-bytes": sum(&|m| m.totals.bytes_out as f64) as u64,
        "write-bytes-complete": true,
        "read-records": sum(&|m| m.totals.records_in as f64) as u64,
        "read-records-complete": true,
        "write-records": sum(&|m| m.totals.records_out as f64) as u64,
        "write-records-complete": true,
        "accumulated-backpressured-time": sum(&|m| ms(m.totals.back_pressured)) as u64,
        "accumulated-idle-time": sum(&|m| ms(m.totals.idle)) as u64,
        "accumulated-busy-time": sum(&|m| ms(m.totals.busy)),
    })
}

fn plan(job: &JobRecord) -> Value {
    let nodes: Vec<Value> = job
        .plan
        .vertices
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let inputs: Vec<Value> = job
                .plan
                .edges
                .iter()
                .filter(|e| e.target == i)
                .enumerate()
                .map(|(num, e)| {
                    json!({
                        "num": num,
                        "id": job.plan.vertices[e.source].id,
                        "ship_strategy": e.ship_strategy,
                        "exchange": "pipelined_bounded",
                    })
                })
                .collect();
            json!({
                "id": v.id,
                "parallelism": v.parallelism,
                "operator": "",
                "operator_strategy": "",
                "description": v.operators.join("<br/>"),
                "operators": v.operators,
                "inputs": inputs,
                "optimizer_properties": {},
            })
        })
        .collect();
    json!({ "jid": job.id, "name": job.name, "type": "STREAMING", "nodes": nodes })
}

fn job_details(job: &JobRecord) -> Value {
    let status = job.view.status();
    let now = Clock::System.now();
    let tasks = job.view.tasks();
    let vertices: Vec<Value> = job
        .plan
        .vertices
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let subtasks = vertex_views(&job.plan, &tasks, i);
            json!({
                "id": v.id,
                "name": v.name,
                "maxParallelism": v.max_parallelism,
                "parallelism": v.parallelism,
                "status": task_state(status),
                "start-time": job.start_time,
                "end-time": job.end_time(),
                "duration": job.duration(now),
                "tasks": task_counts(status, v.parallelism),
                "metrics": vertex_totals(&subtasks),
                "operators": v.operators,
            })
        })
        .collect();
    let tasks: usize = job.plan.vertices.iter().map(|v| v.parallelism).sum();
    let mut timestamps = json!({ "CREATED": job.start_time, "RUNNING": job.start_time });
    if job.is_ended() {
        timestamps[status] = json!(job.end_time());
    }
    json!({
        "jid": job.id,
        "name": job.name,
        "isStoppable": false,
        "state": status,
        "job-type": "STREAMING",
        "start-time": job.start_time,
        "end-time": job.end_time(),
        "duration": job.duration(now),
        "maxParallelism": -1,
        "now": now,
        "timestamps": timestamps,
        "vertices": vertices,
        "status-counts": task_counts(status, tasks),
        "plan": plan(job),
    })
}

fn vertex_details(job: &JobRecord, vertex: &WebVertex, subtasks: &[&TaskView]) -> Value {
    let status = job.view.status();
    let now = Clock::System.now();
    let rows: Vec<Value> = subtasks
        .iter()
        .enumerate()
        .map(|(i, m)| {
            json!({
                "subtask": i,
                "status": task_state(status),
                "attempt": 0,
                "endpoint": "localhost",
                "start-time": job.start_time,
                "end-time": job.end_time(),
                "duration": job.duration(now),
                "metrics": vertex_totals(&[*m]),
            })
        })
        .collect();
    json!({
        "id": vertex.id,
        "name": vertex.name,
        "parallelism": vertex.parallelism,
        "maxParallelism": vertex.max_parallelism,
        "now": now,
        "subtasks": rows,
    })
}

/// `/vertices/<vid>/metrics`: ids `<subtask>.<name>`; with `get`, their values (as strings).
fn vertex_metrics(subtasks: &[&TaskView], get: Option<Vec<String>>) -> Value {
    let mut out = Vec::new();
    match get {
        None => {
            for (i, view) in subtasks.iter().enumerate() {
                for name in metric_names(view) {
                    out.push(json!({ "id": format!("{i}.{name}") }));
                }
            }
        }
        Some(ids) => {
            for id in ids {
                let Some((subtask, name)) = id.split_once('.') else {
                    continue;
                };
                let Some(m) = subtask.parse::<usize>().ok().and_then(|s| subtasks.get(s)) else {
                    continue;
                };
                if let Some(v) = metric_value(m, name) {
                    out.push(json!({ "id": id, "value": format_value(v) }));
                }
            }
        }
    }
    Value::Array(out)
}

/// `/vertices/<vid>/subtasks/metrics`: names; with `get`, each one's `min`, `max`, `avg`,
/// `sum` and `skew` over the subtasks (or those `agg` names).
fn aggregated_metrics(subtasks: &[&TaskView], get: Option<Vec<String>>, agg: Option<Vec<String>>) -> Value {
    let Some(names) = get else {
        let names = subtasks
            .first()
            .map_or_else(|| TASK_METRICS.to_vec(), |v| metric_names(v));
        return Value::Array(names.iter().map(|n| json!({ "id": n })).collect());
    };
    let aggs: Vec<String> = agg
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| ["min", "max", "avg", "sum", "skew"].map(String::from).to_vec());
    let mut out = Vec::new();
    for name in names {
        let values: Vec<f64> = subtasks.iter().filter_map(|m| metric_value(m, &name)).collect();
        if values.is_empty() {
            continue;
        }
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = values.iter().sum();
        let avg = sum / values.len() as f64;
        let mut row = json!({ "id": name });
        for a in &aggs {
            let v = match a.as_str() {
                "min" => min,
                "max" => max,
                "sum" => sum,
                "avg" => avg,
                // Flink's skew: how far the largest value is above the average, in percent.
                "skew" if avg > 0.0 => (max - avg) / avg * 100.0,
                "skew" => 0.0,
                _ => continue,
            };
            row[a.as_str()] = json!(v);
        }
        out.push(row);
    }
    Value::Array(out)
}

fn stats(values: &[f64]) -> Value {
    if values.is_empty() {
        return json!({ "min": 0, "max": 0, "avg": 0 });
    }
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let avg = values.iter().sum::<f64>() / values.len() as f64;
    json!({ "min": min as i64, "max": max as i64, "avg": avg.round() as i64 })
}

fn checkpoints(job: &JobRecord) -> Value {
    let empty = CheckpointHistory::default();
    let guard = job.checkpoints.as_ref().map(|h| lock(h));
    let history = guard.as_deref().unwrap_or(&empty);
    let ms = |d: std::time::Duration| (d.as_secs_f64() * 1000.0).round() as i64;
    let entry = |c: &crate::checkpoint::coordinator::CompletedCheckpoint| {
        let path = c.directory.to_string_lossy().into_owned();
        json!({
            "className": ".CompletedCheckpointStatistics",
            "id": c.id,
            "status": "COMPLETED",
            "is_savepoint": false,
            "savepointFormat": null,
            "trigger_timestamp": c.timestamp,
            "latest_ack_timestamp": c.timestamp + ms(c.duration),
            "state_size": c.bytes,
            "checkpointed_size": c.new_bytes,
            "end_to_end_duration": ms(c.duration),
            "alignment_buffered": 0,
            "processed_data": 0,
            "persisted_data": 0,
            "num_subtasks": job.plan.vertices.iter().map(|v| v.parallelism).sum::<usize>(),
            "num_acknowledged_subtasks": job.plan.vertices.iter().map(|v| v.parallelism).sum::<usize>(),
            "checkpoint_type": "CHECKPOINT",
            "external_path": if path.is_empty() { Value::Null } else { json!(path) },
            "discarded": path.is_empty(),
            "alignment_duration": ms(c.alignment),
        })
    };
    let completed = &history.completed;
    let f = |g: &dyn Fn(&crate::checkpoint::coordinator::CompletedCheckpoint) -> f64| {
        completed.iter().map(g).collect::<Vec<f64>>()
    };
    json!({
        "counts": {
            "restored": 0,
            "total": completed.len() as u64 + history.failed,
            "in_progress": 0,
            "completed": completed.len(),
            "failed": history.failed,
        },
        "summary": {
            "state_size": stats(&f(&|c| c.bytes as f64)),
            "checkpointed_size": stats(&f(&|c| c.new_bytes as f64)),
            "end_to_end_duration": stats(&f(&|c| c.duration.as_secs_f64() * 1000.0)),
            "alignment_buffered": stats(&[]),
            "processed_data": stats(&[]),
            "persisted_data": stats(&[]),
        },
        "latest": {
            "completed": completed.last().map(entry),
            "savepoint": null,
            "failed": history.last_failure.as_ref().map(|reason| json!({ "status": "FAILED", "failure_message": reason })),
            "restored": null,
        },
        "history": completed.iter().rev().take(CHECKPOINT_HISTORY).map(entry).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
#[path = "api_tests.rs"]
mod tests;
