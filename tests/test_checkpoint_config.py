"""Checkpoint and restart configuration on the Python side: CheckpointConfig, the env methods,
RestartStrategies, the configuration keys (Flink 2.x and 1.x spellings), the CheckpointPlan the
engine reads, and the build-time check that from_iterable cannot be checkpointed."""

from __future__ import annotations

import dataclasses
import datetime
import os
import types
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ferroflow.common import Configuration, Duration, RestartStrategies, RestartStrategyConfiguration, Time
from ferroflow.common._durations import parse_millis
from ferroflow.common.restart_strategy import DEFAULT_ATTEMPTS_BEFORE_RESET, UNLIMITED_ATTEMPTS
from ferroflow.datastream import (
    CheckpointConfig,
    CheckpointingMode,
    CheckpointStorage,
    ExternalizedCheckpointCleanup,
    ExternalizedCheckpointRetention,
    FileSystemCheckpointStorage,
    JobManagerCheckpointStorage,
    StreamExecutionEnvironment,
    _job,
)
from ferroflow.datastream._checkpoint_plan import CheckpointPlan, RestartPlan
from ferroflow.datastream.checkpoint_config import ExternalizedCheckpointCleanup as CleanupFromConfigModule
from ferroflow.datastream.connectors import NumberSequenceSource


def new_env(conf: dict[str, Any] | None = None) -> StreamExecutionEnvironment:
    if conf is None:
        return StreamExecutionEnvironment.get_execution_environment()
    return StreamExecutionEnvironment.get_execution_environment(Configuration.from_dict(conf))


def plan_of(conf: dict[str, Any]) -> CheckpointPlan:
    return new_env(conf)._checkpoint_plan()


# -- defaults ------------------------------------------------------------------------------------


def test_checkpoint_config_defaults() -> None:
    config = new_env().get_checkpoint_config()
    assert isinstance(config, CheckpointConfig)
    assert config.is_checkpointing_enabled() is False
    assert config.get_checkpoint_interval() == -1
    assert config.get_checkpointing_mode() is CheckpointingMode.EXACTLY_ONCE
    assert config.get_checkpoint_timeout() == 600_000 == CheckpointConfig.DEFAULT_TIMEOUT
    assert config.get_min_pause_between_checkpoints() == 0
    assert config.get_max_concurrent_checkpoints() == 1
    assert config.get_tolerable_checkpoint_failure_number() == 0
    assert config.is_fail_on_checkpointing_errors() is True
    assert config.get_externalized_checkpoint_retention() is ExternalizedCheckpointRetention.NO_EXTERNALIZED_CHECKPOINTS
    assert config.is_externalized_checkpoints_enabled() is False
    assert config.get_checkpoint_storage() is None
    assert config.is_unaligned_checkpoints_enabled() is False
    assert config.is_force_unaligned_checkpoints() is False
    assert config.get_aligned_checkpoint_timeout() == Duration.of_millis(0)
    assert config.is_prefer_checkpoint_for_recovery() is False


def test_env_defaults() -> None:
    env = new_env()
    assert env.get_checkpoint_interval() == -1
    assert env.get_checkpointing_mode() is CheckpointingMode.EXACTLY_ONCE
    assert env.get_checkpointing_consistency_mode() is CheckpointingMode.EXACTLY_ONCE
    assert env.is_unaligned_checkpoints_enabled() is False
    assert env.is_force_unaligned_checkpoints() is False
    assert env.get_restart_strategy() == RestartStrategies.fall_back_restart()
    assert env.get_checkpoint_config() is env.get_checkpoint_config()


def test_default_plan() -> None:
    plan = new_env()._checkpoint_plan()
    assert plan == CheckpointPlan(
        interval_ms=None,
        mode="exactly_once",
        timeout_ms=600_000,
        min_pause_ms=0,
        tolerable_failures=0,
        num_retained=1,
        retention="no_externalized_checkpoints",
        directory=None,
        restore_path=None,
        ignore_unclaimed=False,
        claim_mode="default",
        restart=RestartPlan("none"),
    )


def test_plan_classes_have_exactly_the_fields_the_engine_reads() -> None:
    assert [(f.name, f.type) for f in dataclasses.fields(CheckpointPlan)] == [
        ("interval_ms", "int | None"),
        ("mode", "str"),
        ("timeout_ms", "int"),
        ("min_pause_ms", "int"),
        ("tolerable_failures", "int"),
        ("num_retained", "int"),
        ("retention", "str"),
        ("directory", "str | None"),
        ("restore_path", "str | None"),
        ("ignore_unclaimed", "bool"),
        ("claim_mode", "str"),
        ("restart", "RestartPlan"),
    ]
    assert [(f.name, f.type) for f in dataclasses.fields(RestartPlan)] == [
        ("kind", "str"),
        ("attempts", "int"),
        ("delay_ms", "int"),
        ("max_delay_ms", "int"),
        ("multiplier", "float"),
        ("reset_threshold_ms", "int"),
        ("jitter", "float"),
        ("max_failures_per_interval", "int"),
        ("failure_interval_ms", "int"),
    ]
    plan = new_env()._checkpoint_plan()
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.interval_ms = 5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.restart.kind = "fixed_delay"  # type: ignore[misc]


def test_plan_value_types() -> None:
    env = new_env()
    env.enable_checkpointing(Duration.of_seconds(2))
    plan = env._checkpoint_plan()
    assert type(plan.interval_ms) is int and plan.interval_ms == 2000
    assert type(plan.restart.multiplier) is float and type(plan.restart.jitter) is float
    assert all(type(getattr(plan.restart, n)) is int for n in ("attempts", "delay_ms", "max_delay_ms"))


