//! `JobBuilder`: how the Python package hands a job's plan to the engine, node by node, and runs
//! it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::bindings::checkpointing::{check_writable, new_job_id, CheckpointPlan};
use crate::bindings::collect::CollectIterator;
use crate::bindings::errors::{deploy_error, graph_error, job_error};
use crate::bindings::job_client::{outcome_result, JobClient};
use crate::bindings::job_driver::{JobDriver, JobRun, Outcome};
use crate::bindings::manual_run::ManualRun;
use crate::bindings::operators::accumulators::Accumulators;
use crate::bindings::operators::aggregate::{Aggregation, KeyedAggregate};
use crate::bindings::operators::batch_loop::{BatchLoop, Stage};
use crate::bindings::operators::key_by::KeyBy;
use crate::bindings::operators::print::Print;
use crate::bindings::operators::reduce::KeyedReduce;
use crate::bindings::operators::udf_operator::{CallStyle, UdfOperator};
use crate::bindings::operators::watermarks::{TimestampsAndWatermarks, WatermarkKind};
use crate::bindings::operators::window::{
    parse_assigner, parse_trigger, PyWindowFunctions, WindowFnKind, WindowFnStyle,
};
use crate::bindings::partitioner::PyPartitioner;
use crate::bindings::signals::SignalWakeup;
use crate::bindings::sources::{CollectionSource, IterableSource, SequenceSource};
use crate::bindings::state::{StateStore, StateView};
use crate::bindings::udf::Udf;
use crate::bindings::value::PyValue;
use crate::checkpoint::coordinator::{CheckpointHistory, Coordinator};
use crate::checkpoint::restart::RestartStrategy;
use crate::connectors::manual_source::ManualFeed;
use crate::graph::execution_plan::execution_plan_json;
use crate::graph::stream_graph::{Chaining, JobConfig, NodeId, NodeKind, StreamEdge, StreamGraph};
use crate::runtime::input_gate::{InputChannel, InputGate};
use crate::runtime::job::{CheckpointSetup, DeployedJob, ExternalOutputs, JobHandle, RunSetup};
use crate::runtime::operator::{Operator, OperatorError, OperatorResult, Source, TaskInfo};
use crate::runtime::output::FlushPolicy;
use crate::runtime::partitioner::{PartitionerFactory, Partitioning};
use crate::state::backend::{RocksDbBackendConfig, StateBackendConfig, DEFAULT_ROCKSDB_MEMORY};
use crate::state::keyed::Namespace;
use crate::time::clock::Clock;
use crate::window::operator::{WindowOperator, WindowSpec};

/// How long `execute()` waits for the job before it looks for a signal (without the interpreter).
const WAIT_SLICE: Duration = Duration::from_millis(20);

/// One input of a node, as Python describes it:
/// `(source_node, port, input_index, partitioning, custom)` where `custom` is
/// `(partition_fn, key_selector)` for `"custom"` partitioning, else None.
type InputSpec = (usize, u32, usize, String, Option<(Py<PyAny>, Py<PyAny>)>);

/// Builds a job's plan, then runs it once (restarting it after failures when its restart
/// strategy says so).
#[pyclass(module = "ferroflow._engine")]
pub struct JobBuilder {
    graph: Option<StreamGraph<PyValue>>,
    /// Checkpoints, restore and restarts.
    checkpointing: Option<CheckpointPlan>,
    /// The feeds of test sources, in the order they were added.
    feeds: Vec<ManualFeed<PyValue>>,
    /// Where keyed operators added from now on keep their state.
    state_backend: StateBackendConfig,
}

fn boxed<O: Operator<PyValue> + 'static>(op: O) -> OperatorResult<Box<dyn Operator<PyValue>>> {
    Ok(Box::new(op))
}

fn boxed_source<S: Source<PyValue> + 'static>(s: S) -> OperatorResult<Box<dyn Source<PyValue>>> {
    Ok(Box::new(s))
}

impl JobBuilder {
    fn graph(&mut self) -> PyResult<&mut StreamGraph<PyValue>> {
        self.graph
            .as_mut()
            .ok_or_else(|| PyValueError::new_err("this job was already executed; build a new one"))
    }

