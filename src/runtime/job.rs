//! Deploying a job: a plan's chains become tasks (one per parallel subtask) wired by bounded
//! channels, started on threads of their own as a [`JobHandle`] (`job_handle.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use crossbeam_channel::{bounded, unbounded, Receiver};

use crate::checkpoint::coordinator::{CheckpointHistory, CheckpointRegistry, Coordinator, OperatorList, TaskControl};
use crate::checkpoint::derived_operator_id;
use crate::checkpoint::options::{CheckpointOptions, CheckpointingMode};
use crate::checkpoint::restore::RestorePlan;
use crate::checkpoint::savepoint::SavepointRequest;

use crate::graph::job_graph::JobGraph;
use crate::graph::stream_graph::{GraphError, NodeKind, StreamGraph};
use crate::metrics::user::UserMetrics;
use crate::runtime::chain::OperatorChain;
use crate::runtime::input_gate::{BarrierMode, InputChannel, InputGate};
use crate::runtime::job_handle::JobHandle;
use crate::runtime::message::Message;
use crate::runtime::operator::{Operator, OperatorError, Source, TaskInfo};
use crate::runtime::output::{ChannelWriter, EdgeWriter, TaskOutputs};
use crate::runtime::partitioner::{pointwise_targets, Router};
use crate::runtime::record::Data;
use crate::runtime::task::{Step, Task, TaskFailure, TaskInput, TaskStats};

/// How one run of a job is set up: its identity, the checkpoint it restores from, and its
/// checkpoints. A job that restarts after a failure runs again with another setup.
#[derive(Clone, Default)]
pub struct RunSetup {
    /// Unique to this run.
    pub run_id: String,
    /// 0 for the first run, then one more for each restart.
    pub attempt: usize,
    pub restore: Option<RestorePlan>,
    pub checkpointing: Option<CheckpointSetup>,
}

/// The checkpoints of a job: options, the job's id (its checkpoints go under
/// `<directory>/<job-id>/`), and what completed so far, over all runs.
#[derive(Clone)]
pub struct CheckpointSetup {
    pub options: CheckpointOptions,
    pub job_id: String,
    pub history: Arc<Mutex<CheckpointHistory>>,
    /// Where savepoints are asked for while the job runs.
    pub savepoints: Option<Receiver<SavepointRequest>>,
}

/// Why a job could not be started.
#[derive(Debug)]
pub enum DeployError {
    Graph(GraphError),
    /// The checkpoint to restore from does not fit the job.
    Restore(String),
    /// Making an operator or source instance failed (for example a user's `__init__`-time error).
    Instantiate {
        operator: String,
        error: OperatorError,
    },
}

impl std::fmt::Display for DeployError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeployError::Graph(e) => write!(f, "{e}"),
            DeployError::Restore(e) => write!(f, "{e}"),
            DeployError::Instantiate { operator, error } => {
                write!(f, "operator '{operator}': {error}")
            }
        }
    }
}

/// How a job ended, when it did not end well.
#[derive(Debug)]
pub enum JobError {
    Failed(TaskFailure),
    Cancelled,
}

/// The output edges of one sending subtask, with the port each reads from.
type PortEdges<V> = Vec<(u32, EdgeWriter<V>)>;

/// For each external node, in plan order, one receiver per upstream subtask.
pub type ExternalOutputs<V> = Vec<Vec<Receiver<Message<V>>>>;

/// A job whose tasks are stepped by hand on the calling thread (tests): no threads, no waiting.
pub struct ManualJob<V: Data> {
    tasks: Vec<Option<Task<V>>>,
    stats: Vec<TaskStats>,
    cancelled: AtomicBool,
}

impl<V: Data> ManualJob<V> {
    /// Steps every task until none has anything left to do with what it was given. Returns
    /// whether every task has finished.
    pub fn run_until_quiet(&mut self) -> Result<bool, JobError> {
        loop {
            let mut busy = false;
            for slot in &mut self.tasks {
                let Some(task) = slot.as_mut() else { continue };
                match task.step(&self.cancelled) {
                    Ok(Step::Busy) => busy = true,
                    Ok(Step::Idle(_)) => {}
                    Ok(Step::Finished) => {
                        if let Some(task) = slot.take() {
                            match task.close(Ok(())) {
                                Ok(stats) => self.stats.push(stats),
                                Err(failure) => {
                                    // The other tasks' functions still get their close().
                                    self.close();
                                    return Err(JobError::Failed(failure));
                                }
                            }
                        }
                        busy = true;
                    }
                    Err(failure) => {
                        if let Some(task) = slot.take() {
                            let _ = task.close(Err(TaskFailure::Stopped));
                        }
                        self.close();
                        return Err(JobError::Failed(failure));
                    }
                }
            }
            if !busy {
                return Ok(self.tasks.iter().all(Option::is_none));
            }
        }
    }

    /// Closes the tasks still open.
    pub fn close(&mut self) {
        for slot in &mut self.tasks {
            if let Some(task) = slot.take() {
                let _ = task.close(Err(TaskFailure::Stopped));
            }
        }
    }
}

