//! The logical plan of a job, as the user's program described it: nodes (sources, operators,
//! sinks) and the edges between them, before chaining and before parallel instances exist.

use std::time::Duration;

use crate::runtime::operator::{Operator, OperatorResult, Source, TaskInfo};
use crate::runtime::output::FlushPolicy;
use crate::runtime::partitioner::Partitioning;
use crate::runtime::record::Data;
use crate::time::clock::Clock;

pub type NodeId = usize;

/// The most channels a job may have between its tasks. Every subtask runs in this process, and
/// an all-to-all edge (keyed, rebalance, ...) between operators of parallelism p and q has
/// p × q channels, each with its buffers (about 1.5 KB when empty), and every task watches all
/// of its input channels. Measured with a keyed job of 1000 records on two cores: one keyed edge
/// at parallelism 512 (2^18 channels) runs in 1.2 s and 0.4 GB, at 700 (2^19) in 10 s and
/// 0.75 GB, at 1024 (2^20) in 134 s and 1.5 GB, and at 4096 the process aborts when it runs out
/// of memory. 2^19 keeps a job that is too wide from exhausting the machine.
pub const MAX_CHANNELS: usize = 1 << 19;

/// Makes the source instance of one parallel subtask.
pub type SourceFactory<V> = Box<dyn Fn(&TaskInfo) -> OperatorResult<Box<dyn Source<V>>> + Send + Sync>;
/// Makes the operator instance of one parallel subtask.
pub type OperatorFactory<V> = Box<dyn Fn(&TaskInfo) -> OperatorResult<Box<dyn Operator<V>>> + Send + Sync>;

/// What a node is.
pub enum NodeKind<V: Data> {
    Source(SourceFactory<V>),
    Operator(OperatorFactory<V>),
    /// An operator that emits nothing (a sink), shown as a sink in the plan.
    Sink(OperatorFactory<V>),
    /// Records leave the job to a reader outside it (`execute_and_collect`): one channel per
    /// upstream subtask, handed to the reader.
    External,
}

impl<V: Data> NodeKind<V> {
    pub fn pact(&self) -> &'static str {
        match self {
            NodeKind::Source(_) => "Data Source",
            NodeKind::Operator(_) => "Operator",
            NodeKind::Sink(_) | NodeKind::External => "Data Sink",
        }
    }
}

/// Whether a node may share a task with its neighbours (Flink's chaining strategy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chaining {
    /// Chains with its predecessor and successors where the rules allow.
    Always,
    /// Starts a new chain (`start_new_chain()`); successors may chain to it.
    Head,
    /// Never chained (`disable_chaining()`).
    Never,
}

/// An input of a node: output `port` of node `source` (0 = main output, 1.. = side outputs),
/// feeding logical input `input` (0, or 1 for the second input of a two-input operator).
pub struct StreamEdge<V> {
    pub source: NodeId,
    pub port: u32,
    pub input: usize,
    pub partitioning: Partitioning<V>,
}

pub struct StreamNode<V: Data> {
    pub id: NodeId,
    pub name: String,
    pub uid: Option<String>,
    pub parallelism: usize,
    pub chaining: Chaining,
    /// The key groups of this operator's keyed state (`set_max_parallelism`); None: the job's.
    pub max_parallelism: Option<usize>,
    /// How long its output may wait in a partly filled batch (`set_buffer_timeout`); None: the
    /// job's. Only a chain's last operator sends to channels, so only its value counts.
    pub buffer_timeout: Option<Duration>,
    pub kind: NodeKind<V>,
    pub inputs: Vec<StreamEdge<V>>,
}

/// Settings that apply to the whole job.
#[derive(Clone, Debug)]
pub struct JobConfig {
    pub name: String,
    pub max_parallelism: usize,
    pub chaining_enabled: bool,
    pub flush: FlushPolicy,
    /// Batches in flight per channel before the sender blocks (backpressure); `usize::MAX`:
    /// unbounded (jobs stepped by hand on one thread, which must never block on a send).
    pub channel_capacity: usize,
    /// Processing time for the job's operators.
    pub clock: Clock,
    /// How long a cancelled or failed job waits for tasks stuck in user code before it lets
    /// go of them (Flink's `task.cancellation.timeout`); None: as long as they take.
    pub cancellation_timeout: Option<Duration>,
    /// Whether and how often metrics are kept.
    pub metrics: crate::metrics::options::MetricsOptions,
}

/// A job's logical plan. Nodes are added after their inputs, so their order is topological.
pub struct StreamGraph<V: Data> {
    pub config: JobConfig,
    pub nodes: Vec<StreamNode<V>>,
}

/// The channels of an edge between `senders` and `receivers` subtasks.
fn edge_channels<V>(partitioning: &Partitioning<V>, senders: usize, receivers: usize) -> usize {
    if partitioning.is_pointwise() {
        senders.max(receivers)
    } else {
        senders.saturating_mul(receivers)
    }
}

/// A plan that cannot run, with a message that says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError(pub String);

impl std::fmt::Display for GraphError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GraphError {}

