"""Type stubs of the Rust extension ``ferroflow._engine`` (the engine's Python boundary)."""

from collections.abc import Iterator
from typing import Any, Callable

from typing_extensions import Self, TypeAlias

DEFAULT_MAX_PARALLELISM: int

# (source_node, port, input_index, partitioning, custom) with partitioning one of
# forward, rebalance, rescale, shuffle, broadcast, keyed, custom; custom is
# (partition_fn, key_selector) for "custom", else None.
InputSpec: TypeAlias = tuple[int, int, int, str, tuple[Callable[..., Any], Callable[..., Any]] | None]

class JobBuilder:
    """Builds a job's plan node by node, then runs it once."""

    def __init__(
        self,
        job_name: str,
        max_parallelism: int,
        chaining: bool,
        batch_size: int,
        buffer_timeout_ms: int,
        channel_capacity: int,
    ) -> None: ...
    def add_source(self, name: str, parallelism: int, kind: str, arg: Any) -> int:
        """kind: "collection" (arg: list), "iterable" (arg: iterable), "sequence" (arg: (start, end))."""
    def add_udf(
        self,
        name: str,
        parallelism: int,
        style: str,
        spec: Any,
        function: str,
        inputs: list[InputSpec],
        side_ports: list[tuple[str, int]],
        keyed: bool,
        is_sink: bool,
        on_timer: bool = False,
    ) -> int:
        """style: map, flat_map, filter, process, sink, sink_with_context. ``spec.instantiate(info)``
        returns ``(callables, lifecycle)`` per subtask."""
    def add_key_by(self, name: str, parallelism: int, spec: Any, function: str, inputs: list[InputSpec]) -> int: ...
    def add_reduce(self, name: str, parallelism: int, spec: Any, inputs: list[InputSpec]) -> int: ...
    def add_aggregate(self, name: str, parallelism: int, aggregation: str, position: Any, inputs: list[InputSpec]) -> int:
        """aggregation: sum, min, max, min_by, max_by; position: int index or Row field name."""
    def add_print(
        self,
        name: str,
        parallelism: int,
        identifier: str | None,
        formatter: Callable[[Any], str] | None,
        inputs: list[InputSpec],
    ) -> int: ...
    def add_watermarks(
        self,
        name: str,
        parallelism: int,
        spec: Any,
        kind: str,
        delay: int,
        has_assigner: bool,
        per_record: bool,
        interval_ms: int,
        idleness_ms: int | None,
        inputs: list[InputSpec],
    ) -> int:
        """kind: bounded (watermark = max timestamp - delay - 1), none, or generator."""
    def add_window(
        self,
        name: str,
        parallelism: int,
        inputs: list[InputSpec],
        assigner: tuple[Any, ...],
        trigger: tuple[Any, ...] | None,
        allowed_lateness: int,
        late_tag: str | None,
        side_ports: list[tuple[str, int]],
        fn_kind: str,
        fn_style: str | None,
        spec: Any,
        keyless: bool,
        function: str,
    ) -> int:
        """fn_kind: reduce, aggregate, process or apply; fn_style: apply or process (a window
        function after reduce/aggregate)."""
    def add_collect(self, name: str, inputs: list[InputSpec]) -> int: ...
    def use_manual_clock(self, start_time: int) -> None:
        """Run by hand (tests): manual processing time, nothing buffered, no threads."""
    def start_manual(self) -> ManualRun: ...
    def set_chaining(self, node: int, chaining: str) -> None:
        """chaining: always, head (start_new_chain), never (disable_chaining)."""
    def set_uid(self, node: int, uid: str) -> None: ...
    def plan_json(self) -> str: ...
    def execute(self) -> dict[str, Any]:
        """Runs the job to the end; returns ``{"net_runtime_ms": int, "tasks": [...]}``."""
    def execute_and_collect(self) -> CollectIterator: ...

class CollectIterator(Iterator[Any]):
    def __iter__(self) -> CollectIterator: ...
    def __next__(self) -> Any: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> bool: ...

class ManualRun:
    """A job stepped by hand (ferroflow.testing)."""

    def push(self, source: int, value: Any, timestamp: int | None = None) -> None: ...
    def push_watermark(self, source: int, watermark: int) -> None: ...
    def end_input(self, source: int) -> None: ...
    def advance_time(self, time: int) -> None: ...
    def current_time(self) -> int: ...
    def run(self) -> bool:
        """Runs until nothing is left to do; returns whether the job finished."""
    def take(self, index: int) -> list[Any]: ...
    def close(self) -> None: ...

class WindowContext:
    """``context`` of ProcessWindowFunction.process."""

    def window(self) -> Any: ...
    def current_processing_time(self) -> int: ...
    def current_watermark(self) -> int: ...
    def window_state(self) -> Any: ...
    def global_state(self) -> Any: ...

class TriggerContext:
    """``ctx`` of a Python Trigger's methods."""

    def get_current_processing_time(self) -> int: ...
    def get_current_watermark(self) -> int: ...
    def register_processing_time_timer(self, time: int) -> None: ...
    def register_event_time_timer(self, time: int) -> None: ...
    def delete_processing_time_timer(self, time: int) -> None: ...
    def delete_event_time_timer(self, time: int) -> None: ...
    def get_partitioned_state(self, *args: Any) -> Any: ...
    def merge_partitioned_state(self, *args: Any) -> Any: ...

class Context:
    """``ctx`` of process functions; also its own timer service."""

    def timestamp(self) -> int | None: ...
    def get_current_key(self) -> Any: ...
    def time_domain(self) -> Any: ...
    def timer_service(self) -> Context: ...
    def current_processing_time(self) -> int: ...
    def current_watermark(self) -> int: ...
    def register_event_time_timer(self, timestamp: int) -> None: ...
    def register_processing_time_timer(self, timestamp: int) -> None: ...
    def delete_event_time_timer(self, timestamp: int) -> None: ...
    def delete_processing_time_timer(self, timestamp: int) -> None: ...
