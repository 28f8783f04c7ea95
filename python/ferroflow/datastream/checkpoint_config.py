"""``CheckpointConfig``: the checkpoint settings of an environment, as ``pyflink.datastream.CheckpointConfig``.

Get it with ``env.get_checkpoint_config()``; checkpointing is on once an interval is set
(``env.enable_checkpointing(10_000)`` or ``execution.checkpointing.interval``). Every setter
checks its argument at once and returns the config, so calls can be chained.

Accepted, but changing nothing in ferroflow (the getters return what was set):

- ``set_max_concurrent_checkpoints(n)`` with n > 1: checkpoints run one at a time.
- unaligned checkpoints (``enable_unaligned_checkpoints``, ``set_force_unaligned_checkpoints``,
  ``set_aligned_checkpoint_timeout``): barriers are always aligned in exactly-once mode.
- ``set_prefer_checkpoint_for_recovery`` (Flink 1.x): a restart always uses the latest checkpoint.
"""

from __future__ import annotations

import numbers
from os import PathLike
from typing import Any

from ferroflow.common._durations import to_millis
from ferroflow.common.time import Duration
from ferroflow.datastream._checks import describe
from ferroflow.datastream.checkpoint_storage import CheckpointStorage, FileSystemCheckpointStorage
from ferroflow.datastream.checkpointing_mode import CheckpointingMode
from ferroflow.datastream.externalized_checkpoint_retention import (
    ExternalizedCheckpointCleanup,
    ExternalizedCheckpointRetention,
)

__all__ = ["CheckpointConfig", "ExternalizedCheckpointCleanup"]

#: ``set_fail_on_checkpointing_errors(False)`` tolerates this many failed checkpoints (as PyFlink 2.x).
_TOLERATE_ALL = 2**31 - 1


def _check_bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be a bool, got {describe(value)}")
    return value


