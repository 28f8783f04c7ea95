"""SlotSharingGroup and MemorySize, as ``pyflink.datastream.slot_sharing_group``.

On a Flink cluster a slot sharing group names the operators that may share a task slot and the
resources that slot needs. ferroflow runs every task in one process: the groups are checked as
Flink checks them (``build()``), then accepted by ``env.register_slot_sharing_group`` and
``DataStream.slot_sharing_group`` and have no effect.
"""

from __future__ import annotations

import functools
import numbers
from typing import Any

from ferroflow.datastream._udf import describe

__all__ = ["MemorySize", "SlotSharingGroup"]

_UNITS = ((1 << 40, "tb"), (1 << 30, "gb"), (1 << 20, "mb"), (1 << 10, "kb"))


@functools.total_ordering
class MemorySize:
    """A number of bytes, viewable in different units."""

    def __init__(self, j_memory_size: Any = None, bytes_size: int | None = None) -> None:
        if j_memory_size is not None:
            raise TypeError("MemorySize takes bytes_size=...; ferroflow has no Java objects")
        if isinstance(bytes_size, bool) or not isinstance(bytes_size, int) or bytes_size < 0:
            raise ValueError(f"MemorySize bytes_size must be an int >= 0, got {describe(bytes_size)}")
        self._bytes = bytes_size

    @staticmethod
    def of_mebi_bytes(mebi_bytes: int) -> MemorySize:
        if isinstance(mebi_bytes, bool) or not isinstance(mebi_bytes, int):
            raise TypeError(f"of_mebi_bytes() takes an int, got {describe(mebi_bytes)}")
        return MemorySize(bytes_size=mebi_bytes << 20)

    def get_bytes(self) -> int:
        return self._bytes

    def get_kibi_bytes(self) -> int:
        return self._bytes >> 10

    def get_mebi_bytes(self) -> int:
        return self._bytes >> 20

    def get_gibi_bytes(self) -> int:
        return self._bytes >> 30

    def get_tebi_bytes(self) -> int:
        return self._bytes >> 40

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MemorySize) and self._bytes == other._bytes

    def __hash__(self) -> int:
        return hash(self._bytes)

    def __lt__(self, other: MemorySize) -> bool:
        if not isinstance(other, MemorySize):
            return NotImplemented
        return self._bytes < other._bytes

    def __str__(self) -> str:
        """Flink's form: in the largest unit that holds it exactly (``64 mb``, ``1000 bytes``)."""
        for size, unit in _UNITS:
            if self._bytes and self._bytes % size == 0:
                return f"{self._bytes // size} {unit}"
        return f"{self._bytes} bytes"

    def __repr__(self) -> str:
        return f"MemorySize({self})"


def _memory(value: Any, what: str) -> MemorySize:
    if not isinstance(value, MemorySize):
        raise TypeError(f"{what} takes a MemorySize, got {describe(value)}")
    return value


def _mebi_bytes(value: Any, what: str) -> MemorySize:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} takes an int of MB >= 0, got {describe(value)}")
    return MemorySize.of_mebi_bytes(value)


