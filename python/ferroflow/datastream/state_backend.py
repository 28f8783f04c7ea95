"""State backends: where keyed state lives while a job runs.

``HashMapStateBackend`` (the default) keeps state as Python objects in memory: fastest, no
serialization. ``EmbeddedRocksDBStateBackend`` keeps it serialized in an embedded RocksDB on local
disk, so state can be much larger than memory; values are pickled (plain values such as numbers,
strings and tuples of them use a faster form of their own). The same program gives the same
results on both::

    env.set_state_backend(EmbeddedRocksDBStateBackend())

or, by configuration, ``state.backend.type: rocksdb``.
"""

from __future__ import annotations

import re
from enum import Enum
from os import PathLike, fspath

from ferroflow.datastream._checks import describe

__all__ = [
    "EmbeddedRocksDBStateBackend",
    "HashMapStateBackend",
    "PredefinedOptions",
    "StateBackend",
    "parse_memory_size",
]

#: The memory budget of a job's RocksDB stores when none is set: block cache and memtables.
DEFAULT_ROCKSDB_MEMORY = 256 * 1024 * 1024

_UNITS = {
    "": 1,
    "b": 1,
    "bytes": 1,
    "k": 1 << 10,
    "kb": 1 << 10,
    "kib": 1 << 10,
    "m": 1 << 20,
    "mb": 1 << 20,
    "mib": 1 << 20,
    "g": 1 << 30,
    "gb": 1 << 30,
    "gib": 1 << 30,
}


def parse_memory_size(size: int | str) -> int:
    """Bytes of a memory size: an int, or text such as ``"64mb"``, ``"1 gb"``, ``"512k"``."""
    if isinstance(size, bool) or not isinstance(size, (int, str)):
        raise TypeError(f"a memory size is an int of bytes or text like '64mb', got {describe(size)}")
    if isinstance(size, int):
        bytes_ = size
    else:
        match = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", size)
        if match is None or match.group(2).lower() not in _UNITS:
            raise ValueError(f"a memory size is a number and a unit (b, kb, mb, gb), like '64mb'; got {size!r}")
        bytes_ = int(match.group(1)) * _UNITS[match.group(2).lower()]
    if bytes_ <= 0:
        raise ValueError(f"a memory size must be positive, got {size!r}")
    return bytes_


class StateBackend:
    """Where keyed state lives: ``HashMapStateBackend`` or ``EmbeddedRocksDBStateBackend``."""

    #: The ``state.backend.type`` name of the backend.
    _type: str = ""


class HashMapStateBackend(StateBackend):
    """Keyed state as Python objects in memory (the default): no serialization on access."""

    _type = "hashmap"

    def __repr__(self) -> str:
        return "HashMapStateBackend()"


class PredefinedOptions(Enum):
    """RocksDB option presets, as in PyFlink. ferroflow tunes RocksDB for one process with a
    memory budget; the presets are accepted and kept, and change nothing."""

    DEFAULT = 0
    SPINNING_DISK_OPTIMIZED = 1
    SPINNING_DISK_OPTIMIZED_HIGH_MEM = 2
    FLASH_SSD_OPTIMIZED = 3


class EmbeddedRocksDBStateBackend(StateBackend):
    """Keyed state in an embedded RocksDB on local disk, for state larger than memory.

    Each keyed operator instance has a database of its own, under the local directory (the
    system's temporary directory unless set), removed when the job ends. All databases of a job
    share one memory budget (block cache and write buffers; 256 MiB unless set), so the state
    can grow far beyond memory while the process does not. Snapshots are RocksDB checkpoints
    whose files are hard links, so each one only adds what changed since the last.
    """

    _type = "rocksdb"

    def __init__(
        self,
        enable_incremental_checkpointing: bool | None = None,
        *,
        memory_budget: int | str | None = None,
        local_directory: str | PathLike[str] | None = None,
    ) -> None:
        if enable_incremental_checkpointing is not None and not isinstance(enable_incremental_checkpointing, bool):
            raise TypeError(
                f"enable_incremental_checkpointing must be a bool or None, got {describe(enable_incremental_checkpointing)}"
            )
        self._incremental = enable_incremental_checkpointing
        self._memory = DEFAULT_ROCKSDB_MEMORY if memory_budget is None else parse_memory_size(memory_budget)
        self._paths: list[str] = []
        self._predefined = PredefinedOptions.DEFAULT
        if local_directory is not None:
            self.set_db_storage_path(local_directory)

    def __repr__(self) -> str:
        return f"EmbeddedRocksDBStateBackend(memory_budget={self._memory}, local_directory={self._directory()!r})"

    def is_incremental_checkpoints_enabled(self) -> bool:
        """Whether snapshots share unchanged files with earlier ones. They always do in
        ferroflow; this returns what was asked (PyFlink's default: False)."""
        return bool(self._incremental)

    def set_db_storage_path(self, path: str | PathLike[str]) -> None:
        """The local directory RocksDB's files go under."""
        self.set_db_storage_paths(path)

    def set_db_storage_paths(self, *paths: str | PathLike[str]) -> None:
        """Local directories for RocksDB's files; ferroflow uses the first."""
        checked = []
        for path in paths:
            if not isinstance(path, (str, PathLike)):
                raise TypeError(f"a storage path is a str or path, got {describe(path)}")
            checked.append(fspath(path))
        self._paths = checked

    def get_db_storage_paths(self) -> list[str]:
        return list(self._paths)

    def set_memory_budget(self, size: int | str) -> EmbeddedRocksDBStateBackend:
        """The memory all RocksDB stores of a job share: an int of bytes or text like
        ``"64mb"``."""
        self._memory = parse_memory_size(size)
        return self

    def get_memory_budget(self) -> int:
        return self._memory

    def set_predefined_options(self, options: PredefinedOptions) -> None:
        if not isinstance(options, PredefinedOptions):
            raise TypeError(f"expected a PredefinedOptions, got {describe(options)}")
        self._predefined = options

    def get_predefined_options(self) -> PredefinedOptions:
        return self._predefined

    def _directory(self) -> str | None:
        return self._paths[0] if self._paths else None


def backend_from_type(name: str) -> StateBackend:
    """The backend ``state.backend.type`` names."""
    normalized = name.strip().lower()
    if normalized in ("hashmap", "heap", "memory"):
        return HashMapStateBackend()
    if normalized in ("rocksdb", "embeddedrocksdb"):
        return EmbeddedRocksDBStateBackend()
    raise ValueError(f"state.backend.type must be 'hashmap' or 'rocksdb', got {name!r}")
