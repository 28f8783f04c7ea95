"""What a ferroflow program may use that PyFlink does not have, and what becomes of it on Flink.

Each entry is either translated to PyFlink's equivalent when the program runs on a cluster
(``translated=True``) or reported before submission. ``ferroflow check`` and the import hook of
``ferroflow run --target remote`` both read these tables.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MEMBERS", "MODULES", "NAMES", "RELOCATED", "Feature"]


@dataclass(frozen=True)
class Feature:
    what: str
    why: str
    translated: bool = False


# ferroflow modules that PyFlink has no counterpart of.
MODULES: dict[str, Feature] = {
    "ferroflow.testing": Feature(
        "the test harness ferroflow.testing", "it drives ferroflow's engine in-process (manual time, collected output)"
    ),
    "ferroflow.testing.harness": Feature(
        "the test harness ferroflow.testing", "it drives ferroflow's engine in-process (manual time, collected output)"
    ),
    "ferroflow.testing.pytest_plugin": Feature(
        "ferroflow's pytest fixtures", "they drive ferroflow's engine in-process"
    ),
    "ferroflow.datastream.checkpoints": Feature(
        "ferroflow's checkpoint inspection (latest_checkpoint, check_checkpoint)",
        "Flink's checkpoints are the cluster's; see its REST API /jobs/<id>/checkpoints",
    ),
    "ferroflow.datastream.two_phase_commit_sink": Feature(
        "TwoPhaseCommitSinkFunction", "PyFlink has no Python two-phase-commit sinks"
    ),
    "ferroflow.datastream.checkpointed_function": Feature(
        "CheckpointedFunction", "PyFlink has no Python CheckpointedFunction; use keyed or operator state"
    ),
    "ferroflow.datastream.connectors.rewindable": Feature(
        "RewindableSource (a source written in Python)", "PyFlink's sources are Java sources"
    ),
}

_PY_GENERATOR = "PyFlink has no watermark generators written in Python; use for_bounded_out_of_orderness or for_monotonous_timestamps"

# (ferroflow module, name) for names that PyFlink's module of the same path lacks.
NAMES: dict[tuple[str, str], Feature] = {
    ("ferroflow.common", "WatermarkGenerator"): Feature("a watermark generator written in Python", _PY_GENERATOR),
    ("ferroflow.common.watermark_strategy", "WatermarkGenerator"): Feature(
        "a watermark generator written in Python", _PY_GENERATOR
    ),
    ("ferroflow.datastream", "TwoPhaseCommitSinkFunction"): MODULES["ferroflow.datastream.two_phase_commit_sink"],
    ("ferroflow.datastream", "CheckpointedFunction"): MODULES["ferroflow.datastream.checkpointed_function"],
    ("ferroflow.datastream.functions", "CheckpointedFunction"): MODULES["ferroflow.datastream.checkpointed_function"],
    ("ferroflow.datastream", "FunctionInitializationContext"): MODULES["ferroflow.datastream.checkpointed_function"],
    ("ferroflow.datastream", "FunctionSnapshotContext"): MODULES["ferroflow.datastream.checkpointed_function"],
    ("ferroflow.datastream", "latest_checkpoint"): MODULES["ferroflow.datastream.checkpoints"],
    ("ferroflow.datastream", "check_checkpoint"): MODULES["ferroflow.datastream.checkpoints"],
    ("ferroflow.datastream.connectors", "RewindableSource"): MODULES["ferroflow.datastream.connectors.rewindable"],
}

# Names that PyFlink has under another module (or name) of its own: the hook finds them there.
RELOCATED: dict[str, tuple[str, str]] = {
    "AllWindowFunction": ("pyflink.datastream.functions", "AllWindowFunction"),
    "ProcessAllWindowFunction": ("pyflink.datastream.functions", "ProcessAllWindowFunction"),
    "BaseBroadcastProcessFunction": ("pyflink.datastream.functions", "BaseBroadcastProcessFunction"),
    "Function": ("pyflink.datastream.functions", "Function"),
    "AllWindowedStream": ("pyflink.datastream.data_stream", "AllWindowedStream"),
    "CloseableIterator": ("pyflink.datastream.data_stream", "CloseableIterator"),
    "TimestampAssigner": ("pyflink.common.watermark_strategy", "TimestampAssigner"),
    "DefaultRollingPolicy": ("pyflink.datastream.connectors.file_system", "DefaultRollingPolicy"),
    "OnCheckpointRollingPolicy": ("pyflink.datastream.connectors.file_system", "OnCheckpointRollingPolicy"),
    "ExternalizedCheckpointCleanup": (
        "pyflink.datastream.externalized_checkpoint_retention",
        "ExternalizedCheckpointRetention",
    ),
}

_METRICS = "Flink shows a job's metrics in its web UI and REST API (/jobs/<id>/metrics)"
_CONFIG_RESTART = "Flink 2 sets it in the configuration: restart-strategy.type"
_CONFIG_BACKEND = "Flink 2 sets it in the configuration: state.backend.type"
_CONFIG_TYPES = "Flink 2 registers types in the configuration: pipeline.serialization-config"

# Methods and attributes of ferroflow's classes that PyFlink's lack, by the name a program calls.
MEMBERS: dict[str, Feature] = {
    "from_iterable": Feature(
        "env.from_iterable",
        "becomes from_collection on Flink; the iterable must be finite (a list, tuple, range, set or dict)",
        translated=True,
    ),
    "with_per_record_emission": Feature(
        "per-record watermarks (with_per_record_emission)",
        "Flink emits watermarks periodically (pipeline.auto-watermark-interval)",
    ),
    "for_generator": Feature("WatermarkStrategy.for_generator", _PY_GENERATOR),
    "metrics": Feature("JobClient.metrics()", _METRICS),
    "get_metrics": Feature("JobExecutionResult.get_metrics()", _METRICS),
    "get_metrics_history": Feature("JobExecutionResult.get_metrics_history()", _METRICS),
    "get_task_metrics": Feature("JobExecutionResult.get_task_metrics()", _METRICS),
    "get_restarts": Feature("JobExecutionResult.get_restarts()", _METRICS),
    "get_checkpoints": Feature("get_checkpoints()", "Flink's checkpoints are listed by its REST API"),
    "to_pandas": Feature("to_pandas()", "PyFlink's DataStream has no pandas conversion"),
    "set_restart_strategy": Feature("env.set_restart_strategy", _CONFIG_RESTART),
    "get_restart_strategy": Feature("env.get_restart_strategy", _CONFIG_RESTART),
    "set_state_backend": Feature("env.set_state_backend", _CONFIG_BACKEND),
    "get_state_backend": Feature("env.get_state_backend", _CONFIG_BACKEND),
    "set_db_storage_path": Feature("EmbeddedRocksDBStateBackend.set_db_storage_path", _CONFIG_BACKEND),
    "set_memory_budget": Feature("EmbeddedRocksDBStateBackend.set_memory_budget", _CONFIG_BACKEND),
    "register_kryo_type": Feature("ExecutionConfig.register_kryo_type", _CONFIG_TYPES),
    "register_pojo_type": Feature("ExecutionConfig.register_pojo_type", _CONFIG_TYPES),
    "add_default_kryo_serializer": Feature("ExecutionConfig.add_default_kryo_serializer", _CONFIG_TYPES),
}
