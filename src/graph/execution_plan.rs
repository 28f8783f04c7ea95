//! The plan as JSON, in the shape of Flink's `get_execution_plan()`, with the task each node
//! runs in (which shows chaining).

use serde::Serialize;

use crate::graph::job_graph::JobGraph;
use crate::graph::stream_graph::StreamGraph;
use crate::runtime::record::Data;

#[derive(Serialize)]
struct PlanNode {
    id: usize,
    #[serde(rename = "type")]
    kind: String,
    pact: &'static str,
    contents: String,
    parallelism: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<String>,
    /// The task (chain) this node runs in; nodes of one chain share it.
    task: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    predecessors: Vec<Predecessor>,
}

#[derive(Serialize)]
struct Predecessor {
    id: usize,
    ship_strategy: &'static str,
    side: &'static str,
    /// The side output of the predecessor this edge reads (numbered from 1); absent for the
    /// main output.
    #[serde(skip_serializing_if = "is_main_output")]
    side_output: u32,
}

fn is_main_output(port: &u32) -> bool {
    *port == 0
}

#[derive(Serialize)]
struct Plan {
    nodes: Vec<PlanNode>,
}

/// The plan of `graph` as a JSON string.
pub fn execution_plan_json<V: Data>(graph: &StreamGraph<V>) -> String {
    let job = JobGraph::build(graph);
    let nodes = graph
        .nodes
        .iter()
        .map(|node| {
            let task = match job.vertex_of[node.id] {
                Some(v) => job.vertices[v].name.clone(),
                None => "(external)".to_string(),
            };
            PlanNode {
                id: node.id + 1,
                kind: node.name.clone(),
                pact: node.kind.pact(),
                contents: node.name.clone(),
                parallelism: node.parallelism,
                uid: node.uid.clone(),
                task,
                predecessors: node
                    .inputs
                    .iter()
                    .map(|e| Predecessor {
                        id: e.source + 1,
                        ship_strategy: e.partitioning.ship_strategy(),
                        side: "second",
                        side_output: e.port,
                    })
                    .collect(),
            }
        })
        .collect();
    serde_json::to_string_pretty(&Plan { nodes }).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