# -- enable_checkpointing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "interval, millis",
    [(1000, 1000), (Duration.of_seconds(5), 5000), (datetime.timedelta(minutes=1), 60_000), (Time.seconds(3), 3000)],
)
def test_enable_checkpointing_interval(interval: Any, millis: int) -> None:
    env = new_env()
    assert env.enable_checkpointing(interval) is env
    assert env.get_checkpoint_interval() == millis
    assert env.get_checkpoint_config().is_checkpointing_enabled()
    assert env._checkpoint_plan().interval_ms == millis


def test_enable_checkpointing_with_mode() -> None:
    env = new_env()
    env.enable_checkpointing(500, CheckpointingMode.AT_LEAST_ONCE)
    assert env.get_checkpointing_mode() is CheckpointingMode.AT_LEAST_ONCE
    assert env._checkpoint_plan().mode == "at_least_once"
    env.enable_checkpointing(700)  # no mode: keeps the one set
    assert env.get_checkpointing_mode() is CheckpointingMode.AT_LEAST_ONCE


@pytest.mark.parametrize("interval", [0, -1, -1000, Duration.of_millis(0)])
def test_enable_checkpointing_rejects_non_positive_interval(interval: Any) -> None:
    env = new_env()
    with pytest.raises(ValueError, match="interval must be positive"):
        env.enable_checkpointing(interval)
    assert env.get_checkpoint_interval() == -1


@pytest.mark.parametrize("interval", ["1000", 1.5, True, None])
def test_enable_checkpointing_rejects_interval_types(interval: Any) -> None:
    with pytest.raises(TypeError, match="interval must be a .*int \\(milliseconds\\)"):
        new_env().enable_checkpointing(interval)


def test_enable_checkpointing_rejects_bad_mode_and_changes_nothing() -> None:
    env = new_env()
    with pytest.raises(TypeError, match="CheckpointingMode.EXACTLY_ONCE or CheckpointingMode.AT_LEAST_ONCE, got str"):
        env.enable_checkpointing(1000, "EXACTLY_ONCE")  # type: ignore[arg-type]
    assert env.get_checkpoint_interval() == -1


# -- CheckpointConfig setters --------------------------------------------------------------------


def test_setters_round_trip_and_chain() -> None:
    config = new_env().get_checkpoint_config()
    result = (
        config.set_checkpoint_interval(2000)
        .set_checkpointing_mode(CheckpointingMode.AT_LEAST_ONCE)
        .set_checkpoint_timeout(30_000)
        .set_min_pause_between_checkpoints(250)
        .set_max_concurrent_checkpoints(1)
        .set_tolerable_checkpoint_failure_number(3)
        .set_externalized_checkpoint_retention(ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION)
    )
    assert result is config
    assert config.get_checkpoint_interval() == 2000
    assert config.get_checkpointing_mode() is CheckpointingMode.AT_LEAST_ONCE
    assert config.get_checkpoint_timeout() == 30_000
    assert config.get_min_pause_between_checkpoints() == 250
    assert config.get_tolerable_checkpoint_failure_number() == 3
    assert config.get_externalized_checkpoint_retention() is ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION
    assert config.is_externalized_checkpoints_enabled()


def test_setters_reach_the_plan() -> None:
    env = new_env()
    config = env.get_checkpoint_config()
    config.set_checkpoint_interval(2000).set_checkpoint_timeout(Duration.of_seconds(30))
    config.set_min_pause_between_checkpoints(datetime.timedelta(milliseconds=250))
    config.set_tolerable_checkpoint_failure_number(3)
    config.set_checkpointing_consistency_mode(CheckpointingMode.AT_LEAST_ONCE)
    config.set_externalized_checkpoint_retention(ExternalizedCheckpointRetention.DELETE_ON_CANCELLATION)
    plan = env._checkpoint_plan()
    assert (plan.interval_ms, plan.timeout_ms, plan.min_pause_ms, plan.tolerable_failures) == (2000, 30_000, 250, 3)
    assert plan.mode == "at_least_once"
    assert plan.retention == "delete_on_cancellation"


def test_set_checkpoint_interval_minus_one_turns_checkpointing_off() -> None:
    env = new_env()
    env.enable_checkpointing(1000)
    env.get_checkpoint_config().set_checkpoint_interval(-1)
    assert not env.get_checkpoint_config().is_checkpointing_enabled()
    assert env._checkpoint_plan().interval_ms is None


@pytest.mark.parametrize(
    "setter, value, error, message",
    [
        ("set_checkpoint_interval", 0, ValueError, "checkpoint_interval must be positive"),
        ("set_checkpoint_interval", -5, ValueError, "checkpoint_interval must be positive"),
        ("set_checkpoint_interval", "10 s", TypeError, "checkpoint_interval must be a"),
        ("set_checkpoint_timeout", 0, ValueError, "checkpoint_timeout must be positive"),
        ("set_checkpoint_timeout", 1.5, TypeError, "checkpoint_timeout must be a"),
        ("set_min_pause_between_checkpoints", -1, ValueError, "min_pause_between_checkpoints must be 0 or more"),
        ("set_max_concurrent_checkpoints", 0, ValueError, "max_concurrent_checkpoints must be at least 1"),
        ("set_max_concurrent_checkpoints", 2.0, TypeError, "max_concurrent_checkpoints must be an int"),
        ("set_tolerable_checkpoint_failure_number", -1, ValueError, "must be at least 0"),
        ("set_tolerable_checkpoint_failure_number", "3", TypeError, "must be an int, got str"),
        ("set_checkpointing_mode", 0, TypeError, "checkpointing_mode must be CheckpointingMode"),
        ("set_externalized_checkpoint_retention", "RETAIN_ON_CANCELLATION", TypeError, "ExternalizedCheckpointRetention"),
        ("enable_externalized_checkpoints", 1, TypeError, "cleanup_mode must be an ExternalizedCheckpointRetention"),
        ("set_fail_on_checkpointing_errors", 1, TypeError, "fail_on_checkpointing_errors must be a bool"),
        ("enable_unaligned_checkpoints", "yes", TypeError, "enabled must be a bool"),
        ("set_force_unaligned_checkpoints", None, TypeError, "force_unaligned_checkpoints must be a bool"),
        ("set_aligned_checkpoint_timeout", -1, ValueError, "alignment_timeout must not be negative"),
        ("set_checkpoint_storage", 42, TypeError, "takes a FileSystemCheckpointStorage .* got int"),
        ("set_prefer_checkpoint_for_recovery", "no", TypeError, "must be a bool"),
    ],
)
def test_setters_reject_bad_values(setter: str, value: Any, error: type, message: str) -> None:
    config = CheckpointConfig()
    before = vars(config).copy()
    with pytest.raises(error, match=message):
        getattr(config, setter)(value)
    assert vars(config) == before


