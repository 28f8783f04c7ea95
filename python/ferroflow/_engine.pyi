"""Type stubs of the Rust extension ``ferroflow._engine`` (the engine's Python boundary)."""

from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

DEFAULT_MAX_PARALLELISM: int

# (source_node, port, input_index, partitioning, custom) with partitioning one of
# forward, rebalance, rescale, shuffle, broadcast, keyed, custom; custom is
# (partition_fn, key_selector) for "custom", else None.
InputSpec = Tuple[int, int, int, str, Optional[Tuple[Callable[..., Any], Callable[..., Any]]]]

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
        inputs: List[InputSpec],
        side_ports: List[Tuple[str, int]],
        keyed: bool,
        is_sink: bool,
    ) -> int:
        """style: map, flat_map, filter, process, sink, sink_with_context. ``spec.instantiate(info)``
        returns ``(callables, lifecycle)`` per subtask."""
    def add_key_by(self, name: str, parallelism: int, spec: Any, inputs: List[InputSpec]) -> int: ...
    def add_reduce(self, name: str, parallelism: int, spec: Any, inputs: List[InputSpec]) -> int: ...
    def add_aggregate(self, name: str, parallelism: int, aggregation: str, position: Any, inputs: List[InputSpec]) -> int:
        """aggregation: sum, min, max, min_by, max_by; position: int index or Row field name."""
    def add_print(
        self,
        name: str,
        parallelism: int,
        identifier: Optional[str],
        formatter: Optional[Callable[[Any], str]],
        inputs: List[InputSpec],
    ) -> int: ...
    def add_collect(self, name: str, inputs: List[InputSpec]) -> int: ...
    def set_chaining(self, node: int, chaining: str) -> None:
        """chaining: always, head (start_new_chain), never (disable_chaining)."""
    def set_uid(self, node: int, uid: str) -> None: ...
    def plan_json(self) -> str: ...
    def execute(self) -> Dict[str, Any]:
        """Runs the job to the end; returns ``{"net_runtime_ms": int, "tasks": [...]}``."""
    def execute_and_collect(self) -> "CollectIterator": ...

class CollectIterator(Iterator[Any]):
    def __iter__(self) -> "CollectIterator": ...
    def __next__(self) -> Any: ...
    def close(self) -> None: ...
    def __enter__(self) -> "CollectIterator": ...
    def __exit__(self, *exc: object) -> bool: ...

class Context:
    """``ctx`` of process functions; also its own timer service."""

    def timestamp(self) -> Optional[int]: ...
    def get_current_key(self) -> Any: ...
    def timer_service(self) -> "Context": ...
    def current_processing_time(self) -> int: ...
    def current_watermark(self) -> int: ...
    def register_event_time_timer(self, timestamp: int) -> None: ...
    def register_processing_time_timer(self, timestamp: int) -> None: ...
    def delete_event_time_timer(self, timestamp: int) -> None: ...
    def delete_processing_time_timer(self, timestamp: int) -> None: ...