    fn edges(inputs: Vec<InputSpec>) -> PyResult<Vec<StreamEdge<PyValue>>> {
        inputs
            .into_iter()
            .map(|(source, port, input, partitioning, custom)| {
                let partitioning = match (partitioning.as_str(), custom) {
                    ("forward", _) => Partitioning::Forward,
                    ("rebalance", _) => Partitioning::Rebalance,
                    ("rescale", _) => Partitioning::Rescale,
                    ("shuffle", _) => Partitioning::Shuffle,
                    ("broadcast", _) => Partitioning::Broadcast,
                    ("keyed", _) => Partitioning::Keyed,
                    ("custom", Some((partition, key_selector))) => {
                        let shared = Arc::new((partition, key_selector));
                        let factory: PartitionerFactory<PyValue> = Arc::new(move |_| {
                            Python::attach(|py| {
                                Box::new(PyPartitioner {
                                    partition: shared.0.clone_ref(py),
                                    key_selector: shared.1.clone_ref(py),
                                }) as Box<_>
                            })
                        });
                        Partitioning::Custom(factory)
                    }
                    (other, _) => return Err(PyValueError::new_err(format!("unknown partitioning '{other}'"))),
                };
                Ok(StreamEdge {
                    source,
                    port,
                    input,
                    partitioning,
                })
            })
            .collect()
    }

    fn add(
        &mut self,
        name: String,
        parallelism: usize,
        kind: NodeKind<PyValue>,
        inputs: Vec<InputSpec>,
    ) -> PyResult<NodeId> {
        let edges = Self::edges(inputs)?;
        self.graph()?
            .add_node(name, parallelism, kind, edges)
            .map_err(graph_error)
    }

    /// Deploys and starts one run of the job.
    fn start_run(
        py: Python<'_>,
        graph: &StreamGraph<PyValue>,
        setup: &RunSetup,
    ) -> PyResult<(JobHandle, ExternalOutputs<PyValue>)> {
        let mut deployed = DeployedJob::deploy(graph, setup).map_err(|e| deploy_error(py, e))?;
        let external = std::mem::take(&mut deployed.external_outputs);
        Ok((deployed.start(), external))
    }

    /// The setup of the job's first run: what it restores from and how it checkpoints.
    fn first_setup(&self, job_id: &str) -> PyResult<(RunSetup, RestartStrategy)> {
        let Some(plan) = &self.checkpointing else {
            return Ok((
                RunSetup {
                    run_id: job_id.to_string(),
                    ..RunSetup::default()
                },
                RestartStrategy::None,
            ));
        };
        let restore = plan.restore()?;
        let claimed = match &restore {
            Some(r) if plan.claims(r)? => Some(r.directory.clone()),
            _ => None,
        };
        let history = CheckpointHistory {
            next_id: restore.as_ref().map_or(1, |r| r.metadata.checkpoint_id + 1),
            claimed,
            ..CheckpointHistory::default()
        };
        let checkpointing = match plan.options()? {
            Some(options) => {
                check_writable(&Coordinator::job_directory(&options, job_id))?;
                Some(CheckpointSetup {
                    options,
                    job_id: job_id.to_string(),
                    history: Arc::new(Mutex::new(history)),
                    savepoints: None,
                })
            }
            None => None,
        };
        Ok((
            RunSetup {
                run_id: job_id.to_string(),
                attempt: 0,
                restore,
                checkpointing,
            },
            plan.restart.strategy()?,
        ))
    }

    /// Starts the job on its driver thread.
    fn start_driver(&mut self) -> PyResult<JobDriver> {
        let job_id = new_job_id();
        let (setup, strategy) = self.first_setup(&job_id)?;
        let graph = self.take_graph()?;
        let ignore_unclaimed = self.checkpointing.as_ref().is_some_and(|p| p.ignore_unclaimed);
        let savepoints = setup.checkpointing.as_ref().map(|_| crossbeam_channel::unbounded());
        JobDriver::start(
            JobRun {
                graph,
                job_id,
                setup,
                strategy,
                ignore_unclaimed,
            },
            savepoints,
        )
    }

    fn take_graph(&mut self) -> PyResult<StreamGraph<PyValue>> {
        self.graph
            .take()
            .ok_or_else(|| PyValueError::new_err("this job was already executed; build a new one"))
    }
}