class SlotSharingGroup:
    """The name and the resources of a slot sharing group: ``SlotSharingGroup.builder(name)``."""

    def __init__(
        self,
        name: str,
        cpu_cores: float | None = None,
        task_heap_memory: MemorySize | None = None,
        task_off_heap_memory: MemorySize | None = None,
        managed_memory: MemorySize | None = None,
        external_resources: dict[str, float] | None = None,
    ) -> None:
        self._name = name
        self._cpu_cores = cpu_cores
        self._task_heap_memory = task_heap_memory
        self._task_off_heap_memory = task_off_heap_memory
        self._managed_memory = managed_memory
        self._external_resources = dict(external_resources or {})

    def get_name(self) -> str:
        return self._name

    def get_managed_memory(self) -> MemorySize | None:
        return self._managed_memory

    def get_task_heap_memory(self) -> MemorySize | None:
        return self._task_heap_memory

    def get_task_off_heap_memory(self) -> MemorySize | None:
        return self._task_off_heap_memory

    def get_cpu_cores(self) -> float | None:
        return self._cpu_cores

    def get_external_resources(self) -> dict[str, float]:
        return dict(self._external_resources)

    @staticmethod
    def builder(name: str) -> SlotSharingGroup.Builder:
        return SlotSharingGroup.Builder(name)

    def _state(self) -> tuple[Any, ...]:
        return (
            self._name,
            self._cpu_cores,
            self._task_heap_memory,
            self._task_off_heap_memory,
            self._managed_memory,
            tuple(sorted(self._external_resources.items())),
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SlotSharingGroup) and self._state() == other._state()

    def __hash__(self) -> int:
        return hash(self._state())

    def __repr__(self) -> str:
        return f"SlotSharingGroup(name={self._name!r}, cpu_cores={self._cpu_cores}, task_heap_memory={self._task_heap_memory})"

    class Builder:
        """Builds a SlotSharingGroup. Giving any resource needs both the CPU cores and the task heap
        memory, as in Flink."""

        def __init__(self, name: str) -> None:
            if not isinstance(name, str) or not name:
                raise ValueError(f"a slot sharing group needs a name (a non-empty str), got {describe(name)}")
            self._name = name
            self._cpu_cores: float | None = None
            self._task_heap_memory: MemorySize | None = None
            self._task_off_heap_memory: MemorySize | None = None
            self._managed_memory: MemorySize | None = None
            self._external_resources: dict[str, float] = {}

        def set_cpu_cores(self, cpu_cores: float) -> SlotSharingGroup.Builder:
            if isinstance(cpu_cores, bool) or not isinstance(cpu_cores, numbers.Real) or not cpu_cores > 0:
                raise ValueError(f"The cpu cores should be positive, got {describe(cpu_cores)}")
            self._cpu_cores = float(cpu_cores)
            return self

        def set_task_heap_memory(self, task_heap_memory: MemorySize) -> SlotSharingGroup.Builder:
            memory = _memory(task_heap_memory, "set_task_heap_memory()")
            if memory.get_bytes() <= 0:
                raise ValueError("The task heap memory should be positive.")
            self._task_heap_memory = memory
            return self

        def set_task_heap_memory_mb(self, task_heap_memory_mb: int) -> SlotSharingGroup.Builder:
            return self.set_task_heap_memory(_mebi_bytes(task_heap_memory_mb, "set_task_heap_memory_mb()"))

        def set_task_off_heap_memory(self, task_off_heap_memory: MemorySize) -> SlotSharingGroup.Builder:
            self._task_off_heap_memory = _memory(task_off_heap_memory, "set_task_off_heap_memory()")
            return self

        def set_task_off_heap_memory_mb(self, task_off_heap_memory_mb: int) -> SlotSharingGroup.Builder:
            return self.set_task_off_heap_memory(_mebi_bytes(task_off_heap_memory_mb, "set_task_off_heap_memory_mb()"))

        def set_managed_memory(self, managed_memory: MemorySize) -> SlotSharingGroup.Builder:
            self._managed_memory = _memory(managed_memory, "set_managed_memory()")
            return self

        def set_managed_memory_mb(self, managed_memory_mb: int) -> SlotSharingGroup.Builder:
            return self.set_managed_memory(_mebi_bytes(managed_memory_mb, "set_managed_memory_mb()"))

        def set_external_resource(self, name: str, value: float) -> SlotSharingGroup.Builder:
            if not isinstance(name, str) or not name:
                raise ValueError(f"an external resource needs a name (a non-empty str), got {describe(name)}")
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
                raise ValueError(f"external resource {name!r} must be a number >= 0, got {describe(value)}")
            self._external_resources[name] = float(value)
            return self

        def build(self) -> SlotSharingGroup:
            if self._cpu_cores is not None and self._task_heap_memory is not None:
                zero = MemorySize(bytes_size=0)
                return SlotSharingGroup(
                    self._name,
                    self._cpu_cores,
                    self._task_heap_memory,
                    self._task_off_heap_memory or zero,
                    self._managed_memory or zero,
                    self._external_resources,
                )
            if (
                self._cpu_cores is not None
                or self._task_heap_memory is not None
                or self._task_off_heap_memory is not None
                or self._managed_memory is not None
                or self._external_resources
            ):
                raise ValueError(
                    "The cpu cores and task heap memory are required when specifying the resource of a "
                    "slot sharing group. You need to explicitly configure them with positive value."
                )
            return SlotSharingGroup(self._name)
