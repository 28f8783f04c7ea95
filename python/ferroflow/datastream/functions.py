"""The function interfaces of the DataStream API. Every one of them may also be given as a plain
callable (a lambda or a function) where PyFlink would take the class."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from ferroflow.datastream.checkpointed_function import (
    CheckpointedFunction,
    FunctionInitializationContext,
    FunctionSnapshotContext,
)
from ferroflow.datastream.runtime_context import RuntimeContext
from ferroflow.datastream.time_domain import TimeDomain

__all__ = [
    "AggregateFunction",
    "AllWindowFunction",
    "BaseBroadcastProcessFunction",
    "BroadcastProcessFunction",
    "CheckpointedFunction",
    "CoFlatMapFunction",
    "CoMapFunction",
    "CoProcessFunction",
    "FilterFunction",
    "FlatMapFunction",
    "Function",
    "FunctionInitializationContext",
    "FunctionSnapshotContext",
    "KeySelector",
    "KeyedBroadcastProcessFunction",
    "KeyedCoProcessFunction",
    "KeyedProcessFunction",
    "MapFunction",
    "Partitioner",
    "ProcessAllWindowFunction",
    "ProcessFunction",
    "ProcessWindowFunction",
    "ReduceFunction",
    "RuntimeContext",
    "SinkFunction",
    "TimerService",
    "WindowFunction",
]


class Function(ABC):
    """Base of every function class. ``open`` runs once per parallel subtask before the first
    record, ``close`` once after the last."""

    def open(self, runtime_context: RuntimeContext) -> None:
        pass

    def close(self) -> None:
        pass


class MapFunction(Function):
    @abstractmethod
    def map(self, value: Any) -> Any:
        """Returns the one output for ``value``."""


class FlatMapFunction(Function):
    @abstractmethod
    def flat_map(self, value: Any) -> Iterable[Any]:
        """Yields (or returns an iterable of) the outputs for ``value``."""


class FilterFunction(Function):
    @abstractmethod
    def filter(self, value: Any) -> bool:
        """True to keep ``value``."""


class ReduceFunction(Function):
    @abstractmethod
    def reduce(self, value1: Any, value2: Any) -> Any:
        """Combines the reduced value so far with the next value."""


class KeySelector(Function):
    @abstractmethod
    def get_key(self, value: Any) -> Any:
        """The key of ``value``: a hashable value."""


class Partitioner(Function):
    @abstractmethod
    def partition(self, key: Any, num_partitions: int) -> int:
        """The partition, in ``range(num_partitions)``, for ``key``."""


class SinkFunction(Function):
    """A sink written in Python: ``invoke`` is called for each value."""

    @abstractmethod
    def invoke(self, value: Any, context: Any) -> None:
        """Writes ``value`` somewhere. ``context.timestamp()`` gives its timestamp."""


class TimerService(ABC):
    """Clocks and timers of a process function's context (``ctx.timer_service()``)."""

    @abstractmethod
    def current_processing_time(self) -> int: ...

    @abstractmethod
    def current_watermark(self) -> int: ...

    @abstractmethod
    def register_processing_time_timer(self, timestamp: int) -> None: ...

    @abstractmethod
    def register_event_time_timer(self, timestamp: int) -> None: ...

    @abstractmethod
    def delete_processing_time_timer(self, timestamp: int) -> None: ...

    @abstractmethod
    def delete_event_time_timer(self, timestamp: int) -> None: ...


class ProcessFunction(Function):
    """Processes each value with access to its timestamp; yields outputs, and ``(OutputTag,
    value)`` pairs for side outputs."""

    class Context(ABC):
        @abstractmethod
        def timestamp(self) -> int | None: ...

        @abstractmethod
        def timer_service(self) -> TimerService: ...

    @abstractmethod
    def process_element(self, value: Any, ctx: ProcessFunction.Context) -> Iterable[Any] | None:
        """Yields the outputs for ``value``."""


class KeyedProcessFunction(Function):
    """A process function on a keyed stream: ``ctx.get_current_key()`` gives the key."""

    class Context(ABC):
        @abstractmethod
        def timestamp(self) -> int | None: ...

        @abstractmethod
        def timer_service(self) -> TimerService: ...

        @abstractmethod
        def get_current_key(self) -> Any: ...

    class OnTimerContext(Context):
        @abstractmethod
        def time_domain(self) -> TimeDomain: ...

    @abstractmethod
    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Iterable[Any] | None:
        """Yields the outputs for ``value``."""

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Iterable[Any] | None:
        """Called when a timer fires."""
        return None


