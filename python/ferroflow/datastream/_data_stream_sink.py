"""``DataStreamSink``: what ``print()`` and ``add_sink()`` return."""

from __future__ import annotations

from typing import Any

from ferroflow.datastream._checks import check_parallelism, check_str
from ferroflow.datastream._transformations import Transformation


class DataStreamSink:
    """What ``print()`` and ``add_sink()`` return: the sink operator, to name and configure."""

    def __init__(self, transformation: Transformation) -> None:
        self._t = transformation

    def name(self, name: str) -> DataStreamSink:
        self._t.name = check_str(name, "name")
        return self

    def uid(self, uid: str) -> DataStreamSink:
        self._t.uid = check_str(uid, "uid")
        return self

    def set_uid_hash(self, uid_hash: str) -> DataStreamSink:
        self._t.uid = check_str(uid_hash, "uid_hash")
        return self

    def set_parallelism(self, parallelism: int) -> DataStreamSink:
        self._t.parallelism = check_parallelism(parallelism)
        return self

    def set_description(self, description: str) -> DataStreamSink:
        self._t.description = check_str(description, "description")
        return self

    def disable_chaining(self) -> DataStreamSink:
        self._t.chaining = "never"
        return self

    def slot_sharing_group(self, slot_sharing_group: Any) -> DataStreamSink:
        return self