#[pymethods]
impl JobBuilder {
    #[new]
    #[pyo3(signature = (job_name, max_parallelism, chaining, batch_size, buffer_timeout_ms, channel_capacity))]
    fn new(
        job_name: String,
        max_parallelism: usize,
        chaining: bool,
        batch_size: usize,
        buffer_timeout_ms: u64,
        channel_capacity: usize,
    ) -> PyResult<Self> {
        if max_parallelism == 0 || batch_size == 0 || channel_capacity == 0 {
            return Err(PyValueError::new_err(
                "max_parallelism, batch_size and channel_capacity must be at least 1",
            ));
        }
        Ok(JobBuilder {
            checkpointing: None,
            feeds: Vec::new(),
            state_backend: StateBackendConfig::HashMap,
            graph: Some(StreamGraph::new(JobConfig {
                name: job_name,
                max_parallelism,
                chaining_enabled: chaining,
                flush: FlushPolicy {
                    batch_size,
                    buffer_timeout: Duration::from_millis(buffer_timeout_ms),
                },
                channel_capacity,
                clock: Clock::System,
            })),
        })
    }

    /// Where keyed state is kept: `kind` "hashmap" or "rocksdb" (with RocksDB's files under
    /// `directory`, the temporary directory if None, within `memory_budget` bytes). Applies to
    /// the operators added after it.
    #[pyo3(signature = (kind, directory=None, memory_budget=None))]
    fn set_state_backend(
        &mut self,
        kind: &str,
        directory: Option<PathBuf>,
        memory_budget: Option<usize>,
    ) -> PyResult<()> {
        self.state_backend = match kind {
            "hashmap" => StateBackendConfig::HashMap,
            "rocksdb" => {
                if let Some(dir) = &directory {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        PyOSError::new_err(format!("the RocksDB directory {} cannot be made: {e}", dir.display()))
                    })?;
                }
                StateBackendConfig::RocksDb(RocksDbBackendConfig::new(
                    directory,
                    memory_budget.unwrap_or(DEFAULT_ROCKSDB_MEMORY),
                ))
            }
            other => {
                return Err(PyValueError::new_err(format!(
                    "the state backend must be 'hashmap' or 'rocksdb', got '{other}'"
                )))
            }
        };
        Ok(())
    }

    /// A source node: `kind` is "collection" (arg: list), "iterable" (arg: iterator),
    /// "sequence" (arg: (start, end)) or "rewindable" (arg: (source, list of its splits)).
    fn add_source(
        &mut self,
        py: Python<'_>,
        name: String,
        parallelism: usize,
        kind: &str,
        arg: Py<PyAny>,
    ) -> PyResult<NodeId> {
        let factory: crate::graph::stream_graph::SourceFactory<PyValue> = match kind {
            "collection" => {
                let items: Py<PyList> = arg.bind(py).cast::<PyList>()?.clone().unbind();
                Box::new(move |info: &TaskInfo| {
                    Python::attach(|py| boxed_source(CollectionSource::new(items.clone_ref(py), info)?))
                })
            }
            "iterable" => {
                let iterator = arg.bind(py).try_iter()?.unbind();
                Box::new(move |_: &TaskInfo| {
                    Python::attach(|py| boxed_source(IterableSource::new(iterator.clone_ref(py))))
                })
            }
            "manual" => {
                if parallelism != 1 {
                    return Err(PyValueError::new_err("a test source has parallelism 1"));
                }
                let feed = ManualFeed::default();
                let source_feed = feed.clone();
                self.feeds.push(feed);
                Box::new(move |_: &TaskInfo| boxed_source(source_feed.source()))
            }
            "sequence" => {
                let (start, end): (i64, i64) = arg.extract(py)?;
                Box::new(move |info: &TaskInfo| boxed_source(SequenceSource::for_subtask(start, end, info)?))
            }
            "rewindable" => {
                let (source, splits): (Py<PyAny>, Py<PyList>) = arg.extract(py)?;
                Box::new(move |info: &TaskInfo| {
                    boxed_source(crate::bindings::rewindable_source::RewindableSource::new(
                        &source, &splits, info,
                    )?)
                })
            }
            other => return Err(PyValueError::new_err(format!("unknown source kind '{other}'"))),
        };
        self.add(name, parallelism, NodeKind::Source(factory), Vec::new())
    }

    /// An operator calling a user function. `style`: map, flat_map, filter, process, sink,
    /// sink_with_context. `side_ports` maps output tag ids to ports 1, 2, ...
    #[pyo3(signature = (name, parallelism, style, spec, function, inputs, side_ports, keyed, is_sink, on_timer=false))]
    #[allow(clippy::too_many_arguments)]
    fn add_udf(
        &mut self,
        name: String,
        parallelism: usize,
        style: &str,
        spec: Py<PyAny>,
        function: String,
        inputs: Vec<InputSpec>,
        side_ports: Vec<(String, u32)>,
        keyed: bool,
        is_sink: bool,
        on_timer: bool,
    ) -> PyResult<NodeId> {
        let style =
            CallStyle::parse(style).ok_or_else(|| PyValueError::new_err(format!("unknown call style '{style}'")))?;
        let backend = self.state_backend.clone();
        let factory: crate::graph::stream_graph::OperatorFactory<PyValue> = Box::new(move |info: &TaskInfo| {
            // Keyed functions get keyed state through their runtime context.
            let state = if keyed {
                Some(
                    Python::attach(|py| StateStore::for_operator(py, info, &backend))
                        .map_err(crate::runtime::operator::OperatorError::new)?,
                )
            } else {
                None
            };
            let view = state
                .as_ref()
                .map(|store| {
                    Python::attach(|py| {
                        Py::new(
                            py,
                            StateView {
                                store: store.clone_ref(py),
                                namespace: Namespace::Global,
                            },
                        )
                    })
                })
                .transpose()
                .map_err(crate::runtime::operator::OperatorError::new)?;
            let udf = Udf::instantiate_keyed(&spec, info, view)?;
            match style.batch_loop_name() {
                Some(name) if !keyed && udf.calls.len() == 1 => boxed(BatchLoop::new(Stage {
                    style: name,
                    udf,
                    operator: info.operator_name.clone(),
                    function: function.clone(),
                    operator_id: info.operator_id.clone(),
                    subtask: info.subtask_index,
                })),
                _ => boxed(UdfOperator::new(
                    style,
                    udf,
                    function.clone(),
                    side_ports.clone(),
                    keyed,
                    on_timer,
                    state,
                )?),
            }
        });
        let kind = if is_sink {
            NodeKind::Sink(factory)
        } else {
            NodeKind::Operator(factory)
        };
        self.add(name, parallelism, kind, inputs)
    }

    fn add_key_by(
        &mut self,
        name: String,
        parallelism: usize,
        spec: Py<PyAny>,
        function: String,
        inputs: Vec<InputSpec>,
    ) -> PyResult<NodeId> {
        let factory: crate::graph::stream_graph::OperatorFactory<PyValue> = Box::new(move |info: &TaskInfo| {
            let udf = Udf::instantiate(&spec, info)?;
            boxed(KeyBy::new(udf, info, function.clone()))
        });
        self.add(name, parallelism, NodeKind::Operator(factory), inputs)
    }

    fn add_reduce(
        &mut self,
        name: String,
        parallelism: usize,
        spec: Py<PyAny>,
        inputs: Vec<InputSpec>,
    ) -> PyResult<NodeId> {
        let backend = self.state_backend.clone();
        let factory: crate::graph::stream_graph::OperatorFactory<PyValue> = Box::new(move |info: &TaskInfo| {
            let udf = Udf::instantiate(&spec, info)?;
            let state =
                Python::attach(|py| Accumulators::for_operator(py, info, &backend)).map_err(OperatorError::new)?;
            boxed(KeyedReduce::new(udf, state))
        });
        self.add(name, parallelism, NodeKind::Operator(factory), inputs)
    }

    fn add_aggregate(
        &mut self,
        name: String,
        parallelism: usize,
        aggregation: &str,
        position: Py<PyAny>,
        inputs: Vec<InputSpec>,
    ) -> PyResult<NodeId> {
        let aggregation = Aggregation::parse(aggregation)
            .ok_or_else(|| PyValueError::new_err(format!("unknown aggregation '{aggregation}'")))?;
        let backend = self.state_backend.clone();
        let factory: crate::graph::stream_graph::OperatorFactory<PyValue> = Box::new(move |info: &TaskInfo| {
            Python::attach(|py| {
                let state = Accumulators::for_operator(py, info, &backend).map_err(OperatorError::new)?;
                boxed(KeyedAggregate::new(aggregation, position.clone_ref(py), state))
            })
        });
        self.add(name, parallelism, NodeKind::Operator(factory), inputs)
    }

    #[pyo3(signature = (name, parallelism, identifier, formatter, inputs))]
    fn add_print(
        &mut self,
        name: String,
        parallelism: usize,
        identifier: Option<String>,
        formatter: Option<Py<PyAny>>,
        inputs: Vec<InputSpec>,
    ) -> PyResult<NodeId> {
        let factory: crate::graph::stream_graph::OperatorFactory<PyValue> = Box::new(move |_: &TaskInfo| {
            Python::attach(|py| {
                boxed(Print::new(
                    identifier.clone(),
                    formatter.as_ref().map(|f| f.clone_ref(py)),
                ))
            })
        });
        self.add(name, parallelism, NodeKind::Sink(factory), inputs)
    }

    /// `assign_timestamps_and_watermarks`: `kind` is "bounded" (with `delay`), "none" or
    /// "generator"; `spec` gives `[assigner]` if `has_assigner`, then the generator factory for
    /// "generator".
    #[pyo3(signature = (name, parallelism, spec, kind, delay, has_assigner, per_record, interval_ms, idleness_ms, inputs))]
    #[allow(clippy::too_many_arguments)]
    fn add_watermarks(
        &mut self,
        name: String,
        parallelism: usize,
        spec: Py<PyAny>,
        kind: &str,
        delay: i64,
        has_assigner: bool,
        per_record: bool,
        interval_ms: i64,
        idleness_ms: Option<i64>,
        inputs: Vec<InputSpec>,
    ) -> PyResult<NodeId> {
        let kind = match kind {
            "bounded" => WatermarkKind::Bounded { delay },
            "none" => WatermarkKind::None,
            "generator" => WatermarkKind::Generator,
            other => return Err(PyValueError::new_err(format!("unknown watermark kind '{other}'"))),
        };
        let factory: crate::graph::stream_graph::OperatorFactory<PyValue> = Box::new(move |info: &TaskInfo| {
            let udf = Udf::instantiate(&spec, info)?;
            boxed(TimestampsAndWatermarks::new(
                kind,
                udf,
                has_assigner,
                per_record,
                interval_ms,
                idleness_ms,
            ))
        });
        self.add(name, parallelism, NodeKind::Operator(factory), inputs)
    }

    /// A window operator. `assigner` and `trigger` are the spec tuples of the Python classes;
    /// `fn_kind` is reduce, aggregate, process or apply, `fn_style` apply or process for a window
    /// function given with reduce/aggregate; `late_tag` the side output of late records.
    #[pyo3(signature = (name, parallelism, inputs, assigner, trigger, allowed_lateness, late_tag, side_ports, fn_kind, fn_style, spec, keyless, function))]
    #[allow(clippy::too_many_arguments)]
    fn add_window(
        &mut self,
        py: Python<'_>,
        name: String,
        parallelism: usize,
        inputs: Vec<InputSpec>,
        assigner: Py<PyAny>,
        trigger: Option<Py<PyAny>>,
        allowed_lateness: i64,
        late_tag: Option<String>,
        side_ports: Vec<(String, u32)>,
        fn_kind: &str,
        fn_style: Option<&str>,
        spec: Py<PyAny>,
        keyless: bool,
        function: String,
    ) -> PyResult<NodeId> {
        let (assigner, gap_extractor) = parse_assigner(assigner.bind(py))?;
        let kind = match fn_kind {
            "reduce" => WindowFnKind::Reduce,
            "aggregate" => WindowFnKind::Aggregate,
            "process" => WindowFnKind::Process,
            "apply" => WindowFnKind::Apply,
            other => return Err(PyValueError::new_err(format!("unknown window function kind '{other}'"))),
        };
        let style = match fn_style {
            None => None,
            Some("apply") => Some(WindowFnStyle::Apply),
            Some("process") => Some(WindowFnStyle::Process),
            Some(other) => {
                return Err(PyValueError::new_err(format!(
                    "unknown window function style '{other}'"
                )))
            }
        };
        // Validate the trigger now, so that a bad one fails when the pipeline is built.
        if let Some(t) = &trigger {
            parse_trigger(t.bind(py), &StateStore::detached_py(py)?)?;
        }
        let late_port = late_tag.and_then(|tag| side_ports.iter().find(|(t, _)| *t == tag).map(|(_, p)| *p));
        let backend = self.state_backend.clone();
        let factory: crate::graph::stream_graph::OperatorFactory<PyValue> = Box::new(move |info: &TaskInfo| {
            let (state, view) = Python::attach(|py| {
                let store = StateStore::for_operator(py, info, &backend)?;
                let view = Py::new(
                    py,
                    StateView {
                        store: store.clone_ref(py),
                        namespace: Namespace::Global,
                    },
                )?;
                Ok::<_, PyErr>((store, view))
            })
            .map_err(crate::runtime::operator::OperatorError::new)?;
            let udf = Udf::instantiate_keyed(&spec, info, Some(view))?;
            let (trigger, extractor) = Python::attach(|py| {
                let trigger = trigger
                    .as_ref()
                    .map(|t| parse_trigger(t.bind(py), &state))
                    .transpose()?;
                Ok::<_, PyErr>((trigger, gap_extractor.as_ref().map(|g| g.clone_ref(py))))
            })
            .map_err(crate::runtime::operator::OperatorError::new)?;
            let functions = PyWindowFunctions::new(kind, style, udf, keyless, extractor, function.clone(), state)?;
            boxed(WindowOperator::new(
                WindowSpec {
                    assigner,
                    trigger,
                    allowed_lateness,
                    late_port,
                },
                functions,
            ))
        });
        self.add(name, parallelism, NodeKind::Operator(factory), inputs)
    }

    /// Where `execute_and_collect` reads from.
    fn add_collect(&mut self, name: String, inputs: Vec<InputSpec>) -> PyResult<NodeId> {
        let parallelism = match inputs.first() {
            Some((source, ..)) => self.graph()?.nodes.get(*source).map_or(1, |n| n.parallelism),
            None => 1,
        };
        self.add(name, parallelism, NodeKind::External, inputs)
    }

    /// `"always"`, `"head"` (start_new_chain) or `"never"` (disable_chaining).
    fn set_chaining(&mut self, node: NodeId, chaining: &str) -> PyResult<()> {
        let chaining = match chaining {
            "always" => Chaining::Always,
            "head" => Chaining::Head,
            "never" => Chaining::Never,
            other => return Err(PyValueError::new_err(format!("unknown chaining '{other}'"))),
        };
        self.graph()?.node_mut(node).chaining = chaining;
        Ok(())
    }

    fn set_uid(&mut self, node: NodeId, uid: String) -> PyResult<()> {
        self.graph()?.node_mut(node).uid = Some(uid);
        Ok(())
    }

    /// Runs the job by hand (tests): processing time from a manual clock starting at
    /// `start_time`, every record sent on at once, no threads. Call before adding nodes.
    fn use_manual_clock(&mut self, start_time: i64) -> PyResult<()> {
        let config = &mut self.graph()?.config;
        config.clock = Clock::manual(start_time);
        config.flush.buffer_timeout = Duration::ZERO;
        config.channel_capacity = usize::MAX;
        Ok(())
    }

    /// Opens the job for stepping by hand; see `ManualRun`.
    fn start_manual(&mut self, py: Python<'_>) -> PyResult<ManualRun> {
        let graph = self
            .graph
            .take()
            .ok_or_else(|| PyValueError::new_err("this job was already executed; build a new one"))?;
        let clock = graph.config.clock.clone();
        let mut deployed = DeployedJob::deploy(&graph, &RunSetup::default()).map_err(|e| deploy_error(py, e))?;
        let outputs = std::mem::take(&mut deployed.external_outputs);
        let job = deployed.start_manual().map_err(|e| job_error(py, e))?;
        Ok(ManualRun::new(job, std::mem::take(&mut self.feeds), outputs, clock))
    }

    /// The plan as JSON (Flink's `get_execution_plan()` shape).
    fn plan_json(&mut self) -> PyResult<String> {
        Ok(execution_plan_json(self.graph()?))
    }

    /// Checkpoints, restore and restarts, as `env._checkpoint_plan()` describes them.
    fn set_checkpointing(&mut self, plan: CheckpointPlan) -> PyResult<()> {
        // Checked now, so that a bad plan fails when the job is built.
        plan.options()?;
        plan.restart.strategy()?;
        if plan.restore_path.is_some() {
            plan.restore()?;
        }
        self.checkpointing = Some(plan);
        Ok(())
    }

    /// Runs the job to the end with the interpreter released; Ctrl-C cancels it. A failure
    /// restarts the job from its latest completed checkpoint while the restart strategy allows.
    /// Returns a dict with `net_runtime_ms`, per-task figures, `job_id`, `restarts` and
    /// `checkpoints`.
    fn execute<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        // The wakeup first: once the job runs, leaving early would drop it with the
        // interpreter held, and its task threads need the interpreter to stop.
        let mut wakeup = SignalWakeup::install(py)?;
        let started = self.start_driver();
        let mut driver = match started {
            Ok(d) => d,
            Err(e) => {
                if let Some(w) = wakeup {
                    w.restore(py);
                }
                return Err(e);
            }
        };
        let mut interrupt = None;
        while !py.detach(|| driver.wait_timeout(WAIT_SLICE)) {
            // Only the main thread handles signals; a byte on the wakeup pipe says one came.
            if interrupt.is_none() && wakeup.as_mut().is_some_and(|w| w.triggered()) {
                if let Err(e) = py.check_signals() {
                    driver.cancel();
                    interrupt = Some(e);
                }
            }
        }
        if let Some(w) = wakeup {
            w.restore(py);
        }
        let outcome = driver
            .take_outcome()
            .ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("the job's outcome is missing"))?;
        match (interrupt, outcome) {
            (Some(e), Outcome::Cancelled) => Err(e),
            (_, outcome) => outcome_result(py, &driver, outcome),
        }
    }

    /// Starts the job on a thread of its own and returns its client at once.
    fn execute_async(&mut self) -> PyResult<JobClient> {
        Ok(JobClient::new(self.start_driver()?))
    }

    /// Starts the job and returns an iterator over what its collect node receives. The job
    /// checkpoints as configured, but is not restarted after a failure (the iterator raises).
    fn execute_and_collect(&mut self, py: Python<'_>) -> PyResult<CollectIterator> {
        let graph = self.take_graph()?;
        let job_id = new_job_id();
        let (setup, _) = self.first_setup(&job_id)?;
        let (job, external) = Self::start_run(py, &graph, &setup)?;
        let channels = external
            .into_iter()
            .flatten()
            .map(|receiver| InputChannel { receiver, input: 0 })
            .collect();
        Ok(CollectIterator::new(job, InputGate::new(channels), setup))
    }

    /// `FileSource`: `spec` is the Python source's spec (see `FileSourceSpec`).
    fn add_file_source(
        &mut self,
        name: String,
        parallelism: usize,
        spec: crate::bindings::connectors::file_source::FileSourceSpec,
    ) -> PyResult<NodeId> {
        let factory = crate::bindings::connectors::file_source::file_source_factory(&spec)?;
        self.add(name, parallelism, NodeKind::Source(factory), Vec::new())
    }

    /// `FileSink`: `spec` is the Python sink's spec (see `FileSinkSpec`). Without checkpoints
    /// the sink commits its files at the end of its input.
    fn add_file_sink(
        &mut self,
        name: String,
        parallelism: usize,
        spec: crate::bindings::connectors::file_sink::FileSinkSpec,
        inputs: Vec<InputSpec>,
    ) -> PyResult<NodeId> {
        let checkpointing = self.checkpointing.as_ref().is_some_and(|p| p.interval_ms.is_some());
        let factory = crate::bindings::connectors::file_sink::file_sink_factory(&spec, checkpointing)?;
        self.add(name, parallelism, NodeKind::Sink(factory), inputs)
    }
}
