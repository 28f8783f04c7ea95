"""Internal: the configuration keys of checkpointing, restoring and restarting.

Each setting has its Flink 2.x key and, where it differs, its Flink 1.x key; when a configuration
holds both, the 2.x key wins. Values are read when the configuration is applied, and a value that
does not parse is a ValueError naming its key. Durations are Flink strings ("10 s", "1 min",
"500 ms") or plain milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ferroflow.common import restart_strategy as rs
from ferroflow.common._durations import parse_millis
from ferroflow.common.configuration import Configuration
from ferroflow.common.restart_strategy import RestartStrategies, RestartStrategyConfiguration
from ferroflow.datastream._checkpoint_settings import CheckpointSettings
from ferroflow.datastream._local_paths import local_path
from ferroflow.datastream.checkpoint_storage import FileSystemCheckpointStorage, JobManagerCheckpointStorage
from ferroflow.datastream.checkpointing_mode import CheckpointingMode
from ferroflow.datastream.externalized_checkpoint_retention import ExternalizedCheckpointRetention

__all__ = ["apply_checkpoint_options", "configured_restart", "default_restart"]

INTERVAL = ("execution.checkpointing.interval",)
MODE = ("execution.checkpointing.mode",)
TIMEOUT = ("execution.checkpointing.timeout",)
MIN_PAUSE = ("execution.checkpointing.min-pause",)
TOLERABLE = ("execution.checkpointing.tolerable-failed-checkpoints",)
MAX_CONCURRENT = ("execution.checkpointing.max-concurrent-checkpoints",)
NUM_RETAINED = ("execution.checkpointing.num-retained", "state.checkpoints.num-retained")
RETENTION = ("execution.checkpointing.externalized-checkpoint-retention",)
DIRECTORY = ("execution.checkpointing.dir", "state.checkpoints.dir")
STORAGE = ("execution.checkpointing.storage", "state.checkpoint-storage")
UNALIGNED = ("execution.checkpointing.unaligned.enabled", "execution.checkpointing.unaligned")
FORCE_UNALIGNED = ("execution.checkpointing.unaligned.forced",)
ALIGNED_TIMEOUT = ("execution.checkpointing.aligned-checkpoint-timeout", "execution.checkpointing.alignment-timeout")
CLAIM_MODE = ("execution.state-recovery.claim-mode", "execution.savepoint-restore-mode")
SAVEPOINT_DIR = ("execution.checkpointing.savepoint-dir", "state.savepoints.dir")
RESTORE_PATH = ("execution.state-recovery.path", "execution.savepoint.path")
IGNORE_UNCLAIMED = ("execution.state-recovery.ignore-unclaimed-state", "execution.savepoint.ignore-unclaimed-state")

RESTART_TYPE = ("restart-strategy.type", "restart-strategy")
_FIXED = "restart-strategy.fixed-delay."
_RATE = "restart-strategy.failure-rate."
_EXP = "restart-strategy.exponential-delay."

_RESTART_TYPES = {
    "none": "none",
    "off": "none",
    "disable": "none",
    "fixed-delay": "fixed_delay",
    "fixeddelay": "fixed_delay",
    "failure-rate": "failure_rate",
    "failurerate": "failure_rate",
    "exponential-delay": "exponential_delay",
    "exponentialdelay": "exponential_delay",
}


def _where(key: str) -> str:
    return f"configuration key {key!r}"


def _lookup(values: Mapping[str, str], keys: tuple[str, ...]) -> tuple[str, str] | None:
    """``(key, value)`` of the first of ``keys`` present (the 2.x spelling comes first)."""
    for key in keys:
        if key in values:
            return key, values[key]
    return None


def _duration(key: str, value: str, minimum: int) -> int:
    millis = parse_millis(value, _where(key))
    if millis < minimum:
        raise ValueError(f"{_where(key)} must be at least {minimum} ms, got {value!r}")
    return millis


def _int(key: str, value: str, minimum: int) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise ValueError(f"{_where(key)} must be an integer, got {value!r}") from None
    if number < minimum:
        raise ValueError(f"{_where(key)} must be at least {minimum}, got {value!r}")
    return number


def _float(key: str, value: str, low: float, high: float | None) -> float:
    try:
        number = float(value.strip())
    except ValueError:
        raise ValueError(f"{_where(key)} must be a number, got {value!r}") from None
    if not (number >= low and (high is None or number <= high)):
        bound = f"at least {low}" if high is None else f"between {low} and {high}"
        raise ValueError(f"{_where(key)} must be {bound}, got {value!r}")
    return number


def _bool(key: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise ValueError(f"{_where(key)} must be true or false, got {value!r}")
    return lowered == "true"


def _claim_mode(key: str, value: str) -> str:
    mode = value.strip().upper().replace("-", "_")
    if mode == "LEGACY":  # Flink 1.x: never deletes the snapshot, as NO_CLAIM
        return "no_claim"
    if mode not in ("CLAIM", "NO_CLAIM"):
        raise ValueError(f"{_where(key)} must be CLAIM, NO_CLAIM or LEGACY, got {value!r}")
    return mode.lower()


def _restart_type(key: str, value: str) -> str:
    kind = _RESTART_TYPES.get(value.strip().lower().replace("_", "-"))
    if kind is None:
        raise ValueError(
            f"{_where(key)}: {value!r} is not a restart strategy; expected none (or off, disable), "
            "fixed-delay, failure-rate or exponential-delay"
        )
    return kind


# The restart-strategy.* keys with a value: how to read each (and check it).
_RESTART_KEYS: dict[str, Callable[[str, str], Any]] = {
    "restart-strategy.type": _restart_type,
    "restart-strategy": _restart_type,
    _FIXED + "attempts": lambda k, v: _int(k, v, 0),
    _FIXED + "delay": lambda k, v: _duration(k, v, 0),
    _RATE + "max-failures-per-interval": lambda k, v: _int(k, v, 1),
    _RATE + "failure-rate-interval": lambda k, v: _duration(k, v, 1),
    _RATE + "delay": lambda k, v: _duration(k, v, 0),
    _EXP + "initial-backoff": lambda k, v: _duration(k, v, 1),
    _EXP + "max-backoff": lambda k, v: _duration(k, v, 1),
    _EXP + "backoff-multiplier": lambda k, v: _float(k, v, 1.0, None),
    _EXP + "reset-backoff-threshold": lambda k, v: _duration(k, v, 1),
    _EXP + "jitter-factor": lambda k, v: _float(k, v, 0.0, 1.0),
    _EXP + "attempts-before-reset-backoff": lambda k, v: _int(k, v, 1),
}


def _option(options: Mapping[str, str], key: str, default: Any) -> Any:
    value = options.get(key)
    return default if value is None else _RESTART_KEYS[key](key, value)


def _exponential(options: Mapping[str, str], attempts: int) -> RestartStrategyConfiguration:
    return RestartStrategies.ExponentialDelayRestartStrategyConfiguration(
        _option(options, _EXP + "initial-backoff", rs.EXPONENTIAL_INITIAL_BACKOFF_MS),
        _option(options, _EXP + "max-backoff", rs.EXPONENTIAL_MAX_BACKOFF_MS),
        _option(options, _EXP + "backoff-multiplier", rs.EXPONENTIAL_MULTIPLIER),
        _option(options, _EXP + "reset-backoff-threshold", rs.EXPONENTIAL_RESET_THRESHOLD_MS),
        _option(options, _EXP + "jitter-factor", rs.EXPONENTIAL_JITTER),
        _option(options, _EXP + "attempts-before-reset-backoff", attempts),
    )


def configured_restart(options: Mapping[str, str]) -> RestartStrategyConfiguration | None:
    """The strategy ``restart-strategy.type`` names, with its keys (Flink's defaults for the
    missing ones, so exponential delay restarts without limit); ``None`` without a type."""
    found = _lookup(options, RESTART_TYPE)
    if found is None:
        return None
    kind = _restart_type(*found)
    if kind == "none":
        return RestartStrategies.no_restart()
    if kind == "fixed_delay":
        return RestartStrategies.fixed_delay_restart(
            _option(options, _FIXED + "attempts", rs.FIXED_DELAY_ATTEMPTS),
            _option(options, _FIXED + "delay", rs.FIXED_DELAY_DELAY_MS),
        )
    if kind == "failure_rate":
        return RestartStrategies.failure_rate_restart(
            _option(options, _RATE + "max-failures-per-interval", rs.FAILURE_RATE_MAX_FAILURES),
            _option(options, _RATE + "failure-rate-interval", rs.FAILURE_RATE_INTERVAL_MS),
            _option(options, _RATE + "delay", rs.FAILURE_RATE_DELAY_MS),
        )
    return _exponential(options, rs.UNLIMITED_ATTEMPTS)


def default_restart(options: Mapping[str, str], checkpointing: bool) -> RestartStrategyConfiguration:
    """The strategy when none is chosen: no restart without checkpointing; with it, exponential
    delay (the ``restart-strategy.exponential-delay.*`` keys apply) bounded to
    ``DEFAULT_ATTEMPTS_BEFORE_RESET`` restarts unless that key is set."""
    if not checkpointing:
        return RestartStrategies.no_restart()
    return _exponential(options, rs.DEFAULT_ATTEMPTS_BEFORE_RESET)


def _apply_restart(settings: CheckpointSettings, values: Mapping[str, str]) -> None:
    keys = [key for key in values if key in _RESTART_KEYS]
    for key in keys:
        _RESTART_KEYS[key](key, values[key])
    if not keys:
        return
    settings.restart_options.update((key, values[key]) for key in keys)
    if _lookup(values, RESTART_TYPE) is not None or settings.restart_from_options:
        settings.restart = configured_restart(settings.restart_options) or settings.restart
        settings.restart_from_options = True


def _apply_storage(settings: CheckpointSettings, values: Mapping[str, str]) -> None:
    storage = _lookup(values, STORAGE)
    directory = _lookup(values, DIRECTORY)
    if storage is None and directory is None:
        return
    current = settings.config.get_checkpoint_storage()
    path = current.get_checkpoint_path() if current is not None else None
    if directory is not None:
        local_path(directory[1], _where(directory[0]))
        path = directory[1]
    if storage is not None:
        kind = storage[1].strip().lower()
        if kind not in ("filesystem", "jobmanager"):
            raise ValueError(
                f"{_where(storage[0])}: {storage[1]!r} is not a checkpoint storage; expected filesystem "
                "(files in a local directory) or jobmanager"
            )
    else:
        kind = "jobmanager" if isinstance(current, JobManagerCheckpointStorage) else "filesystem"
    if kind == "jobmanager":
        settings.config.set_checkpoint_storage(JobManagerCheckpointStorage(path))
    elif path is None:
        key = storage[0] if storage is not None else DIRECTORY[0]
        raise ValueError(f"{_where(key)} is 'filesystem' but no checkpoint directory is set; set {DIRECTORY[0]!r} too")
    else:
        settings.config.set_checkpoint_storage(FileSystemCheckpointStorage(path))


def apply_checkpoint_options(settings: CheckpointSettings, conf: Configuration) -> None:
    """Applies the checkpoint, restore and restart keys ``conf`` holds to ``settings``."""
    values = conf.to_dict()
    config = settings.config
    found = _lookup(values, INTERVAL)
    if found:
        config.set_checkpoint_interval(_duration(*found, minimum=1))
    found = _lookup(values, MODE)
    if found:
        config.set_checkpointing_mode(CheckpointingMode._parse(found[1], found[0]))
    found = _lookup(values, TIMEOUT)
    if found:
        config.set_checkpoint_timeout(_duration(*found, minimum=1))
    found = _lookup(values, MIN_PAUSE)
    if found:
        config.set_min_pause_between_checkpoints(_duration(*found, minimum=0))
    found = _lookup(values, TOLERABLE)
    if found:
        config.set_tolerable_checkpoint_failure_number(_int(*found, minimum=0))
    found = _lookup(values, MAX_CONCURRENT)
    if found:
        config.set_max_concurrent_checkpoints(_int(*found, minimum=1))
    found = _lookup(values, NUM_RETAINED)
    if found:
        settings.num_retained = _int(*found, minimum=1)
    found = _lookup(values, RETENTION)
    if found:
        config.set_externalized_checkpoint_retention(ExternalizedCheckpointRetention._parse(found[1], found[0]))
    found = _lookup(values, UNALIGNED)
    if found:
        config.enable_unaligned_checkpoints(_bool(*found))
    found = _lookup(values, FORCE_UNALIGNED)
    if found:
        config.set_force_unaligned_checkpoints(_bool(*found))
    found = _lookup(values, ALIGNED_TIMEOUT)
    if found:
        config.set_aligned_checkpoint_timeout(_duration(*found, minimum=0))
    _apply_storage(settings, values)
    found = _lookup(values, SAVEPOINT_DIR)
    if found:
        settings.savepoint_dir = local_path(found[1], _where(found[0]))
    found = _lookup(values, RESTORE_PATH)
    if found:
        settings.restore_path = local_path(found[1], _where(found[0]))
    found = _lookup(values, IGNORE_UNCLAIMED)
    if found:
        settings.ignore_unclaimed = _bool(*found)
    found = _lookup(values, CLAIM_MODE)
    if found:
        settings.claim_mode = _claim_mode(*found)
    _apply_restart(settings, values)