def test_max_concurrent_checkpoints_above_one_is_accepted() -> None:
    env = new_env()
    env.get_checkpoint_config().set_max_concurrent_checkpoints(4)
    assert env.get_checkpoint_config().get_max_concurrent_checkpoints() == 4


def test_fail_on_checkpointing_errors_maps_to_tolerable_failures() -> None:
    config = CheckpointConfig()
    config.set_fail_on_checkpointing_errors(False)
    assert config.get_tolerable_checkpoint_failure_number() == 2**31 - 1
    assert config.is_fail_on_checkpointing_errors() is False
    config.set_fail_on_checkpointing_errors(True)
    assert config.get_tolerable_checkpoint_failure_number() == 0


def test_externalized_checkpoint_names_of_flink_1x() -> None:
    assert ExternalizedCheckpointCleanup is ExternalizedCheckpointRetention
    assert CleanupFromConfigModule is ExternalizedCheckpointRetention
    config = CheckpointConfig()
    config.enable_externalized_checkpoints(ExternalizedCheckpointCleanup.RETAIN_ON_CANCELLATION)
    assert config.get_externalized_checkpoint_cleanup() is ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION
    config.set_externalized_checkpoint_cleanup(ExternalizedCheckpointCleanup.NO_EXTERNALIZED_CHECKPOINTS)
    assert config.get_externalized_checkpoint_retention() is ExternalizedCheckpointRetention.NO_EXTERNALIZED_CHECKPOINTS
    assert not config.is_externalized_checkpoints_enabled()


def test_unaligned_settings_are_accepted_and_reported() -> None:
    env = new_env()
    config = env.get_checkpoint_config()
    config.enable_unaligned_checkpoints().set_force_unaligned_checkpoints()
    config.set_aligned_checkpoint_timeout(Duration.of_seconds(2))
    assert env.is_unaligned_checkpoints_enabled() and env.is_force_unaligned_checkpoints()
    assert config.get_aligned_checkpoint_timeout() == Duration.of_seconds(2)
    config.set_alignment_timeout(Duration.of_millis(5))
    assert config.get_alignment_timeout() == Duration.of_millis(5)
    config.disable_unaligned_checkpoints()
    assert not config.is_unaligned_checkpoints_enabled()


def test_prefer_checkpoint_for_recovery_is_accepted() -> None:
    config = CheckpointConfig().set_prefer_checkpoint_for_recovery(True)
    assert config.is_prefer_checkpoint_for_recovery() is True


# -- checkpoint storage --------------------------------------------------------------------------


def test_file_system_storage_reaches_the_plan(tmp_path: Path) -> None:
    env = new_env()
    storage = FileSystemCheckpointStorage(str(tmp_path / "chk"))
    env.get_checkpoint_config().set_checkpoint_storage(storage)
    assert env.get_checkpoint_config().get_checkpoint_storage() is storage
    assert isinstance(storage, CheckpointStorage)
    assert storage.get_checkpoint_path() == str(tmp_path / "chk")
    assert storage.get_savepoint_path() is None
    assert env._checkpoint_plan().directory == str(tmp_path / "chk")


@pytest.mark.parametrize("prefix", ["file://", "file:", "file://localhost"])
def test_file_uris_become_plain_paths(tmp_path: Path, prefix: str) -> None:
    uri = prefix + str(tmp_path / "a b")
    env = new_env()
    env.get_checkpoint_config().set_checkpoint_storage_dir(uri)
    assert env.get_checkpoint_config().get_checkpoint_storage().get_checkpoint_path() == uri  # type: ignore[union-attr]
    assert env._checkpoint_plan().directory == str(tmp_path / "a b")


def test_percent_encoded_file_uri(tmp_path: Path) -> None:
    storage = FileSystemCheckpointStorage("file://" + str(tmp_path) + "/a%20b")
    assert storage._engine_directory() == str(tmp_path / "a b")


def test_relative_and_pathlike_paths_become_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = new_env()
    env.get_checkpoint_config().set_checkpoint_storage("checkpoints")
    assert isinstance(env.get_checkpoint_config().get_checkpoint_storage(), FileSystemCheckpointStorage)
    assert env._checkpoint_plan().directory == os.path.join(str(tmp_path), "checkpoints")
    env.get_checkpoint_config().set_checkpoint_storage(tmp_path / "other")
    assert env._checkpoint_plan().directory == str(tmp_path / "other")


@pytest.mark.parametrize("path", ["s3://bucket/checkpoints", "hdfs://namenode:8020/chk", "gs://b/c", "S3A://x/y"])
def test_remote_file_systems_are_rejected(path: str) -> None:
    with pytest.raises(ValueError, match="only local file systems are supported"):
        FileSystemCheckpointStorage(path)
    with pytest.raises(ValueError, match="only local file systems are supported"):
        CheckpointConfig().set_checkpoint_storage_dir(path)


