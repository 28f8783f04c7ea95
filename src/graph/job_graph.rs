//! Operator chaining: which nodes of the logical plan share a task.
//!
//! A node joins its predecessor's chain when: chaining is enabled; the node has one input and
//! the predecessor one consumer, on its main output; both have the same parallelism; the edge is
//! forward, or both sides have parallelism 1 (then any exchange but a custom partitioner sends
//! everything to the one subtask anyway, so fusing changes nothing but the cost); and neither
//! side opted out (`start_new_chain()`, `disable_chaining()`).

use crate::graph::stream_graph::{Chaining, NodeId, NodeKind, StreamGraph};
use crate::runtime::partitioner::Partitioning;
use crate::runtime::record::Data;

/// One task's worth of nodes: a chain, run by `parallelism` subtasks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobVertex {
    pub nodes: Vec<NodeId>,
    pub parallelism: usize,
    pub name: String,
}

/// The chains of a plan, and where each node landed.
#[derive(Clone, Debug)]
pub struct JobGraph {
    pub vertices: Vec<JobVertex>,
    /// For each node, its vertex; `None` for external outputs, which belong to no task.
    pub vertex_of: Vec<Option<usize>>,
}

impl JobGraph {
    pub fn build<V: Data>(graph: &StreamGraph<V>) -> JobGraph {
        let consumers = graph.consumers();
        let mut vertices: Vec<JobVertex> = Vec::new();
        let mut vertex_of: Vec<Option<usize>> = vec![None; graph.nodes.len()];
        for node in &graph.nodes {
            if matches!(node.kind, NodeKind::External) {
                continue;
            }
            let chained_to = if can_chain_to_input(graph, &consumers, node.id) {
                vertex_of[node.inputs[0].source]
            } else {
                None
            };
            match chained_to {
                Some(v) => {
                    let vertex = &mut vertices[v];
                    vertex.nodes.push(node.id);
                    vertex.name.push_str(" -> ");
                    vertex.name.push_str(&node.name);
                    vertex_of[node.id] = Some(v);
                }
                None => {
                    vertex_of[node.id] = Some(vertices.len());
                    vertices.push(JobVertex {
                        nodes: vec![node.id],
                        parallelism: node.parallelism,
                        name: node.name.clone(),
                    });
                }
            }
        }
        JobGraph { vertices, vertex_of }
    }
}