class CoMapFunction(Function):
    @abstractmethod
    def map1(self, value: Any) -> Any: ...

    @abstractmethod
    def map2(self, value: Any) -> Any: ...


class CoFlatMapFunction(Function):
    @abstractmethod
    def flat_map1(self, value: Any) -> Iterable[Any]: ...

    @abstractmethod
    def flat_map2(self, value: Any) -> Iterable[Any]: ...


class CoProcessFunction(Function):
    class Context(ABC):
        @abstractmethod
        def timestamp(self) -> int | None: ...

        @abstractmethod
        def timer_service(self) -> TimerService: ...

    @abstractmethod
    def process_element1(self, value: Any, ctx: CoProcessFunction.Context) -> Iterable[Any] | None: ...

    @abstractmethod
    def process_element2(self, value: Any, ctx: CoProcessFunction.Context) -> Iterable[Any] | None: ...


class KeyedCoProcessFunction(Function):
    class Context(ABC):
        @abstractmethod
        def timestamp(self) -> int | None: ...

        @abstractmethod
        def timer_service(self) -> TimerService: ...

        @abstractmethod
        def get_current_key(self) -> Any: ...

    class OnTimerContext(Context):
        @abstractmethod
        def time_domain(self) -> TimeDomain: ...

    @abstractmethod
    def process_element1(self, value: Any, ctx: KeyedCoProcessFunction.Context) -> Iterable[Any] | None: ...

    @abstractmethod
    def process_element2(self, value: Any, ctx: KeyedCoProcessFunction.Context) -> Iterable[Any] | None: ...

    def on_timer(self, timestamp: int, ctx: KeyedCoProcessFunction.OnTimerContext) -> Iterable[Any] | None:
        return None


# ------------------------------------------------------------------------------------------------
# Window functions. As in PyFlink 2.3, the window function classes are Generic, so that
# ``ProcessWindowFunction[tuple, tuple, str, TimeWindow]`` and ``ProcessWindowFunction.Context[W]``
# can be written; AggregateFunction is not.

IN = TypeVar("IN")
OUT = TypeVar("OUT")
KEY = TypeVar("KEY")
W = TypeVar("W")
W2 = TypeVar("W2")


class AggregateFunction(Function):
    """Aggregates values into an accumulator: ``create_accumulator()`` starts one, ``add`` folds
    a value in, ``get_result`` gives the output, and ``merge`` combines two accumulators (for
    merging windows such as sessions)."""

    @abstractmethod
    def create_accumulator(self) -> Any:
        """A new, empty accumulator."""

    @abstractmethod
    def add(self, value: Any, accumulator: Any) -> Any:
        """Returns ``accumulator`` with ``value`` added (it may be changed in place and returned)."""

    @abstractmethod
    def get_result(self, accumulator: Any) -> Any:
        """The result of the aggregation in ``accumulator``."""

    @abstractmethod
    def merge(self, acc_a: Any, acc_b: Any) -> Any:
        """An accumulator with the contents of both (either may be reused)."""


class WindowFunction(Function, Generic[IN, OUT, KEY, W]):
    """Evaluates a window of a keyed stream: ``apply(key, window, inputs)`` yields (or returns an
    iterable of) the outputs."""

    @abstractmethod
    def apply(self, key: KEY, window: W, inputs: Iterable[IN]) -> Iterable[OUT]:
        """The outputs for the elements ``inputs`` of ``window`` of ``key``."""


class AllWindowFunction(Function, Generic[IN, OUT, W]):
    """Evaluates a window of a non-keyed stream (``window_all``): ``apply(window, inputs)``."""

    @abstractmethod
    def apply(self, window: W, inputs: Iterable[IN]) -> Iterable[OUT]:
        """The outputs for the elements ``inputs`` of ``window``."""


class ProcessWindowFunction(Function, Generic[IN, OUT, KEY, W]):
    """Evaluates a window of a keyed stream with a context: ``process(key, context, elements)``
    yields the outputs; ``context.window()`` is the window. ``clear(context)`` is called when the
    window is discarded, to drop per-window state."""

    class Context(ABC, Generic[W2]):
        """The window being evaluated, clocks, and per-window and per-key state."""

        @abstractmethod
        def window(self) -> W2:
            """The window being evaluated."""

        @abstractmethod
        def current_processing_time(self) -> int: ...

        @abstractmethod
        def current_watermark(self) -> int: ...

        @abstractmethod
        def window_state(self) -> Any:
            """State scoped to the key and this window (clean it up in ``clear``)."""

        @abstractmethod
        def global_state(self) -> Any:
            """State scoped to the key, shared by all its windows."""

    @abstractmethod
    def process(self, key: KEY, context: ProcessWindowFunction.Context[Any], elements: Iterable[IN]) -> Iterable[OUT]:
        """The outputs for the ``elements`` of ``context.window()`` of ``key``."""

    def clear(self, context: ProcessWindowFunction.Context[Any]) -> None:
        """Called when the window is discarded (the watermark passed its end plus the allowed
        lateness)."""