def test_file_uri_with_a_remote_host_is_rejected() -> None:
    with pytest.raises(ValueError, match="names the host 'otherhost'"):
        FileSystemCheckpointStorage("file://otherhost/tmp/chk")


@pytest.mark.parametrize("path, error", [(None, ValueError), ("", ValueError), ("  ", ValueError), (5, TypeError)])
def test_file_system_storage_needs_a_path(path: Any, error: type) -> None:
    with pytest.raises(error, match="checkpoint_path"):
        FileSystemCheckpointStorage(path)


def test_file_system_storage_sizes() -> None:
    storage = FileSystemCheckpointStorage("/tmp/x")
    assert storage.get_min_file_size_threshold() == 20 * 1024
    assert storage.get_write_buffer_size() == 20 * 1024
    storage = FileSystemCheckpointStorage("/tmp/x", file_state_size_threshold=100, write_buffer_size=8192)
    assert (storage.get_min_file_size_threshold(), storage.get_write_buffer_size()) == (100, 8192)
    with pytest.raises(ValueError, match="file_state_size_threshold must be at most"):
        FileSystemCheckpointStorage("/tmp/x", file_state_size_threshold=2 * 1024 * 1024)
    with pytest.raises(TypeError, match="write_buffer_size must be an int"):
        FileSystemCheckpointStorage("/tmp/x", write_buffer_size="4k")  # type: ignore[arg-type]


def test_job_manager_storage(tmp_path: Path) -> None:
    env = new_env()
    env.get_checkpoint_config().set_checkpoint_storage(JobManagerCheckpointStorage())
    assert env._checkpoint_plan().directory is None
    storage = JobManagerCheckpointStorage(str(tmp_path), max_state_size=1024)
    assert storage.get_max_state_size() == 1024
    assert JobManagerCheckpointStorage().get_max_state_size() == JobManagerCheckpointStorage.DEFAULT_MAX_STATE_SIZE
    env.get_checkpoint_config().set_checkpoint_storage(storage)
    assert env._checkpoint_plan().directory == str(tmp_path)
    with pytest.raises(ValueError, match="only local file systems"):
        JobManagerCheckpointStorage("s3://b/c")


# -- configuration keys --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, value, field, expected",
    [
        ("execution.checkpointing.interval", "10 s", "interval_ms", 10_000),
        ("execution.checkpointing.interval", "1 min", "interval_ms", 60_000),
        ("execution.checkpointing.interval", "500", "interval_ms", 500),
        ("execution.checkpointing.mode", "AT_LEAST_ONCE", "mode", "at_least_once"),
        ("execution.checkpointing.mode", "exactly_once", "mode", "exactly_once"),
        ("execution.checkpointing.timeout", "2 min", "timeout_ms", 120_000),
        ("execution.checkpointing.min-pause", "500 ms", "min_pause_ms", 500),
        ("execution.checkpointing.tolerable-failed-checkpoints", "4", "tolerable_failures", 4),
        ("execution.checkpointing.num-retained", "3", "num_retained", 3),
        ("state.checkpoints.num-retained", "2", "num_retained", 2),
        ("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION", "retention",
         "retain_on_cancellation"),
        ("execution.checkpointing.externalized-checkpoint-retention", "delete_on_cancellation", "retention",
         "delete_on_cancellation"),
        ("execution.checkpointing.dir", "file:///tmp/ff-chk", "directory", "/tmp/ff-chk"),
        ("state.checkpoints.dir", "/tmp/ff-chk-1x", "directory", "/tmp/ff-chk-1x"),
        ("execution.state-recovery.path", "file:///tmp/ff-chk/job/chk-3", "restore_path", "/tmp/ff-chk/job/chk-3"),
        ("execution.savepoint.path", "/tmp/ff-sp", "restore_path", "/tmp/ff-sp"),
        ("execution.state-recovery.ignore-unclaimed-state", "true", "ignore_unclaimed", True),
        ("execution.savepoint.ignore-unclaimed-state", "TRUE", "ignore_unclaimed", True),
        ("execution.state-recovery.claim-mode", "CLAIM", "claim_mode", "claim"),
        ("execution.state-recovery.claim-mode", "no-claim", "claim_mode", "no_claim"),
        ("execution.savepoint-restore-mode", "NO_CLAIM", "claim_mode", "no_claim"),
        ("execution.savepoint-restore-mode", "LEGACY", "claim_mode", "no_claim"),
    ],
)
def test_configuration_keys_reach_the_plan(key: str, value: str, field: str, expected: Any) -> None:
    assert getattr(plan_of({key: value}), field) == expected
    # configure() later applies the key too
    env = new_env()
    env.configure(Configuration.from_dict({key: value}))
    assert getattr(env._checkpoint_plan(), field) == expected


def test_configuration_keys_reach_the_checkpoint_config() -> None:
    env = new_env(
        {
            "execution.checkpointing.interval": "3 s",
            "execution.checkpointing.mode": "AT_LEAST_ONCE",
            "execution.checkpointing.max-concurrent-checkpoints": "2",
            "execution.checkpointing.unaligned.enabled": "true",
            "execution.checkpointing.unaligned.forced": "true",
            "execution.checkpointing.aligned-checkpoint-timeout": "5 s",
        }
    )
    config = env.get_checkpoint_config()
    assert env.get_checkpoint_interval() == 3000
    assert config.get_checkpointing_mode() is CheckpointingMode.AT_LEAST_ONCE
    assert config.get_max_concurrent_checkpoints() == 2
    assert config.is_unaligned_checkpoints_enabled() and config.is_force_unaligned_checkpoints()
    assert config.get_aligned_checkpoint_timeout() == Duration.of_seconds(5)


def test_unaligned_keys_of_flink_1x() -> None:
    config = new_env(
        {"execution.checkpointing.unaligned": "true", "execution.checkpointing.alignment-timeout": "7 s"}
    ).get_checkpoint_config()
    assert config.is_unaligned_checkpoints_enabled()
    assert config.get_alignment_timeout() == Duration.of_seconds(7)