/// A job wired and ready to start, and the channels of its external outputs.
pub struct DeployedJob<V: Data> {
    tasks: Vec<Task<V>>,
    pub external_outputs: ExternalOutputs<V>,
    coordinator: Option<Coordinator>,
    /// The metrics the run's user functions define.
    user_metrics: Arc<UserMetrics>,
}

impl<V: Data> DeployedJob<V> {
    /// Turns the plan into tasks: calls every factory (on the calling thread, inside
    /// [`Data::scope`]), creates the channels, and wires inputs to outputs. The plan stays as
    /// it is, so that a job can be deployed again (a restart).
    pub fn deploy(graph: &StreamGraph<V>, setup: &RunSetup) -> Result<Self, DeployError> {
        V::scope(|| deploy(graph, setup))
    }

    /// Opens every task for stepping by hand ([`ManualJob::run_until_quiet`]).
    pub fn start_manual(self) -> Result<ManualJob<V>, JobError> {
        let mut tasks = Vec::with_capacity(self.tasks.len());
        for mut task in self.tasks {
            if let Err(failure) = task.open() {
                let _ = task.close(Err(TaskFailure::Stopped));
                for t in tasks.into_iter().flatten() {
                    let _: Result<TaskStats, TaskFailure> = Task::close(t, Err(TaskFailure::Stopped));
                }
                return Err(JobError::Failed(failure));
            }
            tasks.push(Some(task));
        }
        Ok(ManualJob {
            tasks,
            stats: Vec::new(),
            cancelled: AtomicBool::new(false),
        })
    }

    /// Starts one thread per task (and the checkpoint coordinator's, when the job checkpoints).
    pub fn start(self) -> JobHandle {
        JobHandle::start(self.tasks, self.coordinator, self.user_metrics)
    }
}

/// The stable id of every node: its uid, or one derived from its place in the plan.
fn operator_ids<V: Data>(graph: &StreamGraph<V>) -> Result<Vec<String>, DeployError> {
    let mut ids = Vec::with_capacity(graph.nodes.len());
    let mut seen = BTreeSet::new();
    for node in &graph.nodes {
        let id = node
            .uid
            .clone()
            .unwrap_or_else(|| derived_operator_id(node.id, &node.name));
        if !seen.insert(id.clone()) {
            return Err(DeployError::Graph(GraphError(format!(
                "the uid '{id}' is given to more than one operator ('{}' is one): uids name \
                 operators' state in checkpoints and must be unique",
                node.name
            ))));
        }
        ids.push(id);
    }
    Ok(ids)
}

