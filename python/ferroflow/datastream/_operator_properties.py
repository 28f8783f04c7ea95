"""The properties of the operator behind a stream (name, uid, parallelism, max parallelism,
chaining, buffer timeout), shared by DataStream and its subclasses. Each setter returns the
stream, as in PyFlink."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ferroflow.datastream._checks import check_buffer_timeout, check_max_parallelism, check_parallelism, check_str
from ferroflow.datastream._transformations import StreamPart, Transformation

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["OperatorProperties"]


class OperatorProperties:
    """Setters and getters of the operator that produced a stream (one operator: not a union)."""

    _parts: list[StreamPart]

    def _operator(self, what: str) -> Transformation:
        if len(self._parts) != 1:
            raise ValueError(f"{what}() cannot be applied to a union of streams; apply it to each stream")
        return self._parts[0].transformation

    def name(self, name: str) -> Self:
        """Names the operator (shown in the plan and in error messages)."""
        self._operator("name").name = check_str(name, "name")
        return self

    def get_name(self) -> str:
        return self._operator("get_name").name

    def uid(self, uid: str) -> Self:
        """A stable id for the operator, which later keys its state in checkpoints."""
        self._operator("uid").uid = check_str(uid, "uid")
        return self

    def set_uid_hash(self, uid_hash: str) -> Self:
        self._operator("set_uid_hash").uid = check_str(uid_hash, "uid_hash")
        return self

    def set_description(self, description: str) -> Self:
        self._operator("set_description").description = check_str(description, "description")
        return self

    def set_parallelism(self, parallelism: int) -> Self:
        """How many parallel subtasks run the operator."""
        t = self._operator("set_parallelism")
        parallelism = check_parallelism(parallelism)
        if t.parallelism_fixed and parallelism != 1:
            raise ValueError(f"'{t.name}' is not a parallel operator: its parallelism must be 1, got {parallelism}")
        if t.max_parallelism is not None and parallelism > t.max_parallelism:
            raise ValueError(f"'{t.name}': parallelism {parallelism} is larger than its max_parallelism {t.max_parallelism}")
        t.parallelism = parallelism
        return self

    def set_max_parallelism(self, max_parallelism: int) -> Self:
        """The number of key groups of this operator's keyed state (default: the environment's
        max parallelism): records reach it routed by key group, and it can later be restored at
        any parallelism up to this number. Its parallelism must not be larger, and restoring
        its state needs the same value (as in Flink)."""
        t = self._operator("set_max_parallelism")
        max_parallelism = check_max_parallelism(max_parallelism)
        if t.parallelism is not None and t.parallelism > max_parallelism:
            raise ValueError(
                f"'{t.name}' has parallelism {t.parallelism}, larger than the max_parallelism "
                f"{max_parallelism} given: lower its parallelism first"
            )
        t.max_parallelism = max_parallelism
        return self

    def set_buffer_timeout(self, timeout_millis: int) -> Self:
        """How long (ms) this operator's output may wait in a partly filled batch before it is
        sent to the next task (default: the environment's, 100). 0 sends at once, -1 only full
        batches (and everything at the end of the input). It applies to the task this operator
        ends (its chain's last operator sends to the next task), as in Flink."""
        self._operator("set_buffer_timeout").buffer_timeout = check_buffer_timeout(timeout_millis)
        return self

    def force_non_parallel(self) -> Self:
        self._operator("force_non_parallel").parallelism = 1
        return self

    def start_new_chain(self) -> Self:
        """Starts a new chain (task) at this operator; following operators may chain to it."""
        self._operator("start_new_chain").chaining = "head"
        return self

    def disable_chaining(self) -> Self:
        """Runs this operator in a task of its own."""
        self._operator("disable_chaining").chaining = "never"
        return self

    def slot_sharing_group(self, slot_sharing_group: Any) -> Self:
        """Accepted for compatibility: ferroflow runs every task in one process, so slots do not
        apply."""
        return self
