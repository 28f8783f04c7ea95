//! `JobBuilder`: how the Python package hands a job's plan to the engine, node by node, and runs
//! it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::bindings::cancellation::warn_stuck;
use crate::bindings::checkpointing::{check_writable, new_job_id, CheckpointPlan};
use crate::bindings::collect::CollectIterator;
use crate::bindings::errors::{deploy_error, graph_error, job_error};
use crate::bindings::job_client::{outcome_result, JobClient};
use crate::bindings::job_driver::{JobDriver, JobRun, Outcome};
use crate::bindings::manual_run::ManualRun;
use crate::bindings::metrics::metrics_rows;
use crate::bindings::plan::operators::{
    aggregate_node, key_by_node, print_node, reduce_node, udf_node, watermarks_node, AggregateSpec, KeyBySpec,
    PrintSpec, ReduceSpec, UdfSpec, WatermarksSpec,
};
use crate::bindings::plan::sources::{source_node, SourceSpec};
use crate::bindings::plan::windows::{window_node, WindowSpec};
use crate::bindings::plan::{EdgeSpec, NodeSpec};
use crate::bindings::signals::SignalWakeup;
use crate::bindings::value::PyValue;
use crate::bindings::web::{announce, web_server, WebSpec};
use crate::checkpoint::coordinator::{CheckpointHistory, Coordinator};
use crate::checkpoint::restart::RestartStrategy;
use crate::connectors::manual_source::ManualFeed;
use crate::graph::execution_plan::execution_plan_json;
use crate::graph::stream_graph::{Chaining, JobConfig, NodeId, NodeKind, StreamGraph};
use crate::runtime::input_gate::{InputChannel, InputGate};
use crate::runtime::job::{CheckpointSetup, DeployedJob, ExternalOutputs, RunSetup};
use crate::runtime::job_handle::JobHandle;
use crate::runtime::output::FlushPolicy;
use crate::state::backend::{RocksDbBackendConfig, StateBackendConfig, DEFAULT_ROCKSDB_MEMORY};
use crate::time::clock::Clock;

/// `RuntimeSpec` (`_runtime_options.py`): how a job's tasks run.
#[derive(FromPyObject)]
pub struct RuntimeSpec {
    pub cancellation_timeout_ms: Option<u64>,
    pub channel_bytes: usize,
    pub metrics_enabled: bool,
    pub metrics_interval_ms: u64,
}

/// How long `execute()` waits for the job before it looks for a signal (without the interpreter).
const WAIT_SLICE: Duration = Duration::from_millis(20);
/// How often `execute(progress)` hands the job's metrics to `progress` while the job runs.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(500);

/// Hands the job's metrics now to `progress` (nothing before the job's tasks started).
fn report_progress(py: Python<'_>, driver: &JobDriver, progress: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    let Some(progress) = progress else {
        return Ok(());
    };
    let views = py.detach(|| driver.live_metrics());
    if views.is_empty() {
        return Ok(());
    }
    progress.call1((metrics_rows(py, &views)?,))?;
    Ok(())
}

/// Builds a job's plan, then runs it once (restarting it after failures when its restart
/// strategy says so).
#[pyclass(module = "ferroflow._engine")]
pub struct JobBuilder {
    graph: Option<StreamGraph<PyValue>>,
    /// Checkpoints, restore and restarts.
    checkpointing: Option<CheckpointPlan>,
    /// The feeds of test sources, in the order they were added.
    feeds: Vec<ManualFeed<PyValue>>,
    /// The iterators of `from_iterable` sources, marked spent when the job stops early.
    iterables: Vec<Py<PyAny>>,
    /// Where the job's dashboard listens (`rest.port`); None: no dashboard.
    web: Option<WebSpec>,
    /// Where keyed operators added from now on keep their state.
    state_backend: StateBackendConfig,
}

impl JobBuilder {
    fn graph(&mut self) -> PyResult<&mut StreamGraph<PyValue>> {
        self.graph
            .as_mut()
            .ok_or_else(|| PyValueError::new_err("this job was already executed; build a new one"))
    }