class ProcessAllWindowFunction(Function, Generic[IN, OUT, W]):
    """Evaluates a window of a non-keyed stream (``window_all``) with a context:
    ``process(context, elements)``."""

    class Context(ABC, Generic[W2]):
        """The window being evaluated and its state."""

        @abstractmethod
        def window(self) -> W2:
            """The window being evaluated."""

        @abstractmethod
        def window_state(self) -> Any:
            """State scoped to this window (clean it up in ``clear``)."""

        @abstractmethod
        def global_state(self) -> Any:
            """State shared by all windows."""

    @abstractmethod
    def process(self, context: ProcessAllWindowFunction.Context[Any], elements: Iterable[IN]) -> Iterable[OUT]:
        """The outputs for the ``elements`` of ``context.window()``."""

    def clear(self, context: ProcessAllWindowFunction.Context[Any]) -> None:
        """Called when the window is discarded."""


# ------------------------------------------------------------------------------------------------
# Broadcast process functions: the non-broadcast side reads the broadcast state, the broadcast
# side changes it (``ds.connect(other.broadcast(descriptor)).process(...)``).

IN1 = TypeVar("IN1")
IN2 = TypeVar("IN2")


class BaseBroadcastProcessFunction(Function):
    class BaseContext(ABC):
        @abstractmethod
        def timestamp(self) -> int | None: ...

        @abstractmethod
        def current_processing_time(self) -> int: ...

        @abstractmethod
        def current_watermark(self) -> int: ...

    class Context(BaseContext):
        """The context of ``process_broadcast_element``: the broadcast state can be changed."""

        @abstractmethod
        def get_broadcast_state(self, state_descriptor: Any) -> Any: ...

    class ReadOnlyContext(BaseContext):
        """The context of ``process_element``: the broadcast state is read-only."""

        @abstractmethod
        def get_broadcast_state(self, state_descriptor: Any) -> Any: ...


class BroadcastProcessFunction(BaseBroadcastProcessFunction, Generic[IN1, IN2, OUT]):
    @abstractmethod
    def process_element(self, value: Any, ctx: BaseBroadcastProcessFunction.ReadOnlyContext) -> Iterable[Any] | None:
        """A record of the non-broadcast stream."""

    @abstractmethod
    def process_broadcast_element(self, value: Any, ctx: BaseBroadcastProcessFunction.Context) -> Iterable[Any] | None:
        """A record of the broadcast stream (every parallel instance gets each one)."""


class KeyedBroadcastProcessFunction(BaseBroadcastProcessFunction, Generic[KEY, IN1, IN2, OUT]):
    class Context(BaseBroadcastProcessFunction.Context):
        @abstractmethod
        def apply_to_keyed_state(self, state_descriptor: Any, function: Any) -> None:
            """Calls ``function(key, state)`` for every key of this parallel instance that has
            the state ``state_descriptor`` describes (to update or clear it when a broadcast
            record says so)."""

    class ReadOnlyContext(BaseBroadcastProcessFunction.ReadOnlyContext):
        @abstractmethod
        def timer_service(self) -> TimerService: ...

        @abstractmethod
        def get_current_key(self) -> Any: ...

    class OnTimerContext(ReadOnlyContext):
        @abstractmethod
        def time_domain(self) -> TimeDomain: ...

    @abstractmethod
    def process_element(
        self, value: Any, ctx: KeyedBroadcastProcessFunction.ReadOnlyContext
    ) -> Iterable[Any] | None:
        """A record of the keyed stream; keyed state and timers are those of its key."""

    @abstractmethod
    def process_broadcast_element(self, value: Any, ctx: BaseBroadcastProcessFunction.Context) -> Iterable[Any] | None:
        """A record of the broadcast stream (every parallel instance gets each one)."""

    def on_timer(self, timestamp: int, ctx: KeyedBroadcastProcessFunction.OnTimerContext) -> Iterable[Any] | None:
        return None
