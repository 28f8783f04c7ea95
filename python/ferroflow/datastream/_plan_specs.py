"""Internal: the typed specs in which a job's plan crosses to the engine.

``build_job`` (``_job.py``) turns each transformation into one ``NodeSpec`` (name, parallelism,
inputs) and the spec of its kind, and hands both to the matching ``_engine.JobBuilder.add_*``
method. The engine reads every spec by attribute name (``src/bindings/plan/``), so a field is
added or renamed on both sides at once, and nothing crosses as a positional tuple.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AggregateSpec",
    "EdgeSpec",
    "KeyBySpec",
    "NodeSpec",
    "PrintSpec",
    "ReduceSpec",
    "SourceSpec",
    "UdfSpec",
    "WatermarksSpec",
    "WindowSpec",
]


@dataclass(frozen=True)
class EdgeSpec:
    """One input of a node: from ``source`` (a node id) and its output ``port`` (0 = main
    output, 1, 2, ... = side outputs), into logical input ``input`` (0, or 1 for the second
    stream of a connected pair), partitioned by ``partitioning`` (forward, rebalance, rescale,
    shuffle, broadcast, keyed, custom). ``custom`` is ``(partition_fn, key_selector)`` for
    "custom"."""

    source: int
    port: int
    input: int
    partitioning: str
    custom: tuple[Callable[..., Any], Callable[..., Any]] | None = None


@dataclass(frozen=True)
class NodeSpec:
    """What every node has: its name, parallelism and inputs."""

    name: str
    parallelism: int
    inputs: list[EdgeSpec] = field(default_factory=list)


@dataclass(frozen=True)
class SourceSpec:
    """``kind``: "collection" (``payload`` a list), "iterable" (an iterator), "sequence"
    (``(start, end)``), "manual" (a test feed) or "rewindable" (``(source, splits)``)."""

    kind: str
    payload: Any


@dataclass(frozen=True)
class UdfSpec:
    """A user function called in ``style`` (map, flat_map, filter, process, sink,
    sink_with_context, ...). ``functions`` is the picklable function spec (``_udf.py``);
    ``function_name`` names it in errors; ``side_ports`` pairs output tag ids with ports 1, 2..."""

    style: str
    functions: Any
    function_name: str
    side_ports: list[tuple[str, int]]
    keyed: bool
    is_sink: bool
    on_timer: bool


@dataclass(frozen=True)
class KeyBySpec:
    functions: Any
    function_name: str


@dataclass(frozen=True)
class ReduceSpec:
    functions: Any
    # BATCH execution: only each key's final value, at the end of the input.
    final_only: bool = False
    # The function is a ReduceFunction: its runtime context has the key's keyed state, as in
    # PyFlink (a plain callable has no context, and keeps the faster path).
    keyed_state: bool = False


@dataclass(frozen=True)
class AggregateSpec:
    """``aggregation``: sum, min, max, min_by or max_by; ``position``: the field (an index or a
    name), or None for the value itself."""

    aggregation: str
    position: Any
    # BATCH execution: only each key's final value, at the end of the input.
    final_only: bool = False


@dataclass(frozen=True)
class PrintSpec:
    identifier: str | None
    formatter: Callable[[Any], str] | None


@dataclass(frozen=True)
class WatermarksSpec:
    """``kind``: "bounded" (with ``delay_ms``), "none" or "generator". ``functions`` gives
    ``[assigner]`` if ``has_assigner``, then the generator factory for "generator"."""

    functions: Any
    kind: str
    delay_ms: int
    has_assigner: bool
    per_record: bool
    interval_ms: int
    idleness_ms: int | None


@dataclass(frozen=True)
class WindowSpec:
    """A window operator. ``assigner`` and ``trigger`` are the spec tuples of the Python
    classes; ``fn_kind`` is reduce, aggregate, process or apply, ``fn_style`` apply or process
    for a window function given with reduce/aggregate; ``late_tag`` the side output of late
    records, among ``side_ports``."""

    assigner: Any
    trigger: Any
    allowed_lateness_ms: int
    late_tag: str | None
    side_ports: list[tuple[str, int]]
    fn_kind: str
    fn_style: str | None
    functions: Any
    keyless: bool
    function_name: str