def test_the_2x_key_wins_over_the_1x_key() -> None:
    plan = plan_of({"execution.checkpointing.dir": "/tmp/new", "state.checkpoints.dir": "/tmp/old"})
    assert plan.directory == "/tmp/new"
    plan = plan_of({"execution.checkpointing.num-retained": "5", "state.checkpoints.num-retained": "9"})
    assert plan.num_retained == 5
    plan = plan_of({"execution.state-recovery.path": "/tmp/new", "execution.savepoint.path": "/tmp/old"})
    assert plan.restore_path == "/tmp/new"


@pytest.mark.parametrize("key", ["execution.checkpointing.storage", "state.checkpoint-storage"])
def test_storage_keys(key: str) -> None:
    env = new_env({key: "filesystem", "execution.checkpointing.dir": "/tmp/ff-fs"})
    storage = env.get_checkpoint_config().get_checkpoint_storage()
    assert isinstance(storage, FileSystemCheckpointStorage)
    assert env._checkpoint_plan().directory == "/tmp/ff-fs"
    env = new_env({key: "JobManager"})
    assert isinstance(env.get_checkpoint_config().get_checkpoint_storage(), JobManagerCheckpointStorage)
    assert env._checkpoint_plan().directory is None
    env = new_env({key: "jobmanager", "state.checkpoints.dir": "/tmp/ff-jm"})
    assert isinstance(env.get_checkpoint_config().get_checkpoint_storage(), JobManagerCheckpointStorage)
    assert env._checkpoint_plan().directory == "/tmp/ff-jm"


def test_directory_key_alone_means_file_system_storage() -> None:
    storage = new_env({"execution.checkpointing.dir": "/tmp/ff-d"}).get_checkpoint_config().get_checkpoint_storage()
    assert isinstance(storage, FileSystemCheckpointStorage)
    assert storage.get_checkpoint_path() == "/tmp/ff-d"


def test_storage_key_keeps_an_earlier_directory() -> None:
    env = new_env({"execution.checkpointing.dir": "/tmp/ff-e"})
    env.configure(Configuration.from_dict({"execution.checkpointing.storage": "filesystem"}))
    assert env._checkpoint_plan().directory == "/tmp/ff-e"


def test_filesystem_storage_key_without_a_directory() -> None:
    with pytest.raises(ValueError, match="'execution.checkpointing.storage' is 'filesystem' but no checkpoint directory"):
        new_env({"execution.checkpointing.storage": "filesystem"})


