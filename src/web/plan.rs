//! A job's tasks as the dashboard draws them: one vertex per chain (with its operators and
//! parallelism) and the edges between chains (with their partitioning), from the same
//! chaining as `get_execution_plan()`.

use crate::graph::job_graph::JobGraph;
use crate::graph::stream_graph::StreamGraph;
use crate::runtime::record::Data;

/// One task (chain of operators).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebVertex {
    /// 32 hex digits, as Flink's JobVertexID; the same for every run of the same plan.
    pub id: String,
    /// `"A -> B -> C"`, the `task` of the metrics.
    pub name: String,
    pub parallelism: usize,
    pub max_parallelism: usize,
    /// The chained operators, head first.
    pub operators: Vec<String>,
}

/// Records flowing from one task to another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebEdge {
    /// Indexes into [`WebPlan::vertices`].
    pub source: usize,
    pub target: usize,
    /// Flink's name of the partitioning (`FORWARD`, `HASH`, `REBALANCE`, ...).
    pub ship_strategy: &'static str,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebPlan {
    pub vertices: Vec<WebVertex>,
    pub edges: Vec<WebEdge>,
}

impl WebPlan {
    pub fn of<V: Data>(graph: &StreamGraph<V>) -> WebPlan {
        let job = JobGraph::build(graph);
        let vertices = job
            .vertices
            .iter()
            .enumerate()
            .map(|(index, vertex)| WebVertex {
                id: vertex_id(index, &vertex.name),
                name: vertex.name.clone(),
                parallelism: vertex.parallelism,
                max_parallelism: vertex
                    .nodes
                    .iter()
                    .find_map(|&n| graph.nodes[n].max_parallelism)
                    .unwrap_or(graph.config.max_parallelism),
                operators: vertex.nodes.iter().map(|&n| graph.nodes[n].name.clone()).collect(),
            })
            .collect();
        let mut edges: Vec<WebEdge> = Vec::new();
        for node in &graph.nodes {
            let Some(target) = job.vertex_of[node.id] else { continue };
            for input in &node.inputs {
                let Some(source) = job.vertex_of.get(input.source).copied().flatten() else {
                    continue;
                };
                let edge = WebEdge {
                    source,
                    target,
                    ship_strategy: input.partitioning.ship_strategy(),
                };
                if source != target && !edges.contains(&edge) {
                    edges.push(edge);
                }
            }
        }
        WebPlan { vertices, edges }
    }

    pub fn vertex(&self, id: &str) -> Option<(usize, &WebVertex)> {
        self.vertices.iter().enumerate().find(|(_, v)| v.id == id)
    }
}

/// A stable 128-bit id of the `index`th vertex named `name`, as 32 hex digits (FNV-1a, twice).
pub fn vertex_id(index: usize, name: &str) -> String {
    let hash = |basis: u64| {
        let mut h = basis;
        for byte in (index as u64).to_le_bytes().iter().chain(name.as_bytes()) {
            h ^= u64::from(*byte);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    };
    format!(
        "{:016x}{:016x}",
        hash(0xcbf2_9ce4_8422_2325),
        hash(0x6c62_272e_07bb_0142)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vertex_ids_are_32_hex_digits_stable_and_distinct() {
        let a = vertex_id(0, "Source: numbers -> Map");
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a, vertex_id(0, "Source: numbers -> Map"));
        assert_ne!(a, vertex_id(1, "Source: numbers -> Map"));
        assert_ne!(a, vertex_id(0, "Source: numbers"));
    }
}