impl<V: Data> StreamGraph<V> {
    pub fn new(config: JobConfig) -> Self {
        StreamGraph {
            config,
            nodes: Vec::new(),
        }
    }

    /// Adds a node; its inputs must already be in the graph.
    pub fn add_node(
        &mut self,
        name: impl Into<String>,
        parallelism: usize,
        kind: NodeKind<V>,
        inputs: Vec<StreamEdge<V>>,
    ) -> Result<NodeId, GraphError> {
        let id = self.nodes.len();
        let name = name.into();
        if parallelism == 0 {
            return Err(GraphError(format!(
                "operator '{name}': parallelism must be at least 1, got 0"
            )));
        }
        if parallelism > self.config.max_parallelism {
            return Err(GraphError(format!(
                "operator '{name}': parallelism {parallelism} is larger than the maximum parallelism {}",
                self.config.max_parallelism
            )));
        }
        let is_source = matches!(kind, NodeKind::Source(_));
        if is_source != inputs.is_empty() {
            return Err(GraphError(format!(
                "operator '{name}': {}",
                if is_source {
                    "a source has no inputs"
                } else {
                    "an operator needs at least one input"
                }
            )));
        }
        for edge in &inputs {
            let Some(upstream) = self.nodes.get(edge.source) else {
                return Err(GraphError(format!(
                    "operator '{name}': unknown input node {}",
                    edge.source
                )));
            };
            if matches!(upstream.kind, NodeKind::Sink(_) | NodeKind::External) {
                return Err(GraphError(format!(
                    "operator '{name}': a sink ('{}') has no output",
                    upstream.name
                )));
            }
            if matches!(edge.partitioning, Partitioning::Forward) && upstream.parallelism != parallelism {
                return Err(GraphError(format!(
                    "Forward partitioning does not allow a change of parallelism: '{}' has parallelism {}, \
                     '{name}' has {parallelism}. Use another partitioning, such as rebalance(), shuffle() \
                     or broadcast(), or give both the same parallelism.",
                    upstream.name, upstream.parallelism
                )));
            }
        }
        let channels: usize = self
            .nodes
            .iter()
            .flat_map(|node| node.inputs.iter().map(|edge| (edge, node.parallelism)))
            .chain(inputs.iter().map(|edge| (edge, parallelism)))
            .map(|(edge, receivers)| {
                let senders = self.nodes.get(edge.source).map_or(1, |n| n.parallelism);
                edge_channels(&edge.partitioning, senders, receivers)
            })
            .fold(0usize, usize::saturating_add);
        if channels > MAX_CHANNELS {
            return Err(GraphError(format!(
                "operator '{name}': at parallelism {parallelism} the job needs {channels} channels between \
                 its tasks (an all-to-all edge such as key_by or rebalance between operators of \
                 parallelism p and q has p × q); ferroflow runs every subtask in this process and allows \
                 at most {MAX_CHANNELS}. Lower the parallelism: subtasks beyond the number of CPU cores \
                 do not make a job faster."
            )));
        }
        self.nodes.push(StreamNode {
            id,
            name,
            uid: None,
            parallelism,
            chaining: Chaining::Always,
            max_parallelism: None,
            buffer_timeout: None,
            kind,
            inputs,
        });
        Ok(id)
    }

    /// The max parallelism (key groups) of node `id`: its own, else the job's.
    pub fn max_parallelism_of(&self, id: NodeId) -> usize {
        self.nodes[id].max_parallelism.unwrap_or(self.config.max_parallelism)
    }

    /// When the task running the chain of `nodes` sends its output: the job's policy, with the
    /// buffer timeout of the chain's last node if it has one (only the last sends to channels).
    pub fn flush_of_chain(&self, nodes: &[NodeId]) -> FlushPolicy {
        let mut flush = self.config.flush;
        if let Some(timeout) = nodes.last().and_then(|&id| self.nodes[id].buffer_timeout) {
            flush.buffer_timeout = timeout;
        }
        flush
    }

    /// Gives node `id` a max parallelism of its own, at least its parallelism.
    pub fn set_max_parallelism(&mut self, id: NodeId, max_parallelism: usize) -> Result<(), GraphError> {
        let node = &mut self.nodes[id];
        if max_parallelism == 0 || node.parallelism > max_parallelism {
            return Err(GraphError(format!(
                "operator '{}': max parallelism {max_parallelism} must be at least its parallelism {}",
                node.name, node.parallelism
            )));
        }
        node.max_parallelism = Some(max_parallelism);
        Ok(())
    }

    pub fn node_mut(&mut self, id: NodeId) -> &mut StreamNode<V> {
        &mut self.nodes[id]
    }

    /// For each node, the (consumer, index of the consumer's input) pairs that read from it.
    pub fn consumers(&self) -> Vec<Vec<(NodeId, usize)>> {
        let mut consumers = vec![Vec::new(); self.nodes.len()];
        for node in &self.nodes {
            for (i, edge) in node.inputs.iter().enumerate() {
                consumers[edge.source].push((node.id, i));
            }
        }
        consumers
    }
}
