//! The dashboard and REST API of running jobs: an HTTP server in the job's process, started by
//! the `rest.port` configuration key and off by default.
//!
//! - `registry.rs`: the jobs the server shows ([`registry::JobRecord`]), read, never locked by
//!   the jobs' own threads for longer than a status update.
//! - `plan.rs`: a job's tasks (chains of operators) and the edges between them, with stable ids.
//! - `task_metrics.rs`: one task's metrics under Flink's names, shared by the API and Prometheus.
//! - `api.rs`: routing and the JSON bodies, in the shape of Flink's REST API.
//! - `prometheus.rs`: `/metrics` in Prometheus' text format, named as Flink's reporter names them.
//! - `server.rs`: one server per address and port in a process, on a thread of its own running
//!   a current-thread tokio runtime with hyper; it stops when the last job using it lets go.
//! - `dashboard.html`: the page at `/`, embedded in the binary.

pub mod api;
pub mod plan;
pub mod prometheus;
pub mod registry;
pub mod server;
pub mod task_metrics;
