"""StreamExecutionEnvironment: where a pipeline starts, and what runs it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ferroflow import _engine
from ferroflow._plan_view import PlanView
from ferroflow._progress import PROGRESS_KEY, ProgressIterator, check_progress, progress_for
from ferroflow.common._durations import parse_millis
from ferroflow.common.configuration import Configuration
from ferroflow.common.execution_config import ExecutionConfig
from ferroflow.common.job_client import JobClient
from ferroflow.common.job_execution_result import JobExecutionResult
from ferroflow.common.restart_strategy import RestartStrategyConfiguration
from ferroflow.common.typeinfo import TypeInformation
from ferroflow.common.watermark_strategy import WatermarkStrategy
from ferroflow.datastream._checkpoint_options import apply_checkpoint_options
from ferroflow.datastream._checkpoint_plan import CheckpointPlan, make_plan
from ferroflow.datastream._checkpoint_settings import CheckpointSettings
from ferroflow.datastream._checks import (
    check_buffer_timeout,
    check_max_parallelism,
    check_parallelism,
    check_type_info,
    effective_buffer_timeout,
)
from ferroflow.datastream._iterables import check_not_spent
from ferroflow.datastream._job import build_job
from ferroflow.datastream._local_paths import local_path
from ferroflow.datastream._runtime_options import runtime_spec
from ferroflow.datastream._transformations import Transformation
from ferroflow.datastream._udf import describe
from ferroflow.datastream._web_options import web_spec
from ferroflow.datastream.checkpoint_config import CheckpointConfig, check_interval
from ferroflow.datastream.checkpointing_mode import CheckpointingMode
from ferroflow.datastream.connectors._file_source import FileSource, file_source_stream
from ferroflow.datastream.connectors.number_seq import NumberSequenceSource
from ferroflow.datastream.connectors.rewindable import RewindableSource
from ferroflow.datastream.data_stream import DataStream, DataStreamSink
from ferroflow.datastream.execution_mode import RuntimeExecutionMode, parse_mode
from ferroflow.datastream.python_dependencies import PythonDependencies
from ferroflow.datastream.slot_sharing_group import SlotSharingGroup
from ferroflow.datastream.state_backend import (
    EmbeddedRocksDBStateBackend,
    HashMapStateBackend,
    StateBackend,
    backend_from_type,
)

__all__ = ["StreamExecutionEnvironment"]

DEFAULT_JOB_NAME = "Flink Streaming Job"
DEFAULT_BUFFER_TIMEOUT_MS = 100
DEFAULT_BATCH_SIZE = 1024
DEFAULT_CHANNEL_CAPACITY = 8


def _millis(value: str, key: str) -> int:
    """A Flink duration string ("100 ms", "2 s", "100") as milliseconds."""
    return parse_millis(value, f"configuration key {key!r}")


class StreamExecutionEnvironment:
    """The context a streaming program runs in: create sources from it, then ``execute()``.

    Jobs run in this process, on one thread per parallel subtask. The default parallelism is 1:
    Python functions run under the interpreter lock, so more subtasks only pay off for work that
    releases it.
    """

    # What a new environment's parallelism is when ``parallelism.default`` does not say
    # (``set_default_local_parallelism``; process-wide, as Flink's is).
    _default_local_parallelism = 1

    def __init__(self, configuration: Configuration | None = None) -> None:
        self._config = ExecutionConfig()
        self._configuration = Configuration(configuration) if configuration is not None else Configuration()
        self._default_parallelism = StreamExecutionEnvironment._default_local_parallelism
        self._changelog: bool | None = None
        self._max_parallelism: int | None = None
        self._buffer_timeout = DEFAULT_BUFFER_TIMEOUT_MS
        self._chaining = True
        self._state_backend: StateBackend = HashMapStateBackend()
        self._sinks: list[Transformation] = []
        self._checkpointing = CheckpointSettings()
        self._progress = "auto"
        self._runtime_mode = RuntimeExecutionMode.STREAMING
        self._dependencies = PythonDependencies()
        self._apply_configuration(self._configuration)

    if not TYPE_CHECKING:  # type checkers keep reporting unknown attributes

        def __getattr__(self, name: str) -> Any:
            # PyFlink's methods that take Java objects: say what to use instead.
            if name in ("add_source", "create_input"):
                from ferroflow.pyflink_import import PyFlinkMemberNotSupportedError, _not_supported

                raise PyFlinkMemberNotSupportedError(_not_supported(f"StreamExecutionEnvironment.{name}"))
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}", name=name, obj=self)

    @staticmethod
    def get_execution_environment(configuration: Configuration | None = None) -> StreamExecutionEnvironment:
        """A new environment, configured by ``configuration`` if given."""
        if configuration is not None and not isinstance(configuration, Configuration):
            raise TypeError(f"configuration must be a Configuration, got {describe(configuration)}")
        return StreamExecutionEnvironment(configuration)

    def _apply_configuration(self, conf: Configuration) -> None:
        if conf.contains_key("parallelism.default"):
            self.set_parallelism(conf.get_integer("parallelism.default", 1))
        if conf.contains_key("pipeline.max-parallelism"):
            self.set_max_parallelism(conf.get_integer("pipeline.max-parallelism", 128))
        if conf.contains_key("execution.buffer-timeout"):
            self.set_buffer_timeout(_millis(conf.get_string("execution.buffer-timeout", "100") or "100", "execution.buffer-timeout"))
        if conf.contains_key("pipeline.operator-chaining.enabled") and not conf.get_boolean(
            "pipeline.operator-chaining.enabled", True
        ):
            self.disable_operator_chaining()
        if conf.contains_key("pipeline.auto-watermark-interval"):
            interval = conf.get_string("pipeline.auto-watermark-interval", "200") or "200"
            self._config.set_auto_watermark_interval(_millis(interval, "pipeline.auto-watermark-interval"))
        if conf.contains_key("state.backend.type"):
            self.set_state_backend(backend_from_type(conf.get_string("state.backend.type", "hashmap") or "hashmap"))
        backend = self._state_backend
        if isinstance(backend, EmbeddedRocksDBStateBackend):
            if conf.contains_key("state.backend.rocksdb.localdir"):
                backend.set_db_storage_path(conf.get_string("state.backend.rocksdb.localdir", "") or "")
            if conf.contains_key("state.backend.rocksdb.memory.fixed-per-slot"):
                backend.set_memory_budget(conf.get_string("state.backend.rocksdb.memory.fixed-per-slot", "") or "")
        if conf.contains_key("pipeline.global-job-parameters"):
            raw = conf.get_string("pipeline.global-job-parameters", "") or ""
            pairs = dict(p.split(":", 1) for p in raw.split(",") if ":" in p)
            self._config.set_global_job_parameters({k.strip(): v.strip() for k, v in pairs.items()})
        if conf.contains_key(PROGRESS_KEY):
            self.set_progress(conf.get_string(PROGRESS_KEY, "auto") or "auto")
        if conf.contains_key("execution.runtime-mode"):
            mode = conf.get_string("execution.runtime-mode", "STREAMING")
            self._runtime_mode = parse_mode(mode, "configuration key 'execution.runtime-mode'")
        if conf.contains_key("state.changelog.enabled"):
            self._changelog = conf.get_boolean("state.changelog.enabled", False)
        self._dependencies.configure(conf)
        apply_checkpoint_options(self._checkpointing, conf)
        # Read now, so that a value that cannot work is refused where it is set.
        runtime_spec(self._configuration)
        web_spec(self._configuration)

    def configure(self, configuration: Configuration) -> None:
        """Applies the keys of ``configuration`` (e.g. ``parallelism.default``)."""
        if not isinstance(configuration, Configuration):
            raise TypeError(f"configure() takes a Configuration, got {describe(configuration)}")
        self._configuration.add_all(configuration)
        self._apply_configuration(configuration)

    # -- settings -------------------------------------------------------------------------------

    def get_config(self) -> ExecutionConfig:
        return self._config

    def get_default_local_parallelism(self) -> int:
        """The parallelism environments start with when ``parallelism.default`` does not say
        (1 unless ``set_default_local_parallelism`` changed it; PyFlink's is the number of CPU
        cores)."""
        return StreamExecutionEnvironment._default_local_parallelism

    def set_default_local_parallelism(self, parallelism: int) -> None:
        """Sets the parallelism of the environments created from now on in this process (as in
        Flink, not this one's: use ``set_parallelism`` for that)."""
        StreamExecutionEnvironment._default_local_parallelism = check_parallelism(parallelism, "default local parallelism")

    def set_default_savepoint_directory(self, directory: str) -> StreamExecutionEnvironment:
        """Where ``JobClient.trigger_savepoint()`` and ``stop_with_savepoint()`` write when they
        are given no directory (a local path or file:// URI), as
        ``execution.checkpointing.savepoint-dir`` says."""
        self._checkpointing.savepoint_dir = local_path(directory, "default savepoint directory")
        return self

    def get_default_savepoint_directory(self) -> str | None:
        """The default savepoint directory (an absolute path), None when none is set."""
        return self._checkpointing.savepoint_dir

    def enable_changelog_state_backend(self, enabled: bool) -> StreamExecutionEnvironment:
        """Accepted and reported by ``is_changelog_state_backend_enabled()`` (also
        ``state.changelog.enabled``). It changes nothing here: ferroflow's checkpoints are local
        and the RocksDB backend's are already incremental."""
        if not isinstance(enabled, bool):
            raise TypeError(f"enable_changelog_state_backend() takes a bool, got {describe(enabled)}")
        self._changelog = enabled
        return self

    def is_changelog_state_backend_enabled(self) -> bool | None:
        """What ``enable_changelog_state_backend`` said; None when it was never called."""
        return self._changelog

    def set_state_backend(self, state_backend: StateBackend) -> StreamExecutionEnvironment:
        """Where keyed state lives: ``HashMapStateBackend()`` (the default, Python objects in
        memory) or ``EmbeddedRocksDBStateBackend()`` (serialized, on local disk, for state larger
        than memory). Results are the same on both."""
        if not isinstance(state_backend, StateBackend):
            raise TypeError(
                "set_state_backend() takes a HashMapStateBackend or an EmbeddedRocksDBStateBackend, "
                f"got {describe(state_backend)}"
            )
        self._state_backend = state_backend
        return self

    def get_state_backend(self) -> StateBackend:
        return self._state_backend

    def set_parallelism(self, parallelism: int) -> StreamExecutionEnvironment:
        """The default parallelism of operators (default 1)."""
        self._default_parallelism = check_parallelism(parallelism)
        return self

    def get_parallelism(self) -> int:
        return self._default_parallelism

    def set_max_parallelism(self, max_parallelism: int) -> StreamExecutionEnvironment:
        """The number of key groups keyed state is split into (default 128): the upper bound of
        any operator's parallelism, now and when restoring at another parallelism."""
        max_parallelism = check_max_parallelism(max_parallelism)
        self._max_parallelism = max_parallelism
        self._config.set_max_parallelism(max_parallelism)
        return self

    def get_max_parallelism(self) -> int:
        return self._max_parallelism if self._max_parallelism is not None else _engine.DEFAULT_MAX_PARALLELISM

    def set_buffer_timeout(self, timeout_millis: int) -> StreamExecutionEnvironment:
        """How long (ms) records may wait in a partly filled batch before it is sent on
        (default 100). 0 sends after every step, -1 only when a batch is full."""
        self._buffer_timeout = check_buffer_timeout(timeout_millis)
        return self

    def get_buffer_timeout(self) -> int:
        return self._buffer_timeout

    def _effective_buffer_timeout(self) -> int:
        return effective_buffer_timeout(self._buffer_timeout)

    def _batch_size(self) -> int:
        return self._configuration.get_integer("python.fn-execution.bundle.size", DEFAULT_BATCH_SIZE)

    def _channel_capacity(self) -> int:
        return DEFAULT_CHANNEL_CAPACITY

    def _job_parameters(self) -> dict[str, str]:
        return self._config.get_global_job_parameters()

    def set_progress(self, progress: bool | str) -> StreamExecutionEnvironment:
        """Whether ``execute()`` and ``execute_and_collect()`` show a progress bar (tqdm):
        ``"auto"`` (default: in a Jupyter kernel, not in pytest or a plain script), ``True`` or
        ``False``; the configuration key ``ferroflow.progress`` says the same."""
        self._progress = check_progress(progress)
        return self

    def set_runtime_mode(self, execution_mode: RuntimeExecutionMode) -> StreamExecutionEnvironment:
        """STREAMING (the default), BATCH or AUTOMATIC (BATCH when every source is bounded).
        In BATCH mode a keyed ``reduce`` or ``sum``/``min``/``max``/``min_by``/``max_by`` emits
        only each key's final value, event-time windows and timers fire at the end of the input,
        and checkpointing is off (``ferroflow.datastream.execution_mode``)."""
        self._runtime_mode = parse_mode(execution_mode, "set_runtime_mode()")
        return self

    def _get_runtime_mode(self) -> RuntimeExecutionMode:
        return self._runtime_mode

    # -- Python dependencies (PyFlink ships them to its workers; here they are local) ----------

    def add_python_file(self, file_path: str) -> None:
        """Puts ``file_path`` (a .py file, a package directory, or a .zip/.whl/.egg) on
        ``sys.path``, so that user functions can import it."""
        self._dependencies.add_python_file(file_path)

    def set_python_requirements(self, requirements_file_path: str, requirements_cache_dir: str | None = None) -> None:
        """Accepted; checks that the requirements file exists. ferroflow runs user functions in
        this interpreter, so the requirements must already be installed in it."""
        self._dependencies.set_python_requirements(requirements_file_path, requirements_cache_dir)

    def add_python_archive(self, archive_path: str, target_dir: str | None = None) -> None:
        """Extracts the archive (.zip, .tar, .tar.gz, ...) into a temporary directory (into
        ``target_dir`` inside it) and puts that directory on ``sys.path``."""
        self._dependencies.add_python_archive(archive_path, target_dir)

    def set_python_executable(self, python_exec: str) -> None:
        """Accepted and recorded (``python.executable``); user functions run in this interpreter."""
        self._dependencies.set_python_executable(python_exec)
        self._configuration.set_string("python.executable", python_exec)

    def add_jars(self, *jars_path: str) -> None:
        """Accepted and recorded (``pipeline.jars``); ferroflow runs no JVM, so jars are not used."""
        self._dependencies.add_jars("pipeline.jars", jars_path)

    def add_classpaths(self, *classpaths: str) -> None:
        """Accepted and recorded (``pipeline.classpaths``); ferroflow runs no JVM."""
        self._dependencies.add_jars("pipeline.classpaths", classpaths)

    def disable_operator_chaining(self) -> StreamExecutionEnvironment:
        """Runs every operator in a task (thread) of its own."""
        self._chaining = False
        return self

    def is_chaining_enabled(self) -> bool:
        return self._chaining

    def is_chaining_of_operators_with_different_max_parallelism_enabled(self) -> bool:
        """True: ferroflow chains operators whatever their max parallelism (each operator keeps
        its own key groups inside the chain)."""
        return True

    def register_slot_sharing_group(self, slot_sharing_group: SlotSharingGroup) -> StreamExecutionEnvironment:
        """Accepted for compatibility: every task runs in this process, so slots do not apply."""
        if not isinstance(slot_sharing_group, SlotSharingGroup):
            raise TypeError(
                "register_slot_sharing_group() takes a SlotSharingGroup (SlotSharingGroup.builder(name)...build()), "
                f"got {describe(slot_sharing_group)}"
            )
        return self

    def register_cached_file(self, file_path: str, name: str, executable: bool = False) -> None:
        """Registers a local file (a path or file:// URI) under ``name``. User functions run in
        this process and read it where it is; it must exist, and no other file may have the name."""
        self._dependencies.register_cached_file(file_path, name, executable)

    # -- checkpointing and restarts ---------------------------------------------------------------

    def enable_checkpointing(self, interval: int, mode: CheckpointingMode | None = None) -> StreamExecutionEnvironment:
        """Takes a checkpoint every ``interval`` ms (int > 0, or Duration/timedelta), in ``mode``
        (default: the config's, ``EXACTLY_ONCE``). Further settings: ``get_checkpoint_config()``.
        With checkpointing on, a failed job restarts from its latest checkpoint (see
        ``set_restart_strategy``); checkpoints go to ``execution.checkpointing.dir``."""
        millis = check_interval(interval, "interval")
        if mode is not None:
            self._checkpointing.config.set_checkpointing_mode(mode)
        self._checkpointing.config.set_checkpoint_interval(millis)
        return self

    def get_checkpoint_config(self) -> CheckpointConfig:
        return self._checkpointing.config

    def get_checkpoint_interval(self) -> int:
        """The checkpoint interval in ms, -1 when checkpointing is off (the default)."""
        return self._checkpointing.config.get_checkpoint_interval()

    def get_checkpointing_mode(self) -> CheckpointingMode:
        return self._checkpointing.config.get_checkpointing_mode()

    get_checkpointing_consistency_mode = get_checkpointing_mode

    def is_unaligned_checkpoints_enabled(self) -> bool:
        return self._checkpointing.config.is_unaligned_checkpoints_enabled()

    def is_force_unaligned_checkpoints(self) -> bool:
        return self._checkpointing.config.is_force_unaligned_checkpoints()

    def set_restart_strategy(self, restart_strategy_configuration: RestartStrategyConfiguration) -> None:
        """What a failed job does: ``RestartStrategies.no_restart()``, ``fixed_delay_restart``,
        ``failure_rate_restart``, ``exponential_delay_restart`` or ``fall_back_restart()``. The
        default and the fallback: no restart without checkpointing; with it, exponential delay
        bounded to 5 restarts (``ferroflow.common.restart_strategy``)."""
        if not isinstance(restart_strategy_configuration, RestartStrategyConfiguration):
            raise TypeError(
                "set_restart_strategy() takes a restart strategy from RestartStrategies (e.g. "
                f"RestartStrategies.fixed_delay_restart(3, 1000)), got {describe(restart_strategy_configuration)}"
            )
        self._checkpointing.restart = restart_strategy_configuration
        self._checkpointing.restart_from_options = False

    def get_restart_strategy(self) -> RestartStrategyConfiguration:
        """The strategy set (``fall_back_restart()`` when none is)."""
        return self._checkpointing.restart

    def _checkpoint_plan(self) -> CheckpointPlan:
        """Checkpointing, restoring and restarting, as the engine reads them."""
        return make_plan(self._checkpointing)

    # -- sources --------------------------------------------------------------------------------

    def _source(self, name: str, kind: str, payload: Any, parallelism: int | None, fixed: bool, type_info: TypeInformation | None) -> DataStream:
        t = Transformation(
            kind="source",
            name=name,
            source_kind=kind,
            payload=payload,
            parallelism=parallelism,
            parallelism_fixed=fixed,
            output_type=type_info,
        )
        return DataStream(self, [t.main_part()], type_info)

    def from_collection(self, collection: Iterable[Any], type_info: TypeInformation | None = None) -> DataStream:
        """A bounded stream of the elements of ``collection``, in order (parallelism 1)."""
        if isinstance(collection, (str, bytes)) or not hasattr(collection, "__iter__"):
            raise TypeError(f"from_collection() takes a list (or another collection), got {describe(collection)}")
        check_type_info(type_info, "type_info")
        elements = list(collection)
        if type_info is not None:
            # As in PyFlink, the elements become values of their type: Rows for a ROW type,
            # float32 values for FLOAT, ints wrapped to the type's width, ...
            elements = [type_info._round_trip(e) for e in elements]
        return self._source("Source: Collection Source", "collection", elements, 1, True, type_info)

    def from_iterable(
        self, iterable: Iterable[Any] | Callable[[], Iterable[Any]], type_info: TypeInformation | None = None
    ) -> DataStream:
        """A stream of whatever ``iterable`` yields: a generator, a file, any iterator; bounded or
        not (parallelism 1). The iterator is read on a thread of the job's own, a little ahead
        of the job, so a call that blocks inside it (``queue.get()``, a socket read) never holds
        back the records before it or keeps the job from stopping.

        A generator is used up by the first job that reads it. A job that stops before its end
        (``execute_and_collect(limit=...)``, a cancel, a failure) may have read items it did not
        deliver: the iterator is then spent, and ``from_iterable`` refuses it. Pass a function
        that returns the iterable instead (a generator function, ``lambda: open(path)``) to get
        a fresh one each time the job runs."""
        if callable(iterable) and not hasattr(iterable, "__iter__"):
            return self._source("Source: Iterable Source", "iterable", iterable, 1, True, check_type_info(type_info, "type_info"))
        if isinstance(iterable, (str, bytes)) or not hasattr(iterable, "__iter__"):
            raise TypeError(
                f"from_iterable() takes an iterable (a generator, a list, ...) or a function returning one, "
                f"got {describe(iterable)}"
            )
        check_type_info(type_info, "type_info")
        check_not_spent(iterable)
        return self._source("Source: Iterable Source", "iterable", iterable, 1, True, type_info)

    def from_source(
        self,
        source: Any,
        watermark_strategy: Any = None,
        source_name: str = "Source",
        type_info: TypeInformation | None = None,
    ) -> DataStream:
        """A stream from a source connector (``NumberSequenceSource``, ``FileSource``) or a
        ``RewindableSource`` of your own."""
        if not isinstance(source, (NumberSequenceSource, FileSource, RewindableSource)):
            raise TypeError(
                "from_source() takes a source such as NumberSequenceSource, FileSource or a "
                f"RewindableSource, got {describe(source)}"
            )
        if not isinstance(source_name, str):
            raise TypeError(f"source_name must be a str, got {describe(source_name)}")
        check_type_info(type_info, "type_info")
        if isinstance(source, FileSource):
            stream = file_source_stream(self, source, source_name, type_info)
        elif isinstance(source, RewindableSource):
            stream = self._source(source_name, "rewindable", source._engine_payload(), None, False, type_info)
        else:
            stream = self._source(source_name, "sequence", (source.get_from(), source.get_to()), None, False, type_info)
        if watermark_strategy is None:
            return stream
        if not isinstance(watermark_strategy, WatermarkStrategy):
            raise TypeError(f"from_source() takes a WatermarkStrategy, got {describe(watermark_strategy)}")
        kind, _delay, assigner, _idle, _per_record, _factory = watermark_strategy._engine_spec()
        if kind == "none" and assigner is None:
            return stream
        return stream.assign_timestamps_and_watermarks(watermark_strategy)

    # -- running --------------------------------------------------------------------------------

    def _add_sink(self, t: Transformation) -> DataStreamSink:
        self._sinks.append(t)
        return DataStreamSink(t)

    def _take_sinks(self) -> list[Transformation]:
        sinks, self._sinks = self._sinks, []
        return sinks

    def get_execution_plan(self) -> str:
        """The plan of the pipeline built so far, as JSON (nodes with their parallelism, the
        partitioning of each input, and the task each node is chained into)."""
        return build_job(self, self._sinks, DEFAULT_JOB_NAME).plan_json()

    def plan(self) -> PlanView:
        """The plan of the pipeline built so far as a graph: in Jupyter it is drawn (tasks as
        boxes of their chained operators, with their parallelism; edges labelled with their
        partitioning and side output); ``print()`` shows it as text."""
        return PlanView(self.get_execution_plan())

    def execute(self, job_name: str | None = None) -> JobExecutionResult:
        """Runs every sink added since the last execute, to the end of the input. Ctrl-C stops
        the job and raises KeyboardInterrupt; an exception in a user function stops it and is
        raised here, with a note naming the operator."""
        name = job_name if job_name is not None else DEFAULT_JOB_NAME
        if not isinstance(name, str):
            raise TypeError(f"job_name must be a str, got {describe(job_name)}")
        builder = build_job(self, self._sinks, name)
        progress = progress_for(self._progress, builder.plan_json, name)
        self._sinks = []
        try:
            summary = builder.execute() if progress is None else builder.execute(progress.update)
        except BaseException as error:
            # A failed job's figures stay readable from the error's job_result.
            JobExecutionResult.attach_to(error, name)
            raise
        finally:
            if progress is not None:
                progress.close()
        return JobExecutionResult.from_summary(name, summary)

    def execute_async(self, job_name: str | None = None) -> JobClient:
        """Starts every sink added since the last execute and returns at once with the job's
        ``JobClient``: its status, ``cancel()``, savepoints, and
        ``get_job_execution_result().result()`` to wait for the end. A job still running when
        the interpreter exits is cancelled."""
        name = job_name if job_name is not None else DEFAULT_JOB_NAME
        if not isinstance(name, str):
            raise TypeError(f"job_name must be a str, got {describe(job_name)}")
        builder = build_job(self, self._sinks, name)
        self._sinks = []
        plan = builder.plan_json()
        return JobClient(builder.execute_async(), name, self._checkpointing.savepoint_dir, plan)

    def _execute_and_collect(
        self, collect: Transformation, job_name: str | None
    ) -> _engine.CollectIterator | ProgressIterator:
        name = job_name if job_name is not None else DEFAULT_JOB_NAME
        builder = build_job(self, self._take_sinks() + [collect], name)
        progress = progress_for(self._progress, builder.plan_json, name)
        if progress is None:
            return builder.execute_and_collect()
        try:
            return ProgressIterator(builder.execute_and_collect(), progress)
        except BaseException:
            progress.close()
            raise

    def close(self) -> None:
        """Drops sinks that were added but never executed."""
        self._sinks = []