fn deploy<V: Data>(graph: &StreamGraph<V>, setup: &RunSetup) -> Result<DeployedJob<V>, DeployError> {
    let job = JobGraph::build(graph);
    let config = graph.config.clone();
    let n_vertices = job.vertices.len();
    let ids = operator_ids(graph)?;
    let user_metrics = Arc::new(UserMetrics::default());
    if let Some(restore) = &setup.restore {
        let operators: BTreeMap<String, usize> = graph
            .nodes
            .iter()
            .filter(|n| !matches!(n.kind, NodeKind::External))
            .map(|n| (ids[n.id].clone(), graph.max_parallelism_of(n.id)))
            .collect();
        restore.check(&operators).map_err(DeployError::Restore)?;
    }
    let barrier_mode = match &setup.checkpointing {
        Some(c) => BarrierMode {
            align: c.options.mode == CheckpointingMode::ExactlyOnce,
            after_end: true,
        },
        None => BarrierMode::default(),
    };

    // Channels: for every edge whose consumer is a task head or an external output.
    let mut gate_channels: Vec<Vec<Vec<InputChannel<V>>>> = job
        .vertices
        .iter()
        .map(|v| (0..v.parallelism).map(|_| Vec::new()).collect())
        .collect();
    // Output edges per vertex and sending subtask.
    let mut edges_out: Vec<Vec<PortEdges<V>>> = job
        .vertices
        .iter()
        .map(|v| (0..v.parallelism).map(|_| Vec::new()).collect())
        .collect();
    let mut external_outputs = Vec::new();

    for node in &graph.nodes {
        let consumer_vertex = job.vertex_of[node.id];
        let is_head = consumer_vertex.is_some_and(|v| job.vertices[v].nodes[0] == node.id);
        let is_external = matches!(node.kind, NodeKind::External);
        if !is_head && !is_external {
            continue; // chained: its input is a function call, not a channel
        }
        let mut external = Vec::new();
        for edge in &node.inputs {
            let Some(from) = job.vertex_of[edge.source] else {
                return Err(DeployError::Graph(GraphError(format!(
                    "'{}' reads from an external output",
                    node.name
                ))));
            };
            let senders = job.vertices[from].parallelism;
            let receivers = if is_external { senders } else { node.parallelism };
            for (s, sender_edges) in edges_out[from].iter_mut().enumerate() {
                let targets = if is_external {
                    s..s + 1
                } else if edge.partitioning.is_pointwise() {
                    pointwise_targets(s, senders, receivers)
                } else {
                    0..receivers
                };
                let mut writers = Vec::with_capacity(targets.len());
                for r in targets {
                    let (tx, rx) = if config.channel_capacity == usize::MAX {
                        unbounded()
                    } else {
                        bounded(config.channel_capacity)
                    };
                    writers.push(ChannelWriter::new(tx));
                    if is_external {
                        external.push(rx);
                    } else if let Some(v) = consumer_vertex {
                        gate_channels[v][r].push(InputChannel {
                            receiver: rx,
                            input: edge.input,
                        });
                    }
                }
                // Keys go to the key groups of the operator that reads them.
                let router = Router::new(&edge.partitioning, s, graph.max_parallelism_of(node.id));
                sender_edges.push((edge.port, EdgeWriter::new(router, writers)));
            }
        }
        if is_external {
            external_outputs.push(external);
        }
    }

    let mut tasks = Vec::new();
    let mut source_tasks = Vec::new();
    for (v, vertex) in job.vertices.iter().enumerate().take(n_vertices) {
        let mut kinds = Vec::with_capacity(vertex.nodes.len());
        for &id in &vertex.nodes {
            let node = &graph.nodes[id];
            kinds.push((&node.name, &node.kind, &ids[id], graph.max_parallelism_of(id)));
        }
        let flush = graph.flush_of_chain(&vertex.nodes);
        let mut gates = std::mem::take(&mut gate_channels[v]).into_iter();
        let mut outs = std::mem::take(&mut edges_out[v]).into_iter();
        for s in 0..vertex.parallelism {
            let info = |operator_name: &str, operator_id: &str, max_parallelism: usize| TaskInfo {
                clock: config.clock.clone(),
                job_name: config.name.clone(),
                operator_name: operator_name.to_string(),
                task_name: vertex.name.clone(),
                subtask_index: s,
                parallelism: vertex.parallelism,
                max_parallelism,
                attempt_number: setup.attempt,
                operator_id: operator_id.to_string(),
                restore: setup.restore.as_ref().and_then(|r| r.operator(operator_id)),
                run_id: setup.run_id.clone(),
                batch_bytes: config.flush.batch_bytes,
                user_metrics: Arc::clone(&user_metrics),
            };
            let mut source: Option<(Box<dyn Source<V>>, TaskInfo)> = None;
            let mut operators: Vec<(Box<dyn Operator<V>>, TaskInfo)> = Vec::new();
            for (name, kind, operator_id, max_parallelism) in &kinds {
                let i = info(name, operator_id, *max_parallelism);
                let instantiate = |e: OperatorError| DeployError::Instantiate {
                    operator: (*name).clone(),
                    error: e,
                };
                match kind {
                    NodeKind::Source(factory) => source = Some((factory(&i).map_err(instantiate)?, i)),
                    NodeKind::Operator(factory) | NodeKind::Sink(factory) => {
                        operators.push((factory(&i).map_err(instantiate)?, i));
                    }
                    NodeKind::External => {}
                }
            }
            let channels = gates.next().unwrap_or_default();
            let edges = outs.next().unwrap_or_default();
            let (input, source_info) = match source {
                Some((src, i)) => (TaskInput::Source(src), Some(i)),
                None => (TaskInput::Gate(InputGate::with_barriers(channels, barrier_mode)), None),
            };
            if source_info.is_some() {
                source_tasks.push(tasks.len());
            }
            tasks.push(
                Task::new(
                    vertex.name.clone(),
                    s,
                    source_info,
                    input,
                    OperatorChain::new(operators),
                    TaskOutputs::new(edges, flush),
                    config.clock.clone(),
                )
                .with_metrics(config.metrics.enabled),
            );
        }
    }
    let coordinator = match &setup.checkpointing {
        None => None,
        Some(c) => {
            let (report_tx, reports) = unbounded();
            let registry = Arc::new(CheckpointRegistry::default());
            let mut commands = Vec::with_capacity(tasks.len());
            let n = tasks.len();
            let mut wired = Vec::with_capacity(n);
            for (index, task) in tasks.into_iter().enumerate() {
                let (tx, rx) = unbounded();
                commands.push(tx);
                wired.push(task.with_control(TaskControl {
                    task: index,
                    commands: rx,
                    reports: report_tx.clone(),
                    registry: Arc::clone(&registry),
                    mode: c.options.mode,
                }));
            }
            tasks = wired;
            let operators: OperatorList = graph
                .nodes
                .iter()
                .filter(|n| !matches!(n.kind, NodeKind::External))
                .map(|n| {
                    (
                        ids[n.id].clone(),
                        (n.name.clone(), n.parallelism, graph.max_parallelism_of(n.id)),
                    )
                })
                .collect();
            Some(Coordinator {
                options: c.options.clone(),
                job_id: c.job_id.clone(),
                job_name: config.name.clone(),
                max_parallelism: config.max_parallelism,
                operators,
                commands,
                source_tasks,
                reports,
                registry,
                history: Arc::clone(&c.history),
                savepoints: c.savepoints.clone(),
                stopped_with_savepoint: Arc::new(AtomicBool::new(false)),
            })
        }
    };
    Ok(DeployedJob {
        tasks,
        external_outputs,
        coordinator,
        user_metrics,
    })
}
