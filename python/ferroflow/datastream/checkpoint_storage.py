"""Checkpoint storage: where checkpoints are written, as ``pyflink.datastream.checkpoint_storage``.

ferroflow writes every checkpoint as files in a local directory (``<dir>/<job-id>/chk-<n>/``).
``FileSystemCheckpointStorage(path)`` names that directory; ``path`` is a plain path or a
``file://`` URI (other schemes are a ValueError). ``JobManagerCheckpointStorage`` is accepted for
Flink programs: with a ``checkpoint_path`` it writes there, like the file-system storage; without
one, no directory is set. Thresholds and buffer sizes are accepted and change nothing.
"""

from __future__ import annotations

import numbers
import os
from typing import Any

from ferroflow.datastream._checks import describe
from ferroflow.datastream._local_paths import local_path

__all__ = ["CheckpointStorage", "FileSystemCheckpointStorage", "JobManagerCheckpointStorage"]


def _optional_size(value: Any, what: str, *, allow_minus_one: bool) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be an int (bytes) or None, got {describe(value)}")
    value = int(value)
    if value == -1 and allow_minus_one:
        return None
    if value < 0:
        raise ValueError(f"{what} must be positive{' or -1' if allow_minus_one else ''}, got {value}")
    return value


class CheckpointStorage:
    """Where checkpoints go: ``FileSystemCheckpointStorage`` or ``JobManagerCheckpointStorage``."""

    _checkpoint_path: str | None = None
    _directory: str | None = None

    def get_checkpoint_path(self) -> str | None:
        """The checkpoint location as it was given (``None`` when none was)."""
        return self._checkpoint_path

    def get_savepoint_path(self) -> str | None:
        """Always ``None``: ferroflow has no separate savepoint directory."""
        return None

    def _engine_directory(self) -> str | None:
        """The directory the engine writes to: a plain absolute path, or ``None``."""
        return self._directory

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((type(self), self._directory))


class JobManagerCheckpointStorage(CheckpointStorage):
    """Flink's in-memory checkpoint storage, accepted for compatibility.

    With ``checkpoint_path``, checkpoints are written there as with
    ``FileSystemCheckpointStorage``. Without it no checkpoint directory is set. ``max_state_size``
    (default 5 MiB) is kept for ``get_max_state_size()`` and limits nothing.
    """

    DEFAULT_MAX_STATE_SIZE = 5 * 1024 * 1024

    def __init__(self, checkpoint_path: str | None = None, max_state_size: int | None = None) -> None:
        self._checkpoint_path = None
        self._directory = None
        if checkpoint_path is not None:
            self._directory = local_path(checkpoint_path, "checkpoint_path")
            self._checkpoint_path = os.fspath(checkpoint_path)
        size = _optional_size(max_state_size, "max_state_size", allow_minus_one=False)
        if size == 0:
            raise ValueError("max_state_size must be positive, got 0")
        self._max_state_size = self.DEFAULT_MAX_STATE_SIZE if size is None else size

    def get_max_state_size(self) -> int:
        return self._max_state_size

    def __repr__(self) -> str:
        return f"JobManagerCheckpointStorage(checkpoint_path={self._checkpoint_path!r})"


class FileSystemCheckpointStorage(CheckpointStorage):
    """Checkpoints as files under ``checkpoint_path``: ``<path>/<job-id>/chk-<n>/``.

    ``checkpoint_path`` is a local path or a ``file://`` URI; relative paths are resolved against
    the current directory when the storage is created. ``file_state_size_threshold`` (default
    20 KiB) and ``write_buffer_size`` (default 4 KiB) are kept for their getters and change nothing.
    """

    MAX_FILE_STATE_THRESHOLD = 1024 * 1024
    _DEFAULT_FILE_STATE_THRESHOLD = 20 * 1024
    _DEFAULT_WRITE_BUFFER_SIZE = 4 * 1024

    def __init__(
        self,
        checkpoint_path: str,
        file_state_size_threshold: int | None = None,
        write_buffer_size: int = -1,
    ) -> None:
        if checkpoint_path is None:
            raise ValueError("checkpoint_path must not be None: FileSystemCheckpointStorage needs a directory")
        self._directory = local_path(checkpoint_path, "checkpoint_path")
        self._checkpoint_path = os.fspath(checkpoint_path)
        threshold = _optional_size(file_state_size_threshold, "file_state_size_threshold", allow_minus_one=True)
        if threshold is not None and threshold > self.MAX_FILE_STATE_THRESHOLD:
            raise ValueError(
                f"file_state_size_threshold must be at most {self.MAX_FILE_STATE_THRESHOLD} bytes, got {threshold}"
            )
        self._threshold = self._DEFAULT_FILE_STATE_THRESHOLD if threshold is None else threshold
        buffer = _optional_size(write_buffer_size, "write_buffer_size", allow_minus_one=True)
        self._write_buffer_size = self._DEFAULT_WRITE_BUFFER_SIZE if buffer is None else buffer

    def get_checkpoint_path(self) -> str:
        return self._checkpoint_path  # type: ignore[return-value]

    def get_min_file_size_threshold(self) -> int:
        return self._threshold

    def get_write_buffer_size(self) -> int:
        return max(self._write_buffer_size, self._threshold)

    def __repr__(self) -> str:
        return f"FileSystemCheckpointStorage({self._checkpoint_path!r})"
