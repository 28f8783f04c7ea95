"""The logical plan on the Python side: one Transformation per operator the user's program
created, and the inputs that connect them. Turned into an engine job by ``_job.py``."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from ferroflow.common.typeinfo import TypeInformation

_ids = itertools.count(1)

# Partitionings an input can have. "default" becomes forward when both sides have the same
# parallelism and rebalance otherwise (Flink's rule).
PARTITIONINGS = ("default", "forward", "rebalance", "rescale", "shuffle", "broadcast", "keyed", "custom")


@dataclass(frozen=True)
class StreamPart:
    """One producer of a stream: output ``tag`` (None: main output) of ``transformation``, read
    with ``partitioning``. A union of streams has several parts."""

    transformation: Transformation
    tag: str | None = None
    partitioning: str = "default"
    # For "custom": (partition_fn, key_selector).
    custom: tuple[Any, Any] | None = None

    def with_partitioning(self, partitioning: str, custom: tuple[Any, Any] | None = None) -> StreamPart:
        return StreamPart(self.transformation, self.tag, partitioning, custom)


@dataclass(eq=False)
class Input:
    part: StreamPart
    # Which input of a two-input operator (0 or 1).
    index: int = 0


@dataclass(eq=False)
class Transformation:
    """One node of the plan. ``kind`` says which engine node it becomes:

    - "source": ``source_kind`` in collection / iterable / sequence, ``payload`` its argument
    - "udf": a user function called in ``style`` (map, flat_map, filter, process, sink, ...)
    - "key_by": a key selector
    - "reduce", "aggregate" (``payload`` = (aggregation, position)), "print" (``payload`` =
      (identifier, formatter)), "collect"
    - "file_source", "file_sink": ``payload`` is the connector's spec (``connectors/_file_*.py``)
    """

    kind: str
    name: str
    inputs: list[Input] = field(default_factory=list)
    parallelism: int | None = None
    # Take the parallelism of the first input (key_by) instead of the environment default.
    parallelism_follows_input: bool = False
    # Fixed (from_collection, from_iterable): set_parallelism may not change it.
    parallelism_fixed: bool = False
    uid: str | None = None
    # set_max_parallelism (key groups of its keyed state) and set_buffer_timeout (ms), if set.
    max_parallelism: int | None = None
    buffer_timeout: int | None = None
    description: str | None = None
    chaining: str = "always"
    style: str | None = None
    spec: Any = None
    function_name: str = ""
    keyed: bool = False
    # A process function whose last method is on_timer.
    has_on_timer: bool = False
    is_sink: bool = False
    source_kind: str | None = None
    payload: Any = None
    output_type: TypeInformation | None = None
    id: int = field(default_factory=lambda: next(_ids))

    def main_part(self) -> StreamPart:
        return StreamPart(self)
