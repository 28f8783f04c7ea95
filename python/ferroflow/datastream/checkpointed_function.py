"""CheckpointedFunction: a function with operator state, the per-subtask (not per-key) lists
that Flink's Java API offers, e.g. a sink buffering records or a source remembering offsets.

``initialize_state`` runs before ``open``, with the subtask's operator state store: register
list states there (restored ones come back filled). ``snapshot_state`` runs when a snapshot of
the job's state is taken: bring the lists up to date there::

    class BufferingSink(SinkFunction, CheckpointedFunction):
        def initialize_state(self, context):
            self.buffered = context.get_operator_state_store().get_list_state(
                ListStateDescriptor("buffered", Types.PICKLED_BYTE_ARRAY()))
        def snapshot_state(self, context):
            ...

On restore at another parallelism, a list state's elements are split evenly over the new
subtasks; a union list state gives every subtask all elements.
"""

from __future__ import annotations

from typing import Any

from ferroflow import _engine

__all__ = ["CheckpointedFunction", "FunctionInitializationContext", "FunctionSnapshotContext"]


class FunctionInitializationContext:
    """What ``initialize_state`` gets: the operator state store (and keyed state, for a keyed
    function), and whether the state was restored."""

    def __init__(self, operator_state_store: _engine.OperatorStateStore, keyed_state_store: Any = None) -> None:
        self._operator = operator_state_store
        self._keyed = keyed_state_store

    def get_operator_state_store(self) -> _engine.OperatorStateStore:
        return self._operator

    def get_keyed_state_store(self) -> Any:
        """The keyed state getters of a keyed function (None otherwise)."""
        return self._keyed

    def is_restored(self) -> bool:
        return self._operator.is_restored()


class FunctionSnapshotContext:
    """What ``snapshot_state`` gets: the id and time of the snapshot."""

    def __init__(self, checkpoint_id: int, checkpoint_timestamp: int) -> None:
        self._id = checkpoint_id
        self._timestamp = checkpoint_timestamp

    def get_checkpoint_id(self) -> int:
        return self._id

    def get_checkpoint_timestamp(self) -> int:
        return self._timestamp


class CheckpointedFunction:
    """Mix into a Function to keep operator state (see the module's doc)."""

    def snapshot_state(self, context: FunctionSnapshotContext) -> None:
        """Called when a snapshot is taken: bring the operator state up to date."""

    def initialize_state(self, context: FunctionInitializationContext) -> None:
        """Called once per subtask, before ``open``: register (and read restored) state."""
        raise NotImplementedError("a CheckpointedFunction implements initialize_state(context)")