def test_directory_in_configuration_then_set_in_code(tmp_path: Path) -> None:
    env = new_env({"execution.checkpointing.dir": "/tmp/ff-conf"})
    env.get_checkpoint_config().set_checkpoint_storage_dir(str(tmp_path))
    assert env._checkpoint_plan().directory == str(tmp_path)


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("execution.checkpointing.interval", "soon", "cannot read 'soon' as a duration"),
        ("execution.checkpointing.interval", "0", "must be at least 1 ms"),
        ("execution.checkpointing.interval", "10 fortnights", "cannot read"),
        ("execution.checkpointing.mode", "TWICE", "not a checkpointing mode; expected EXACTLY_ONCE or AT_LEAST_ONCE"),
        ("execution.checkpointing.timeout", "-1 s", "must be at least 1 ms"),
        ("execution.checkpointing.min-pause", "-5", "must be at least 0 ms"),
        ("execution.checkpointing.tolerable-failed-checkpoints", "many", "must be an integer"),
        ("execution.checkpointing.tolerable-failed-checkpoints", "-1", "must be at least 0"),
        ("execution.checkpointing.max-concurrent-checkpoints", "0", "must be at least 1"),
        ("execution.checkpointing.num-retained", "0", "must be at least 1"),
        ("state.checkpoints.num-retained", "x", "must be an integer"),
        ("execution.checkpointing.externalized-checkpoint-retention", "KEEP", "not a retention"),
        ("execution.checkpointing.dir", "s3://bucket/chk", "only local file systems are supported"),
        ("state.checkpoints.dir", "hdfs:///chk", "only local file systems are supported"),
        ("execution.checkpointing.storage", "rocksdb", "not a checkpoint storage; expected filesystem"),
        ("state.checkpoint-storage", "com.example.Storage", "not a checkpoint storage"),
        ("execution.state-recovery.path", "s3://b/chk-1", "only local file systems are supported"),
        ("execution.savepoint.path", "hdfs://nn/sp", "only local file systems are supported"),
        ("execution.state-recovery.ignore-unclaimed-state", "yes", "must be true or false"),
        ("execution.savepoint.ignore-unclaimed-state", "1", "must be true or false"),
        ("execution.state-recovery.claim-mode", "SOMETIMES", "must be CLAIM, NO_CLAIM or LEGACY"),
        ("execution.checkpointing.unaligned.enabled", "maybe", "must be true or false"),
        ("execution.checkpointing.aligned-checkpoint-timeout", "-1", "must be at least 0 ms"),
    ],
)
def test_bad_configuration_values_name_their_key(key: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        new_env({key: value})
    assert repr(key) in str(info.value)
    env = new_env()
    with pytest.raises(ValueError, match=message):
        env.configure(Configuration.from_dict({key: value}))


def test_int_configuration_values_are_accepted() -> None:
    plan = plan_of({"execution.checkpointing.interval": 250, "execution.checkpointing.num-retained": 4})
    assert (plan.interval_ms, plan.num_retained) == (250, 4)


# -- restart strategies --------------------------------------------------------------------------


def test_no_restart() -> None:
    strategy = RestartStrategies.no_restart()
    assert isinstance(strategy, RestartStrategyConfiguration)
    assert strategy == RestartStrategies.no_restart()
    assert strategy.get_description() == "Restart deactivated."
    env = new_env()
    env.enable_checkpointing(1000)
    env.set_restart_strategy(strategy)
    assert env.get_restart_strategy() is strategy
    assert env._checkpoint_plan().restart == RestartPlan("none")


@pytest.mark.parametrize("delay, millis", [(2000, 2000), (datetime.timedelta(seconds=3), 3000), (Duration.of_millis(40), 40),
                                           (Time.seconds(1), 1000), (0, 0)])
def test_fixed_delay_restart(delay: Any, millis: int) -> None:
    strategy = RestartStrategies.fixed_delay_restart(3, delay)
    assert strategy.get_restart_attempts() == 3
    assert strategy.get_delay_between_attempts_interval() == datetime.timedelta(milliseconds=millis)
    assert strategy == RestartStrategies.fixed_delay_restart(3, millis)
    assert strategy != RestartStrategies.fixed_delay_restart(4, millis)
    assert hash(strategy) == hash(RestartStrategies.fixed_delay_restart(3, millis))
    env = new_env()
    env.set_restart_strategy(strategy)
    assert env._checkpoint_plan().restart == RestartPlan("fixed_delay", attempts=3, delay_ms=millis)


def test_failure_rate_restart() -> None:
    strategy = RestartStrategies.failure_rate_restart(5, datetime.timedelta(minutes=5), 1500)
    assert strategy.get_max_failure_rate() == 5
    assert strategy.get_failure_interval() == datetime.timedelta(minutes=5)
    assert strategy.get_delay_between_attempts_interval() == datetime.timedelta(milliseconds=1500)
    env = new_env()
    env.set_restart_strategy(strategy)
    assert env._checkpoint_plan().restart == RestartPlan(
        "failure_rate", delay_ms=1500, max_failures_per_interval=5, failure_interval_ms=300_000
    )


def test_exponential_delay_restart() -> None:
    strategy = RestartStrategies.exponential_delay_restart(
        datetime.timedelta(milliseconds=100), Duration.of_seconds(10), 2.0, datetime.timedelta(hours=2), 0.25
    )
    assert strategy.get_initial_backoff() == datetime.timedelta(milliseconds=100)
    assert strategy.get_max_backoff() == datetime.timedelta(seconds=10)
    assert strategy.get_backoff_multiplier() == 2.0
    assert strategy.get_reset_backoff_threshold() == datetime.timedelta(hours=2)
    assert strategy.get_jitter_factor() == 0.25
    assert strategy.get_attempts_before_reset_backoff() == UNLIMITED_ATTEMPTS
    env = new_env()
    env.set_restart_strategy(strategy)
    assert env._checkpoint_plan().restart == RestartPlan(
        "exponential_delay",
        attempts=UNLIMITED_ATTEMPTS,
        delay_ms=100,
        max_delay_ms=10_000,
        multiplier=2.0,
        reset_threshold_ms=7_200_000,
        jitter=0.25,
    )


def test_exponential_initial_backoff_is_capped_at_the_max() -> None:
    env = new_env()
    env.set_restart_strategy(RestartStrategies.exponential_delay_restart(5000, 1000, 1.5, 60_000, 0.0))
    assert env._checkpoint_plan().restart.delay_ms == 1000


@pytest.mark.parametrize(
    "factory, args, error, message",
    [
        ("fixed_delay_restart", (-1, 1000), ValueError, "restart_attempts must be at least 0"),
        ("fixed_delay_restart", ("3", 1000), TypeError, "restart_attempts must be an int, got '3'"),
        ("fixed_delay_restart", (3, -1), ValueError, "delay_between_attempts must be at least 0 ms"),
        ("fixed_delay_restart", (3, 1.5), TypeError, "delay_between_attempts must be a .*timedelta"),
        ("fixed_delay_restart", (True, 10), TypeError, "restart_attempts must be an int"),
        ("failure_rate_restart", (0, 1000, 10), ValueError, "failure_rate must be at least 1"),
        ("failure_rate_restart", (1, 0, 10), ValueError, "failure_interval must be at least 1 ms"),
        ("failure_rate_restart", (1, 1000, "1 s"), TypeError, "delay_interval must be a"),
        ("exponential_delay_restart", (0, 1000, 2.0, 1000, 0.1), ValueError, "initial_backoff must be at least 1 ms"),
        ("exponential_delay_restart", (10, 0, 2.0, 1000, 0.1), ValueError, "max_backoff must be at least 1 ms"),
        ("exponential_delay_restart", (10, 100, 0.5, 1000, 0.1), ValueError, "backoff_multiplier must be at least 1"),
        ("exponential_delay_restart", (10, 100, "2", 1000, 0.1), TypeError, "backoff_multiplier must be a number"),
        ("exponential_delay_restart", (10, 100, 2.0, 0, 0.1), ValueError, "reset_backoff_threshold must be at least"),
        ("exponential_delay_restart", (10, 100, 2.0, 1000, 1.5), ValueError, "jitter_factor must be between 0.0 and 1.0"),
        ("exponential_delay_restart", (10, 100, 2.0, 1000, float("nan")), ValueError, "jitter_factor must be between"),
    ],
)
def test_restart_strategy_arguments_are_checked(factory: str, args: tuple, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        getattr(RestartStrategies, factory)(*args)


def test_set_restart_strategy_rejects_other_objects() -> None:
    with pytest.raises(TypeError, match="set_restart_strategy\\(\\) takes a restart strategy .* got str"):
        new_env().set_restart_strategy("fixed-delay")  # type: ignore[arg-type]


def test_default_restart_without_checkpointing_is_none() -> None:
    assert new_env()._checkpoint_plan().restart == RestartPlan("none")


def test_default_restart_with_checkpointing_is_bounded_exponential_delay() -> None:
    env = new_env()
    env.enable_checkpointing(1000)
    assert env.get_restart_strategy() == RestartStrategies.fall_back_restart()
    assert DEFAULT_ATTEMPTS_BEFORE_RESET == 5
    assert env._checkpoint_plan().restart == RestartPlan(
        "exponential_delay",
        attempts=5,
        delay_ms=1000,
        max_delay_ms=60_000,
        multiplier=1.5,
        reset_threshold_ms=3_600_000,
        jitter=0.1,
    )


def test_fall_back_restart_is_the_default() -> None:
    env = new_env()
    env.enable_checkpointing(1000)
    default = env._checkpoint_plan().restart
    env.set_restart_strategy(RestartStrategies.fixed_delay_restart(1, 1))
    env.set_restart_strategy(RestartStrategies.fall_back_restart())
    assert env._checkpoint_plan().restart == default


def test_exponential_keys_shape_the_default() -> None:
    plan = plan_of(
        {
            "execution.checkpointing.interval": "1 s",
            "restart-strategy.exponential-delay.max-backoff": "5 s",
            "restart-strategy.exponential-delay.attempts-before-reset-backoff": "2",
        }
    )
    assert (plan.restart.kind, plan.restart.max_delay_ms, plan.restart.attempts) == ("exponential_delay", 5000, 2)
    # without checkpointing, they change nothing: no restart
    assert plan_of({"restart-strategy.exponential-delay.max-backoff": "5 s"}).restart == RestartPlan("none")


@pytest.mark.parametrize("type_key", ["restart-strategy.type", "restart-strategy"])
@pytest.mark.parametrize(
    "conf, expected",
    [
        ({"@": "none"}, RestartPlan("none")),
        ({"@": "off"}, RestartPlan("none")),
        ({"@": "disable"}, RestartPlan("none")),
        ({"@": "fixed-delay"}, RestartPlan("fixed_delay", attempts=1, delay_ms=1000)),
        (
            {"@": "fixed-delay", "restart-strategy.fixed-delay.attempts": "4", "restart-strategy.fixed-delay.delay": "10 s"},
            RestartPlan("fixed_delay", attempts=4, delay_ms=10_000),
        ),
        ({"@": "fixeddelay", "restart-strategy.fixed-delay.attempts": "0"}, RestartPlan("fixed_delay", delay_ms=1000)),
        (
            {"@": "failure-rate"},
            RestartPlan("failure_rate", delay_ms=1000, max_failures_per_interval=1, failure_interval_ms=60_000),
        ),
        (
            {
                "@": "FAILURE-RATE",
                "restart-strategy.failure-rate.max-failures-per-interval": "3",
                "restart-strategy.failure-rate.failure-rate-interval": "5 min",
                "restart-strategy.failure-rate.delay": "200 ms",
            },
            RestartPlan("failure_rate", delay_ms=200, max_failures_per_interval=3, failure_interval_ms=300_000),
        ),
        (
            {"@": "exponential-delay"},
            RestartPlan("exponential_delay", attempts=UNLIMITED_ATTEMPTS, delay_ms=1000, max_delay_ms=60_000,
                        multiplier=1.5, reset_threshold_ms=3_600_000, jitter=0.1),
        ),
        (
            {
                "@": "exponentialdelay",
                "restart-strategy.exponential-delay.initial-backoff": "100 ms",
                "restart-strategy.exponential-delay.max-backoff": "10 s",
                "restart-strategy.exponential-delay.backoff-multiplier": "2.0",
                "restart-strategy.exponential-delay.reset-backoff-threshold": "2 h",
                "restart-strategy.exponential-delay.jitter-factor": "0",
                "restart-strategy.exponential-delay.attempts-before-reset-backoff": "7",
            },
            RestartPlan("exponential_delay", attempts=7, delay_ms=100, max_delay_ms=10_000, multiplier=2.0,
                        reset_threshold_ms=7_200_000, jitter=0.0),
        ),
    ],
)
def test_restart_keys_reach_the_plan(type_key: str, conf: dict[str, str], expected: RestartPlan) -> None:
    conf = {(type_key if k == "@" else k): v for k, v in conf.items()}
    for checkpointing in ({}, {"execution.checkpointing.interval": "1 s"}):
        env = new_env({**conf, **checkpointing})
        assert env._checkpoint_plan().restart == expected
        assert not isinstance(env.get_restart_strategy(), RestartStrategies.FallbackRestartStrategyConfiguration)


def test_restart_keys_and_code_last_one_wins() -> None:
    env = new_env({"restart-strategy.type": "fixed-delay", "restart-strategy.fixed-delay.attempts": "2"})
    assert env.get_restart_strategy() == RestartStrategies.fixed_delay_restart(2, 1000)
    env.set_restart_strategy(RestartStrategies.no_restart())
    env.configure(Configuration.from_dict({"restart-strategy.fixed-delay.attempts": "9"}))
    assert env._checkpoint_plan().restart == RestartPlan("none")
    env.configure(Configuration.from_dict({"restart-strategy.type": "fixed-delay"}))
    assert env._checkpoint_plan().restart == RestartPlan("fixed_delay", attempts=9, delay_ms=1000)
    env.configure(Configuration.from_dict({"restart-strategy.fixed-delay.delay": "3 s"}))
    assert env._checkpoint_plan().restart == RestartPlan("fixed_delay", attempts=9, delay_ms=3000)


def test_fall_back_restart_uses_the_configured_type() -> None:
    env = new_env({"restart-strategy.type": "fixed-delay"})
    env.set_restart_strategy(RestartStrategies.fall_back_restart())
    assert env._checkpoint_plan().restart == RestartPlan("fixed_delay", attempts=1, delay_ms=1000)


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("restart-strategy.type", "sometimes", "not a restart strategy; expected none"),
        ("restart-strategy", "forever", "not a restart strategy"),
        ("restart-strategy.fixed-delay.attempts", "-1", "must be at least 0"),
        ("restart-strategy.fixed-delay.attempts", "three", "must be an integer"),
        ("restart-strategy.fixed-delay.delay", "a while", "cannot read 'a while' as a duration"),
        ("restart-strategy.failure-rate.max-failures-per-interval", "0", "must be at least 1"),
        ("restart-strategy.failure-rate.failure-rate-interval", "0 s", "must be at least 1 ms"),
        ("restart-strategy.failure-rate.delay", "-1 s", "must be at least 0 ms"),
        ("restart-strategy.exponential-delay.initial-backoff", "0", "must be at least 1 ms"),
        ("restart-strategy.exponential-delay.max-backoff", "x", "cannot read"),
        ("restart-strategy.exponential-delay.backoff-multiplier", "0.5", "must be at least 1.0"),
        ("restart-strategy.exponential-delay.backoff-multiplier", "double", "must be a number"),
        ("restart-strategy.exponential-delay.reset-backoff-threshold", "0", "must be at least 1 ms"),
        ("restart-strategy.exponential-delay.jitter-factor", "2", "must be between 0.0 and 1.0"),
        ("restart-strategy.exponential-delay.attempts-before-reset-backoff", "0", "must be at least 1"),
    ],
)
def test_bad_restart_values_name_their_key(key: str, value: str, message: str) -> None:
    # checked when configured, whichever strategy is chosen
    with pytest.raises(ValueError, match=message) as info:
        new_env({"restart-strategy.type": "none", key: value} if key.count(".") > 1 else {key: value})
    assert repr(key) in str(info.value)