fn can_chain_to_input<V: Data>(graph: &StreamGraph<V>, consumers: &[Vec<(NodeId, usize)>], id: NodeId) -> bool {
    let node = &graph.nodes[id];
    if !graph.config.chaining_enabled || node.chaining != Chaining::Always || node.inputs.len() != 1 {
        return false;
    }
    if !matches!(node.kind, NodeKind::Operator(_) | NodeKind::Sink(_)) {
        return false;
    }
    let edge = &node.inputs[0];
    let upstream = &graph.nodes[edge.source];
    if upstream.chaining == Chaining::Never || edge.port != 0 || consumers[upstream.id].len() != 1 {
        return false;
    }
    if upstream.parallelism != node.parallelism {
        return false;
    }
    match edge.partitioning {
        Partitioning::Forward => true,
        Partitioning::Custom(_) => false,
        _ => node.parallelism == 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::stream_graph::{JobConfig, StreamEdge, MAX_CHANNELS};
    use crate::runtime::operator::{Operator, OperatorResult, Output, Source, SourceStatus};
    use crate::runtime::output::FlushPolicy;
    use crate::runtime::record::Record;
    use std::time::Duration;

    struct Nothing;
    impl Operator<i64> for Nothing {
        fn process_batch(&mut self, _: usize, b: &mut Vec<Record<i64>>, _: &mut Output<i64>) -> OperatorResult {
            b.clear();
            Ok(())
        }
    }
    struct Empty;
    impl Source<i64> for Empty {
        fn poll_batch(&mut self, _: usize, _: std::time::Instant, _: &mut Output<i64>) -> OperatorResult<SourceStatus> {
            Ok(SourceStatus::Exhausted)
        }
    }

    fn config(chaining_enabled: bool) -> JobConfig {
        JobConfig {
            name: "test".into(),
            max_parallelism: 128,
            chaining_enabled,
            flush: FlushPolicy {
                batch_size: 16,
                buffer_timeout: Duration::from_millis(10),
                batch_bytes: usize::MAX,
            },
            channel_capacity: 4,
            clock: crate::time::clock::Clock::System,
            cancellation_timeout: None,
            metrics: Default::default(),
        }
    }

    fn op() -> NodeKind<i64> {
        NodeKind::Operator(Box::new(|_| Ok(Box::new(Nothing) as Box<dyn Operator<i64>>)))
    }

    fn source() -> NodeKind<i64> {
        NodeKind::Source(Box::new(|_| Ok(Box::new(Empty) as Box<dyn Source<i64>>)))
    }

    fn edge(source: NodeId, partitioning: Partitioning<i64>) -> Vec<StreamEdge<i64>> {
        vec![StreamEdge {
            source,
            port: 0,
            input: 0,
            partitioning,
        }]
    }

    fn chains(g: &StreamGraph<i64>) -> Vec<Vec<NodeId>> {
        JobGraph::build(g).vertices.into_iter().map(|v| v.nodes).collect()
    }

    #[test]
    fn forward_edges_with_equal_parallelism_chain() {
        let mut g = StreamGraph::new(config(true));
        let s = g.add_node("Source", 2, source(), vec![]).unwrap();
        let a = g.add_node("Map", 2, op(), edge(s, Partitioning::Forward)).unwrap();
        let b = g.add_node("Filter", 2, op(), edge(a, Partitioning::Forward)).unwrap();
        let c = g.add_node("Keyed", 2, op(), edge(b, Partitioning::Keyed)).unwrap();
        let d = g.add_node("Map2", 2, op(), edge(c, Partitioning::Forward)).unwrap();
        assert_eq!(chains(&g), vec![vec![s, a, b], vec![c, d]]);
        let jg = JobGraph::build(&g);
        assert_eq!(jg.vertices[0].name, "Source -> Map -> Filter");
    }

    #[test]
    fn parallelism_one_chains_across_exchanges_but_not_custom_ones() {
        let mut g = StreamGraph::new(config(true));
        let s = g.add_node("Source", 1, source(), vec![]).unwrap();
        let a = g.add_node("KeyBy", 1, op(), edge(s, Partitioning::Forward)).unwrap();
        let b = g.add_node("Reduce", 1, op(), edge(a, Partitioning::Keyed)).unwrap();
        let c = g
            .add_node("Rebalanced", 1, op(), edge(b, Partitioning::Rebalance))
            .unwrap();
        let factory: crate::runtime::partitioner::PartitionerFactory<i64> = std::sync::Arc::new(|_| unreachable!());
        let d = g
            .add_node("Custom", 1, op(), edge(c, Partitioning::Custom(factory)))
            .unwrap();
        assert_eq!(chains(&g), vec![vec![s, a, b, c], vec![d]]);
    }

    #[test]
    fn parallelism_changes_and_fan_out_break_chains() {
        let mut g = StreamGraph::new(config(true));
        let s = g.add_node("Source", 1, source(), vec![]).unwrap();
        let a = g.add_node("A", 2, op(), edge(s, Partitioning::Rebalance)).unwrap();
        let b = g.add_node("B", 2, op(), edge(a, Partitioning::Forward)).unwrap();
        let c = g.add_node("C", 2, op(), edge(a, Partitioning::Forward)).unwrap();
        assert_eq!(chains(&g), vec![vec![s], vec![a], vec![b], vec![c]]);
    }

    #[test]
    fn chaining_can_be_switched_off() {
        let mut g = StreamGraph::new(config(false));
        let s = g.add_node("Source", 1, source(), vec![]).unwrap();
        let a = g.add_node("A", 1, op(), edge(s, Partitioning::Forward)).unwrap();
        assert_eq!(chains(&g), vec![vec![s], vec![a]]);

        let mut g = StreamGraph::new(config(true));
        let s = g.add_node("Source", 1, source(), vec![]).unwrap();
        let a = g.add_node("A", 1, op(), edge(s, Partitioning::Forward)).unwrap();
        let b = g.add_node("B", 1, op(), edge(a, Partitioning::Forward)).unwrap();
        let c = g.add_node("C", 1, op(), edge(b, Partitioning::Forward)).unwrap();
        let d = g.add_node("D", 1, op(), edge(c, Partitioning::Forward)).unwrap();
        g.node_mut(b).chaining = Chaining::Head;
        g.node_mut(d).chaining = Chaining::Never;
        assert_eq!(chains(&g), vec![vec![s, a], vec![b, c], vec![d]]);
    }

    #[test]
    fn two_input_operators_start_a_chain() {
        let mut g = StreamGraph::new(config(true));
        let s1 = g.add_node("S1", 1, source(), vec![]).unwrap();
        let s2 = g.add_node("S2", 1, source(), vec![]).unwrap();
        let mut inputs = edge(s1, Partitioning::Forward);
        inputs.push(StreamEdge {
            source: s2,
            port: 0,
            input: 1,
            partitioning: Partitioning::Forward,
        });
        let co = g.add_node("CoMap", 1, op(), inputs).unwrap();
        let m = g.add_node("Map", 1, op(), edge(co, Partitioning::Forward)).unwrap();
        assert_eq!(chains(&g), vec![vec![s1], vec![s2], vec![co, m]]);
    }

    #[test]
    fn forward_with_a_parallelism_change_is_rejected() {
        let mut g = StreamGraph::new(config(true));
        let s = g.add_node("Source", 1, source(), vec![]).unwrap();
        let err = g
            .add_node("Map", 2, op(), edge(s, Partitioning::Forward))
            .err()
            .unwrap();
        assert!(err.0.contains("Forward partitioning"), "{err}");
    }

    #[test]
    fn a_chains_buffer_timeout_is_its_last_operators_and_max_parallelism_is_per_operator() {
        use std::time::Duration;
        let mut g = StreamGraph::new(config(true));
        let s = g.add_node("Source", 2, source(), vec![]).unwrap();
        let a = g.add_node("Map", 2, op(), edge(s, Partitioning::Forward)).unwrap();
        let k = g.add_node("Keyed", 2, op(), edge(a, Partitioning::Keyed)).unwrap();
        g.node_mut(s).buffer_timeout = Some(Duration::from_millis(500));
        assert_eq!(chains(&g), vec![vec![s, a], vec![k]]);
        // Set on the source, which sends nothing itself: the chain keeps the job's timeout.
        assert_eq!(g.flush_of_chain(&[s, a]).buffer_timeout, Duration::from_millis(10));
        g.node_mut(a).buffer_timeout = Some(Duration::ZERO);
        assert_eq!(g.flush_of_chain(&[s, a]).buffer_timeout, Duration::ZERO);
        assert_eq!(g.flush_of_chain(&[s, a]).batch_size, g.config.flush.batch_size);
        assert_eq!(g.flush_of_chain(&[k]).buffer_timeout, Duration::from_millis(10));

        assert_eq!(g.max_parallelism_of(k), 128);
        g.set_max_parallelism(k, 16).unwrap();
        assert_eq!((g.max_parallelism_of(k), g.max_parallelism_of(a)), (16, 128));
        let err = g.set_max_parallelism(a, 1).unwrap_err();
        assert!(err.0.contains("must be at least its parallelism 2"), "{err}");
    }

    #[test]
    fn jobs_with_more_channels_than_the_bound_are_rejected() {
        let mut c = config(true);
        c.max_parallelism = 4096;
        let mut g = StreamGraph::new(c);
        let s = g.add_node("Source", 512, source(), vec![]).unwrap();
        let m = g.add_node("Map", 512, op(), edge(s, Partitioning::Forward)).unwrap();
        // Pointwise edges count one channel per subtask of the wider side, all-to-all ones p × q.
        let k = g.add_node("Keyed", 1023, op(), edge(m, Partitioning::Keyed)).unwrap();
        assert_eq!(512 + 512 * 1023, MAX_CHANNELS);
        let err = g
            .add_node("Rebalanced", 1, op(), edge(k, Partitioning::Rebalance))
            .err()
            .unwrap();
        assert!(err.0.contains("operator 'Rebalanced'"), "{err}");
        assert!(
            err.0.contains(&format!("needs {} channels", MAX_CHANNELS + 1023)),
            "{err}"
        );
        assert!(err.0.contains("Lower the parallelism"), "{err}");
    }
}