def _check_count(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be an int, got {describe(value)}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{what} must be at least {minimum}, got {value}")
    return value


def check_interval(value: Any, what: str = "checkpoint interval") -> int:
    """A checkpoint interval in ms: int ms, Duration, timedelta or Time, greater than 0."""
    millis = to_millis(value, what)
    if millis <= 0:
        raise ValueError(f"{what} must be positive (milliseconds), got {millis}")
    return millis


def _check_retention(value: Any, what: str) -> ExternalizedCheckpointRetention:
    if not isinstance(value, ExternalizedCheckpointRetention):
        raise TypeError(
            f"{what} must be an ExternalizedCheckpointRetention (DELETE_ON_CANCELLATION, "
            f"RETAIN_ON_CANCELLATION or NO_EXTERNALIZED_CHECKPOINTS), got {describe(value)}"
        )
    return value


class CheckpointConfig:
    """All checkpoint settings of one environment.

    Defaults (Flink's): checkpointing off (interval -1), ``EXACTLY_ONCE``, timeout 10 min, no
    pause between checkpoints, one concurrent checkpoint, no tolerated checkpoint failures,
    ``NO_EXTERNALIZED_CHECKPOINTS``, no checkpoint storage (no directory), aligned checkpoints.
    """

    DEFAULT_MODE = CheckpointingMode.EXACTLY_ONCE
    DEFAULT_TIMEOUT = 10 * 60 * 1000
    DEFAULT_MIN_PAUSE_BETWEEN_CHECKPOINTS = 0
    DEFAULT_MAX_CONCURRENT_CHECKPOINTS = 1

    def __init__(self) -> None:
        self._interval = -1
        self._mode = self.DEFAULT_MODE
        self._timeout = self.DEFAULT_TIMEOUT
        self._min_pause = self.DEFAULT_MIN_PAUSE_BETWEEN_CHECKPOINTS
        self._max_concurrent = self.DEFAULT_MAX_CONCURRENT_CHECKPOINTS
        self._tolerable_failures = 0
        self._retention = ExternalizedCheckpointRetention.NO_EXTERNALIZED_CHECKPOINTS
        self._storage: CheckpointStorage | None = None
        self._unaligned = False
        self._force_unaligned = False
        self._aligned_timeout = Duration.of_millis(0)
        self._prefer_checkpoint = False

    # -- interval and mode ----------------------------------------------------------------------

    def is_checkpointing_enabled(self) -> bool:
        """Whether checkpoints are taken: an interval has been set."""
        return self._interval > 0

    def get_checkpointing_mode(self) -> CheckpointingMode:
        """``EXACTLY_ONCE`` (the default) or ``AT_LEAST_ONCE``."""
        return self._mode

    def set_checkpointing_mode(self, checkpointing_mode: CheckpointingMode) -> CheckpointConfig:
        """``CheckpointingMode.EXACTLY_ONCE`` (aligned barriers) or ``AT_LEAST_ONCE``."""
        if not isinstance(checkpointing_mode, CheckpointingMode):
            raise TypeError(
                "checkpointing_mode must be CheckpointingMode.EXACTLY_ONCE or CheckpointingMode.AT_LEAST_ONCE, "
                f"got {describe(checkpointing_mode)}"
            )
        self._mode = checkpointing_mode
        return self

    get_checkpointing_consistency_mode = get_checkpointing_mode
    set_checkpointing_consistency_mode = set_checkpointing_mode

    def get_checkpoint_interval(self) -> int:
        """The interval between checkpoints in ms; -1 when checkpointing is off (the default)."""
        return self._interval

    def set_checkpoint_interval(self, checkpoint_interval: int) -> CheckpointConfig:
        """Takes a checkpoint every ``checkpoint_interval`` ms (int, or Duration/timedelta), which
        turns checkpointing on; -1 turns it off. The next checkpoint also waits for the previous
        one to end and for the minimum pause."""
        if checkpoint_interval == -1 and not isinstance(checkpoint_interval, bool):
            self._interval = -1
            return self
        self._interval = check_interval(checkpoint_interval, "checkpoint_interval")
        return self

    # -- timing and failures --------------------------------------------------------------------

    def get_checkpoint_timeout(self) -> int:
        """How long (ms) a checkpoint may take before it is abandoned; default 600000 (10 min)."""
        return self._timeout

    def set_checkpoint_timeout(self, checkpoint_timeout: int) -> CheckpointConfig:
        """A checkpoint still running after ``checkpoint_timeout`` ms (int, or Duration/timedelta;
        positive) is abandoned and counts as a failed checkpoint."""
        millis = to_millis(checkpoint_timeout, "checkpoint_timeout")
        if millis <= 0:
            raise ValueError(f"checkpoint_timeout must be positive (milliseconds), got {millis}")
        self._timeout = millis
        return self

    def get_min_pause_between_checkpoints(self) -> int:
        """The least time (ms) between the end of a checkpoint and the start of the next; default 0."""
        return self._min_pause

    def set_min_pause_between_checkpoints(self, min_pause_between_checkpoints: int) -> CheckpointConfig:
        """At least ``min_pause_between_checkpoints`` ms (0 or more) pass between the end of one
        checkpoint and the start of the next, whatever the interval."""
        millis = to_millis(min_pause_between_checkpoints, "min_pause_between_checkpoints")
        if millis < 0:
            raise ValueError(f"min_pause_between_checkpoints must be 0 or more (milliseconds), got {millis}")
        self._min_pause = millis
        return self

    def get_max_concurrent_checkpoints(self) -> int:
        """The value set (default 1). ferroflow runs one checkpoint at a time whatever it is."""
        return self._max_concurrent

    def set_max_concurrent_checkpoints(self, max_concurrent_checkpoints: int) -> CheckpointConfig:
        """Accepts any count of 1 or more; checkpoints still run one at a time in ferroflow (a
        checkpoint starts only after the previous one completed, failed or timed out)."""
        self._max_concurrent = _check_count(max_concurrent_checkpoints, "max_concurrent_checkpoints", 1)
        return self

    def get_tolerable_checkpoint_failure_number(self) -> int:
        """How many consecutive failed checkpoints are tolerated before the job fails; default 0."""
        return self._tolerable_failures

    def set_tolerable_checkpoint_failure_number(self, tolerable_checkpoint_failure_number: int) -> CheckpointConfig:
        """The job fails (and may restart) when more than this many checkpoints in a row fail
        (0, the default: the first failed checkpoint fails the job)."""
        self._tolerable_failures = _check_count(
            tolerable_checkpoint_failure_number, "tolerable_checkpoint_failure_number", 0
        )
        return self

    def is_fail_on_checkpointing_errors(self) -> bool:
        """Deprecated (Flink 2.0): whether no checkpoint failure is tolerated."""
        return self._tolerable_failures == 0

    def set_fail_on_checkpointing_errors(self, fail_on_checkpointing_errors: bool) -> CheckpointConfig:
        """Deprecated (Flink 2.0): True tolerates no failed checkpoint, False tolerates any number
        (``set_tolerable_checkpoint_failure_number(0)`` / ``(2147483647)``)."""
        fail = _check_bool(fail_on_checkpointing_errors, "fail_on_checkpointing_errors")
        self._tolerable_failures = 0 if fail else _TOLERATE_ALL
        return self

    # -- retention ------------------------------------------------------------------------------

    def set_externalized_checkpoint_retention(
        self, retention_mode: ExternalizedCheckpointRetention
    ) -> CheckpointConfig:
        """Whether checkpoints outlive the job: see :class:`ExternalizedCheckpointRetention`
        (default ``NO_EXTERNALIZED_CHECKPOINTS``: deleted when the job stops)."""
        self._retention = _check_retention(retention_mode, "retention_mode")
        return self

    def get_externalized_checkpoint_retention(self) -> ExternalizedCheckpointRetention:
        return self._retention

    def is_externalized_checkpoints_enabled(self) -> bool:
        """Whether checkpoints are kept after the job stops in some case (retention is not
        ``NO_EXTERNALIZED_CHECKPOINTS``)."""
        return self._retention is not ExternalizedCheckpointRetention.NO_EXTERNALIZED_CHECKPOINTS

    def enable_externalized_checkpoints(self, cleanup_mode: ExternalizedCheckpointRetention) -> CheckpointConfig:
        """Flink 1.x name of :meth:`set_externalized_checkpoint_retention`."""
        self._retention = _check_retention(cleanup_mode, "cleanup_mode")
        return self

    def set_externalized_checkpoint_cleanup(self, cleanup_mode: ExternalizedCheckpointRetention) -> CheckpointConfig:
        """Flink 1.x name of :meth:`set_externalized_checkpoint_retention`."""
        self._retention = _check_retention(cleanup_mode, "cleanup_mode")
        return self

    def get_externalized_checkpoint_cleanup(self) -> ExternalizedCheckpointRetention:
        """Flink 1.x name of :meth:`get_externalized_checkpoint_retention`."""
        return self._retention

    def is_prefer_checkpoint_for_recovery(self) -> bool:
        return self._prefer_checkpoint

    def set_prefer_checkpoint_for_recovery(self, prefer_checkpoint_for_recovery: bool) -> CheckpointConfig:
        """Flink 1.x; accepted, changes nothing: a restart uses the latest completed checkpoint."""
        self._prefer_checkpoint = _check_bool(prefer_checkpoint_for_recovery, "prefer_checkpoint_for_recovery")
        return self

    # -- storage --------------------------------------------------------------------------------

    def set_checkpoint_storage(self, storage: CheckpointStorage | str | PathLike) -> CheckpointConfig:
        """Where checkpoints are written: a ``FileSystemCheckpointStorage(path)`` (or a path or
        ``file://`` URI, which means the same). Only local file systems are supported."""
        if isinstance(storage, (str, PathLike)):
            storage = FileSystemCheckpointStorage(storage)  # type: ignore[arg-type]
        elif not isinstance(storage, CheckpointStorage):
            raise TypeError(
                "set_checkpoint_storage() takes a FileSystemCheckpointStorage (or a directory path), "
                f"got {describe(storage)}"
            )
        self._storage = storage
        return self

    def set_checkpoint_storage_dir(self, checkpoint_path: str) -> CheckpointConfig:
        """Writes checkpoints under ``checkpoint_path`` (a local path or ``file://`` URI):
        ``FileSystemCheckpointStorage(checkpoint_path)``."""
        self._storage = FileSystemCheckpointStorage(checkpoint_path)
        return self

    def get_checkpoint_storage(self) -> CheckpointStorage | None:
        """The storage set, or ``None`` (the default: no checkpoint directory)."""
        return self._storage

    # -- unaligned checkpoints (accepted; ferroflow aligns) ----------------------------------------

    def is_unaligned_checkpoints_enabled(self) -> bool:
        """What was set (default False); ferroflow's checkpoints are aligned either way."""
        return self._unaligned

    def enable_unaligned_checkpoints(self, enabled: bool = True) -> CheckpointConfig:
        """Accepted, changes nothing: barriers are always aligned in exactly-once mode."""
        self._unaligned = _check_bool(enabled, "enabled")
        return self

    def disable_unaligned_checkpoints(self) -> CheckpointConfig:
        self._unaligned = False
        return self

    def set_aligned_checkpoint_timeout(self, alignment_timeout: Duration) -> CheckpointConfig:
        """Accepted (a Duration, timedelta or int ms, 0 or more), changes nothing: checkpoints are
        never switched to unaligned."""
        millis = to_millis(alignment_timeout, "alignment_timeout")
        if millis < 0:
            raise ValueError(f"alignment_timeout must not be negative, got {millis} ms")
        self._aligned_timeout = Duration.of_millis(millis)
        return self

    def get_aligned_checkpoint_timeout(self) -> Duration:
        return self._aligned_timeout

    def set_alignment_timeout(self, alignment_timeout: Duration) -> CheckpointConfig:
        """Deprecated name of :meth:`set_aligned_checkpoint_timeout`."""
        return self.set_aligned_checkpoint_timeout(alignment_timeout)

    def get_alignment_timeout(self) -> Duration:
        """Deprecated name of :meth:`get_aligned_checkpoint_timeout`."""
        return self._aligned_timeout

    def set_force_unaligned_checkpoints(self, force_unaligned_checkpoints: bool = True) -> CheckpointConfig:
        """Accepted, changes nothing (see :meth:`enable_unaligned_checkpoints`)."""
        self._force_unaligned = _check_bool(force_unaligned_checkpoints, "force_unaligned_checkpoints")
        return self

    def is_force_unaligned_checkpoints(self) -> bool:
        return self._force_unaligned

    def __repr__(self) -> str:
        return (
            f"CheckpointConfig(interval={self._interval}, mode={self._mode.name}, timeout={self._timeout}, "
            f"storage={self._storage!r})"
        )