    fn add(&mut self, node: NodeSpec, kind: NodeKind<PyValue>) -> PyResult<NodeId> {
        let edges = node
            .inputs
            .into_iter()
            .map(EdgeSpec::into_edge)
            .collect::<PyResult<Vec<_>>>()?;
        self.graph()?
            .add_node(node.name, node.parallelism, kind, edges)
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

    /// Starts the job on its driver thread, and its dashboard's server first when the job has
    /// one (printing where it is when this job started it).
    fn start_driver(&mut self, py: Python<'_>) -> PyResult<JobDriver> {
        let job_id = new_job_id();
        let (setup, strategy) = self.first_setup(&job_id)?;
        let web = self.web.as_ref().map(web_server).transpose()?;
        let graph = self.take_graph()?;
        if let Some((server, true)) = &web {
            announce(py, &graph.config.name, &server.url)?;
        }
        let ignore_unclaimed = self.checkpointing.as_ref().is_some_and(|p| p.ignore_unclaimed);
        let savepoints = setup.checkpointing.as_ref().map(|_| crossbeam_channel::unbounded());
        JobDriver::start(
            JobRun {
                graph,
                job_id,
                setup,
                strategy,
                ignore_unclaimed,
                iterables: std::mem::take(&mut self.iterables),
                web: web.map(|(server, _)| server),
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
            iterables: Vec::new(),
            web: None,
            state_backend: StateBackendConfig::HashMap,
            graph: Some(StreamGraph::new(JobConfig {
                name: job_name,
                max_parallelism,
                chaining_enabled: chaining,
                flush: FlushPolicy {
                    batch_size,
                    buffer_timeout: Duration::from_millis(buffer_timeout_ms),
                    batch_bytes: usize::MAX,
                },
                channel_capacity,
                clock: Clock::System,
                cancellation_timeout: None,
                metrics: Default::default(),
            })),
        })
    }

    /// How the job's tasks run (`RuntimeSpec`): the cancellation timeout and the memory in
    /// flight per channel.
    fn set_runtime(&mut self, spec: RuntimeSpec) -> PyResult<()> {
        let config = &mut self.graph()?.config;
        config.cancellation_timeout = spec.cancellation_timeout_ms.map(Duration::from_millis);
        if spec.channel_bytes == 0 {
            return Err(PyValueError::new_err("the memory per channel must be at least 1 byte"));
        }
        // A channel holds `channel_capacity` batches: each is sent once it holds its share.
        config.flush.batch_bytes = (spec.channel_bytes / config.channel_capacity.max(1)).max(1);
        config.metrics.enabled = spec.metrics_enabled;
        config.metrics.history_interval = Duration::from_millis(spec.metrics_interval_ms.max(10));
        Ok(())
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

    /// A source node (`SourceSpec`).
    fn add_source(&mut self, py: Python<'_>, node: NodeSpec, spec: SourceSpec) -> PyResult<NodeId> {
        if spec.kind == "iterable" {
            self.iterables.push(spec.payload.clone_ref(py));
        }
        let kind = source_node(py, spec, node.parallelism, &mut self.feeds)?;
        self.add(node, kind)
    }

    /// An operator calling a user function (`UdfSpec`).
    fn add_udf(&mut self, node: NodeSpec, spec: UdfSpec) -> PyResult<NodeId> {
        let kind = udf_node(spec, &self.state_backend)?;
        self.add(node, kind)
    }

    fn add_key_by(&mut self, node: NodeSpec, spec: KeyBySpec) -> PyResult<NodeId> {
        self.add(node, key_by_node(spec))
    }

    fn add_reduce(&mut self, node: NodeSpec, spec: ReduceSpec) -> PyResult<NodeId> {
        let kind = reduce_node(spec, &self.state_backend);
        self.add(node, kind)
    }

    fn add_aggregate(&mut self, node: NodeSpec, spec: AggregateSpec) -> PyResult<NodeId> {
        let kind = aggregate_node(spec, &self.state_backend)?;
        self.add(node, kind)
    }

    fn add_print(&mut self, node: NodeSpec, spec: PrintSpec) -> PyResult<NodeId> {
        self.add(node, print_node(spec))
    }

    /// `assign_timestamps_and_watermarks` (`WatermarksSpec`).
    fn add_watermarks(&mut self, node: NodeSpec, spec: WatermarksSpec) -> PyResult<NodeId> {
        self.add(node, watermarks_node(spec)?)
    }

    /// A window operator (`WindowSpec`).
    fn add_window(&mut self, py: Python<'_>, node: NodeSpec, spec: WindowSpec) -> PyResult<NodeId> {
        let kind = window_node(py, spec, &self.state_backend)?;
        self.add(node, kind)
    }

    /// Where `execute_and_collect` reads from: as many subtasks as its input has.
    fn add_collect(&mut self, node: NodeSpec) -> PyResult<NodeId> {
        let parallelism = match node.inputs.first() {
            Some(edge) => self.graph()?.nodes.get(edge.source).map_or(1, |n| n.parallelism),
            None => 1,
        };
        let node = NodeSpec { parallelism, ..node };
        self.add(node, NodeKind::External)
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

    /// The key groups of the node's keyed state (`DataStream.set_max_parallelism`).
    fn set_max_parallelism(&mut self, node: NodeId, max_parallelism: usize) -> PyResult<()> {
        self.graph()?
            .set_max_parallelism(node, max_parallelism)
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// How long the node's output may wait in a partly filled batch, in ms
    /// (`DataStream.set_buffer_timeout`). A job run by hand sends every record at once anyway.
    fn set_buffer_timeout(&mut self, node: NodeId, buffer_timeout_ms: u64) -> PyResult<()> {
        let graph = self.graph()?;
        if !matches!(graph.config.clock, Clock::Manual(_)) {
            graph.node_mut(node).buffer_timeout = Some(Duration::from_millis(buffer_timeout_ms));
        }
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

    /// Serves the job's dashboard and REST API at `spec` (`rest.address`, `rest.port`).
    fn set_web(&mut self, spec: WebSpec) {
        self.web = Some(spec);
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
    /// `checkpoints`. `progress`, when given, is called with the job's metrics rows (as
    /// `JobClient.metrics()` gives them) every half second while the job runs and once at its
    /// end; an exception it raises cancels the job and is raised here.
    #[pyo3(signature = (progress=None))]
    fn execute<'py>(&mut self, py: Python<'py>, progress: Option<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyDict>> {
        // The wakeup first: once the job runs, leaving early would drop it with the
        // interpreter held, and its task threads need the interpreter to stop.
        let mut wakeup = SignalWakeup::install(py)?;
        let started = self.start_driver(py);
        let driver = match started {
            Ok(d) => d,
            Err(e) => {
                if let Some(w) = wakeup {
                    w.restore(py);
                }
                return Err(e);
            }
        };
        let mut interrupt = None;
        let mut reported = Instant::now();
        while !py.detach(|| driver.wait_timeout(WAIT_SLICE)) {
            if interrupt.is_none() && reported.elapsed() >= PROGRESS_INTERVAL {
                reported = Instant::now();
                if let Err(e) = report_progress(py, &driver, progress.as_ref()) {
                    driver.cancel();
                    interrupt = Some(e);
                }
            }
            // Only the main thread handles signals; a byte on the wakeup pipe says one came.
            // The first Ctrl-C cancels the job; a second one stops waiting for tasks stuck in
            // user code.
            if wakeup.as_mut().is_some_and(|w| w.triggered()) {
                if let Err(e) = py.check_signals() {
                    if interrupt.is_none() {
                        driver.cancel();
                        interrupt = Some(e);
                    } else {
                        driver.abandon();
                    }
                }
            }
        }
        if let Some(w) = wakeup {
            w.restore(py);
        }
        // The last figures, once the job ended (a bar then shows where it stopped).
        let last_report = match interrupt {
            None => report_progress(py, &driver, progress.as_ref()),
            Some(_) => Ok(()),
        };
        let outcome = driver
            .take_outcome()
            .ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("the job's outcome is missing"))?;
        let result = match (interrupt, outcome) {
            (Some(e), Outcome::Cancelled) => warn_stuck(py, &driver.take_stuck(), Err(e)),
            (_, outcome) => outcome_result(py, &driver, outcome),
        }?;
        last_report?;
        Ok(result)
    }

    /// Starts the job on a thread of its own and returns its client at once.
    fn execute_async(&mut self, py: Python<'_>) -> PyResult<JobClient> {
        Ok(JobClient::new(self.start_driver(py)?))
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
        let timeout = graph.config.cancellation_timeout;
        let interval = graph.config.metrics.history_interval;
        let iterables = std::mem::take(&mut self.iterables);
        Ok(CollectIterator::new(
            job,
            InputGate::new(channels),
            setup,
            timeout,
            iterables,
            interval,
        ))
    }

    /// `FileSource`: `spec` is the Python source's spec (see `FileSourceSpec`).
    fn add_file_source(
        &mut self,
        node: NodeSpec,
        spec: crate::bindings::connectors::file_source::FileSourceSpec,
    ) -> PyResult<NodeId> {
        let factory = crate::bindings::connectors::file_source::file_source_factory(&spec)?;
        self.add(node, NodeKind::Source(factory))
    }

    /// `FileSink`: `spec` is the Python sink's spec (see `FileSinkSpec`). Without checkpoints
    /// the sink commits its files at the end of its input.
    fn add_file_sink(
        &mut self,
        node: NodeSpec,
        spec: crate::bindings::connectors::file_sink::FileSinkSpec,
    ) -> PyResult<NodeId> {
        let checkpointing = self.checkpointing.as_ref().is_some_and(|p| p.interval_ms.is_some());
        let factory = crate::bindings::connectors::file_sink::file_sink_factory(&spec, checkpointing)?;
        self.add(node, NodeKind::Sink(factory))
    }
}