# -- durations -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, millis",
    [
        ("100", 100),
        ("100 ms", 100),
        ("100ms", 100),
        ("2 s", 2000),
        ("2 sec", 2000),
        ("2 seconds", 2000),
        ("1 min", 60_000),
        ("1m", 60_000),
        ("3 minutes", 180_000),
        ("2 h", 7_200_000),
        ("1 d", 86_400_000),
        ("1500 us", 1),
        ("999999 ns", 0),
        (" 10 S ", 10_000),
        ("-1", -1),
    ],
)
def test_parse_millis(text: str, millis: int) -> None:
    assert parse_millis(text, "x") == millis


@pytest.mark.parametrize("text", ["", "ms", "1.5 s", "10 parsecs", "1 s 2 ms", "PT10S"])
def test_parse_millis_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="the-key: cannot read"):
        parse_millis(text, "the-key")


def test_existing_duration_keys_still_work() -> None:
    env = new_env({"execution.buffer-timeout": "2 s", "pipeline.auto-watermark-interval": "1 min"})
    assert env.get_buffer_timeout() == 2000
    assert env.get_config().get_auto_watermark_interval() == 60_000
    with pytest.raises(ValueError, match="'execution.buffer-timeout': cannot read"):
        new_env({"execution.buffer-timeout": "soon"})


