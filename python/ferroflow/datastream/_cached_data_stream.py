"""CachedDataStream: what ``DataStream.cache()`` returns.

PyFlink caches a stream's intermediate result (BATCH mode, bounded input) the first time a job
computes it and lets later jobs of the same environment read the cache. ferroflow runs jobs in
the program's own process, where a stream's operators are cheap to run again: a cached stream
is the same stream, computed again by every job that uses it, with PyFlink's API (the operator
that produced it can no longer be configured; ``invalidate()`` is accepted).
"""

from __future__ import annotations

from typing import Any, NoReturn

from ferroflow.datastream.data_stream import DataStream, UnsupportedOperationError

__all__ = ["CachedDataStream"]


class CachedDataStream(DataStream):
    """A stream whose result later jobs may reuse (here: recompute); see ``DataStream.cache()``."""

    def invalidate(self) -> None:
        """Drops the cached result; the next job that uses the stream computes it again (as
        every job does in ferroflow)."""

    def _unsupported(self, what: str) -> NoReturn:
        raise UnsupportedOperationError(f"{what} for CachedDataStream is not supported.")

    def set_parallelism(self, parallelism: int) -> NoReturn:
        self._unsupported("Set parallelism")

    def name(self, name: str) -> NoReturn:
        self._unsupported("Set name")

    def get_name(self) -> NoReturn:
        raise UnsupportedOperationError("Get name of CachedDataStream is not supported.")

    def uid(self, uid: str) -> NoReturn:
        self._unsupported("Set uid")

    def set_uid_hash(self, uid_hash: str) -> NoReturn:
        self._unsupported("Set uid hash")

    def set_max_parallelism(self, max_parallelism: int) -> NoReturn:
        self._unsupported("Set max parallelism")

    def force_non_parallel(self) -> NoReturn:
        self._unsupported("Set force non-parallel")

    def set_buffer_timeout(self, timeout_millis: int) -> NoReturn:
        self._unsupported("Set buffer timeout")

    def start_new_chain(self) -> NoReturn:
        self._unsupported("Start new chain")

    def disable_chaining(self) -> NoReturn:
        self._unsupported("Disable chaining")

    def slot_sharing_group(self, slot_sharing_group: Any) -> NoReturn:
        self._unsupported("Setting slot sharing group")