# -- building the job ----------------------------------------------------------------------------


class RecordingBuilder:
    """Stands in for ``_engine.JobBuilder``: records what build_job passes."""

    instances: ClassVar[list[RecordingBuilder]] = []

    def __init__(self, *args: Any) -> None:
        self.checkpointing: list[Any] = []
        self.nodes = 0
        RecordingBuilder.instances.append(self)

    def set_checkpointing(self, plan: Any) -> None:
        self.checkpointing.append(plan)

    def set_runtime(self, spec: Any) -> None:
        self.runtime = spec

    def _node(self, *args: Any) -> int:
        self.nodes += 1
        return self.nodes - 1

    add_source = add_print = add_collect = add_udf = _node


def test_build_job_hands_the_plan_to_the_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    RecordingBuilder.instances.clear()
    monkeypatch.setattr(_job, "_engine", types.SimpleNamespace(JobBuilder=RecordingBuilder))
    env = new_env({"execution.checkpointing.dir": str(tmp_path)})
    env.enable_checkpointing(1000)
    env.from_collection([1, 2]).print()
    _job.build_job(env, env._take_sinks(), "job")
    (builder,) = RecordingBuilder.instances
    assert builder.checkpointing == [env._checkpoint_plan()]
    assert builder.checkpointing[0].interval_ms == 1000
    assert builder.checkpointing[0].directory == str(tmp_path)


def test_from_iterable_with_checkpointing_fails_at_build_time() -> None:
    env = new_env()
    env.enable_checkpointing(1000)
    env.from_iterable(iter([1, 2, 3])).print()
    with pytest.raises(ValueError, match="from_iterable\\(\\), which cannot be replayed after a failure") as info:
        env.execute()
    for hint in ("from_collection", "FileSource", "NumberSequenceSource", "rewindable source"):
        assert hint in str(info.value)


def test_from_iterable_function_with_checkpointing_fails_too() -> None:
    env = new_env({"execution.checkpointing.interval": "1 s"})
    called = []

    def numbers() -> Any:
        called.append(1)
        return iter([1, 2])

    with pytest.raises(ValueError, match="cannot be replayed"):
        env.from_iterable(numbers).execute_and_collect()
    assert called == []  # checked before the iterable is made


def test_from_iterable_without_checkpointing_runs() -> None:
    env = new_env()
    with env.from_iterable(iter([1, 2, 3])).execute_and_collect() as results:
        assert list(results) == [1, 2, 3]


def test_rewindable_sources_pass_the_check(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(_job, "_engine", types.SimpleNamespace(JobBuilder=RecordingBuilder))
    env = new_env({"execution.checkpointing.dir": str(tmp_path)})
    env.enable_checkpointing(1000)
    env.from_collection([1, 2]).print()
    env.from_source(NumberSequenceSource(1, 5)).print()
    _job.build_job(env, env._take_sinks(), "job")
