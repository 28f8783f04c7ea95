"""Windows, window assigners and triggers, as in ``pyflink.datastream.window``.

An assigner puts each record of a keyed stream into zero or more windows; a trigger decides when
a window's contents are evaluated (FIRE) and dropped (PURGE). The built-in assigners and triggers
are run natively by the engine, which reads each through ``_engine_spec()``; a user's own Trigger
subclass is called from the engine.

Every time span is accepted as ``Time``, ``Duration``, ``datetime.timedelta`` or int
milliseconds (PyFlink's factories take ``Time`` and its constructors int milliseconds). Invalid
sizes, slides, offsets and gaps raise ValueError (PyFlink raises a bare Exception).
"""

from __future__ import annotations

import functools
import inspect
import numbers
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable
from enum import Enum
from typing import Any, Callable, Generic, TypeVar

from typing_extensions import Self

from ferroflow.common._durations import to_millis
from ferroflow.common.constants import MAX_LONG_VALUE, MIN_LONG_VALUE

__all__ = [
    "ContinuousEventTimeTrigger",
    "ContinuousProcessingTimeTrigger",
    "CountSlidingWindowAssigner",
    "CountTrigger",
    "CountTumblingWindowAssigner",
    "CountWindow",
    "DynamicEventTimeSessionWindows",
    "DynamicProcessingTimeSessionWindows",
    "EventTimeSessionWindows",
    "EventTimeTrigger",
    "GlobalWindow",
    "GlobalWindows",
    "MergingWindowAssigner",
    "NeverTrigger",
    "ProcessingTimeSessionWindows",
    "ProcessingTimeTrigger",
    "PurgingTrigger",
    "SessionWindowTimeGapExtractor",
    "SlidingEventTimeWindows",
    "SlidingProcessingTimeWindows",
    "TimeWindow",
    "Trigger",
    "TriggerResult",
    "TumblingEventTimeWindows",
    "TumblingProcessingTimeWindows",
    "Window",
    "WindowAssigner",
]

T = TypeVar("T")
W = TypeVar("W")
W2 = TypeVar("W2")

_NO_TIMESTAMP = (
    "Record has no timestamp (Long.MIN_VALUE). Event-time windows need timestamps: did you forget "
    "to call 'data_stream.assign_timestamps_and_watermarks(...)'?"
)


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} ({text})"


def _count(value: Any, what: str) -> int:
    """``value`` as a positive int (a number of elements)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be an int (a number of elements), got {_describe(value)}")
    if value <= 0:
        raise ValueError(f"{what} must be greater than zero, got {value}")
    return int(value)


# ------------------------------------------------------------------------------------------------
# Windows


class Window(ABC):
    """A finite bucket of elements. Every element of a window has arrived once the watermark
    passes ``max_timestamp()``."""

    __slots__ = ()

    @abstractmethod
    def max_timestamp(self) -> int:
        """The largest timestamp that belongs to this window."""


@functools.total_ordering
class TimeWindow(Window):
    """The time interval ``[start, end)`` in milliseconds: ``start`` inclusive, ``end`` exclusive.

    Windows order by ``(start, end)``; ``repr`` is ``TimeWindow(start=0, end=5)``.
    """

    __slots__ = ("end", "start")

    def __init__(self, start: int, end: int) -> None:
        self.start = start
        self.end = end

    def max_timestamp(self) -> int:
        """``end - 1``: the watermark at which the window is complete."""
        return self.end - 1

    def intersects(self, other: TimeWindow) -> bool:
        """True if this window and ``other`` overlap or touch (``[1, 2)`` and ``[2, 4)`` do)."""
        return self.start <= other.end and self.end >= other.start

    def cover(self, other: TimeWindow) -> TimeWindow:
        """The smallest window that contains both this window and ``other``."""
        return TimeWindow(min(self.start, other.start), max(self.end, other.end))

    @staticmethod
    def get_window_start_with_offset(timestamp: int, offset: int, window_size: int) -> int:
        """The start of the window of ``window_size`` shifted by ``offset`` that contains
        ``timestamp``: ``timestamp - (timestamp - offset + window_size) % window_size`` with
        floor modulo, so negative timestamps fall in the window below them."""
        return timestamp - (timestamp - offset + window_size) % window_size

    @staticmethod
    def merge_windows(windows: Iterable[TimeWindow], callback: Any) -> None:
        """Merges overlapping or touching windows: for each group of two or more, calls
        ``callback.merge(to_be_merged, merge_result)`` (or ``callback(to_be_merged,
        merge_result)`` for a plain callable) with the group's windows in order."""
        merge = getattr(callback, "merge", None)
        if not callable(merge):
            if not callable(callback):
                raise TypeError(
                    "merge_windows() takes a MergingWindowAssigner.MergeCallback or a callable "
                    f"(to_be_merged, merge_result), got {_describe(callback)}"
                )
            merge = callback
        current: TimeWindow | None = None
        group: list[TimeWindow] = []
        groups: list[tuple[TimeWindow, list[TimeWindow]]] = []
        for candidate in sorted(set(windows)):
            if current is not None and current.intersects(candidate):
                current = current.cover(candidate)
                group.append(candidate)
                continue
            if current is not None:
                groups.append((current, group))
            current, group = candidate, [candidate]
        if current is not None:
            groups.append((current, group))
        for merge_result, to_be_merged in groups:
            if len(to_be_merged) > 1:
                merge(to_be_merged, merge_result)

    def __eq__(self, other: object) -> bool:
        if type(other) is not TimeWindow:
            return NotImplemented
        return self.start == other.start and self.end == other.end  # type: ignore[attr-defined]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, TimeWindow):
            return NotImplemented
        return (self.start, self.end) < (other.start, other.end)

    def __hash__(self) -> int:
        return hash((self.start, self.end))

    def __repr__(self) -> str:
        return f"TimeWindow(start={self.start}, end={self.end})"

    def __reduce__(self) -> tuple[Any, ...]:
        return TimeWindow, (self.start, self.end)


class CountWindow(Window):
    """The window with number ``id`` of a count-window assigner (its elements' positions divided
    by the window size or slide)."""

    __slots__ = ("id",)

    def __init__(self, id: int) -> None:
        self.id = id

    def max_timestamp(self) -> int:
        """``MAX_LONG_VALUE``: count windows do not end in time."""
        return MAX_LONG_VALUE

    def __eq__(self, other: object) -> bool:
        if type(other) is not CountWindow:
            return NotImplemented
        return self.id == other.id  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((CountWindow, self.id))

    def __repr__(self) -> str:
        return f"CountWindow(id={self.id})"

    def __reduce__(self) -> tuple[Any, ...]:
        return CountWindow, (self.id,)


class GlobalWindow(Window):
    """The single window of ``GlobalWindows``: every element of a key goes in it. There is one
    instance, ``GlobalWindow.get()``."""

    __slots__ = ()
    _instance: GlobalWindow | None = None

    def __new__(cls) -> Self:
        if GlobalWindow._instance is None:
            GlobalWindow._instance = super().__new__(cls)
        return GlobalWindow._instance

    @staticmethod
    def get() -> GlobalWindow:
        """The global window."""
        return GlobalWindow()

    def max_timestamp(self) -> int:
        """``MAX_LONG_VALUE``: the global window never ends in time."""
        return MAX_LONG_VALUE

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GlobalWindow)

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "GlobalWindow"

    def __reduce__(self) -> tuple[Any, ...]:
        return GlobalWindow, ()


# ------------------------------------------------------------------------------------------------
# Triggers


class TriggerResult(Enum):
    """What a trigger decides for a window. FIRE evaluates the window function and keeps the
    contents; PURGE drops the contents; FIRE_AND_PURGE does both; CONTINUE does nothing. Firing a
    window without contents emits nothing."""

    CONTINUE = (False, False)
    FIRE_AND_PURGE = (True, True)
    FIRE = (True, False)
    PURGE = (False, True)

    def is_fire(self) -> bool:
        return self.value[0]

    def is_purge(self) -> bool:
        return self.value[1]


class Trigger(ABC, Generic[T, W]):
    """Decides when a window (of one key) is evaluated and when its contents are dropped.

    Triggers keep no state in attributes (one instance serves every key and window): they use
    timers and ``ctx.get_partitioned_state(descriptor)``. To be used with a merging assigner
    (sessions) a trigger returns True from ``can_merge()`` and implements ``on_merge``.
    """

    class TriggerContext(ABC):
        """Given to the trigger's methods: clocks, timers and state of the current key and
        window."""

        @abstractmethod
        def get_current_processing_time(self) -> int: ...

        def get_metric_group(self) -> Any:
            """The metric group of the window operator (not available yet)."""
            raise NotImplementedError("metric groups are not available in ferroflow yet")

        @abstractmethod
        def get_current_watermark(self) -> int: ...

        @abstractmethod
        def register_processing_time_timer(self, time: int) -> None:
            """``on_processing_time(time, ...)`` is called when the wall clock passes ``time``."""

        @abstractmethod
        def register_event_time_timer(self, time: int) -> None:
            """``on_event_time(time, ...)`` is called when the watermark passes ``time``."""

        @abstractmethod
        def delete_processing_time_timer(self, time: int) -> None: ...

        @abstractmethod
        def delete_event_time_timer(self, time: int) -> None: ...

        @abstractmethod
        def get_partitioned_state(self, state_descriptor: Any) -> Any:
            """The state ``state_descriptor`` names, scoped to the current key and window."""

    class OnMergeContext(TriggerContext):
        """Given to ``on_merge``: can also merge the merged windows' state into the new one."""

        @abstractmethod
        def merge_partitioned_state(self, state_descriptor: Any) -> None: ...

    @abstractmethod
    def on_element(self, element: T, timestamp: int, window: W, ctx: Trigger.TriggerContext) -> TriggerResult:
        """Called for every element added to ``window``."""

    @abstractmethod
    def on_processing_time(self, time: int, window: W, ctx: Trigger.TriggerContext) -> TriggerResult:
        """Called when a processing-time timer registered for ``window`` fires."""

    @abstractmethod
    def on_event_time(self, time: int, window: W, ctx: Trigger.TriggerContext) -> TriggerResult:
        """Called when an event-time timer registered for ``window`` fires."""

    def can_merge(self) -> bool:
        """True if the trigger supports merging windows (and implements ``on_merge``)."""
        return False

    def on_merge(self, window: W, ctx: Trigger.OnMergeContext) -> None:
        """Called when windows were merged into ``window``; re-registers the timers it needs."""
        raise NotImplementedError(f"{type(self).__name__} does not support merging windows (can_merge() is False)")

    @abstractmethod
    def clear(self, window: W, ctx: Trigger.TriggerContext) -> None:
        """Called when ``window`` is discarded: deletes its timers and state."""

    def _engine_spec(self) -> tuple[Any, ...]:
        """How the engine runs this trigger: ``("python", self)`` calls its methods."""
        return ("python", self)


_TRIGGER_METHODS = ("on_element", "on_processing_time", "on_event_time", "can_merge", "on_merge", "clear")


class _BuiltinTrigger(Trigger[Any, Any]):
    """A trigger the engine runs natively. A subclass that overrides a trigger method is run as a
    user trigger instead."""

    _builtin: type

    def _native(self) -> bool:
        cls = type(self)
        return all(getattr(cls, m) is getattr(self._builtin, m) for m in _TRIGGER_METHODS)

    def _native_spec(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def _engine_spec(self) -> tuple[Any, ...]:
        return self._native_spec() if self._native() else ("python", self)

    def _runs_in_engine(self, method: str) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__}.{method}() keeps its state in the engine and is not callable from Python"
        )

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._native_spec() == other._native_spec()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._native_spec()))


class EventTimeTrigger(_BuiltinTrigger):
    """Fires a window once the watermark passes its end (``max_timestamp()``), and again for
    every late element within the allowed lateness. The default trigger of event-time
    assigners."""

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        if window.max_timestamp() <= ctx.get_current_watermark():
            return TriggerResult.FIRE
        ctx.register_event_time_timer(window.max_timestamp())
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.FIRE if time == window.max_timestamp() else TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: Any, ctx: Trigger.OnMergeContext) -> None:
        if window.max_timestamp() > ctx.get_current_watermark():
            ctx.register_event_time_timer(window.max_timestamp())

    def clear(self, window: Any, ctx: Trigger.TriggerContext) -> None:
        ctx.delete_event_time_timer(window.max_timestamp())

    @staticmethod
    def create() -> EventTimeTrigger:
        return EventTimeTrigger()

    def _native_spec(self) -> tuple[Any, ...]:
        return ("event_time",)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


EventTimeTrigger._builtin = EventTimeTrigger


class ProcessingTimeTrigger(_BuiltinTrigger):
    """Fires a window once the wall clock passes its end (``max_timestamp()``). The default
    trigger of processing-time assigners."""

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        ctx.register_processing_time_timer(window.max_timestamp())
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.FIRE

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: Any, ctx: Trigger.OnMergeContext) -> None:
        if window.max_timestamp() > ctx.get_current_processing_time():
            ctx.register_processing_time_timer(window.max_timestamp())

    def clear(self, window: Any, ctx: Trigger.TriggerContext) -> None:
        ctx.delete_processing_time_timer(window.max_timestamp())

    @staticmethod
    def create() -> ProcessingTimeTrigger:
        return ProcessingTimeTrigger()

    def _native_spec(self) -> tuple[Any, ...]:
        return ("processing_time",)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


ProcessingTimeTrigger._builtin = ProcessingTimeTrigger


def _interval(value: Any, what: str) -> int:
    millis = to_millis(value, what)
    if millis <= 0:
        raise ValueError(f"{what} must be greater than zero, got {millis} ms")
    return millis


class ContinuousEventTimeTrigger(_BuiltinTrigger):
    """Fires a window every ``interval`` of event time (as the watermark passes each multiple of
    the interval) and once more when the watermark passes the window's end."""

    def __init__(self, interval: Any) -> None:
        self.interval = _interval(interval, "ContinuousEventTimeTrigger interval")

    @staticmethod
    def of(interval: Any) -> ContinuousEventTimeTrigger:
        """Takes a Time, Duration, timedelta or int milliseconds."""
        return ContinuousEventTimeTrigger(interval)

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return self._runs_in_engine("on_element")

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return self._runs_in_engine("on_event_time")

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: Any, ctx: Trigger.OnMergeContext) -> None:
        self._runs_in_engine("on_merge")

    def clear(self, window: Any, ctx: Trigger.TriggerContext) -> None:
        self._runs_in_engine("clear")

    def _native_spec(self) -> tuple[Any, ...]:
        return ("continuous_event_time", self.interval)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.interval})"


ContinuousEventTimeTrigger._builtin = ContinuousEventTimeTrigger


class ContinuousProcessingTimeTrigger(_BuiltinTrigger):
    """Fires a window every ``interval`` of wall-clock time while it has contents."""

    def __init__(self, interval: Any) -> None:
        self.interval = _interval(interval, "ContinuousProcessingTimeTrigger interval")

    @staticmethod
    def of(interval: Any) -> ContinuousProcessingTimeTrigger:
        """Takes a Time, Duration, timedelta or int milliseconds."""
        return ContinuousProcessingTimeTrigger(interval)

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return self._runs_in_engine("on_element")

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return self._runs_in_engine("on_processing_time")

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: Any, ctx: Trigger.OnMergeContext) -> None:
        self._runs_in_engine("on_merge")

    def clear(self, window: Any, ctx: Trigger.TriggerContext) -> None:
        self._runs_in_engine("clear")

    def _native_spec(self) -> tuple[Any, ...]:
        return ("continuous_processing_time", self.interval)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.interval})"


ContinuousProcessingTimeTrigger._builtin = ContinuousProcessingTimeTrigger


class PurgingTrigger(_BuiltinTrigger):
    """Wraps a trigger so that each FIRE becomes FIRE_AND_PURGE: the window's contents are
    dropped after every evaluation."""

    def __init__(self, nested_trigger: Trigger[Any, Any]) -> None:
        if isinstance(nested_trigger, type) and issubclass(nested_trigger, Trigger):
            raise TypeError(
                f"PurgingTrigger.of() takes a Trigger instance, got the class {nested_trigger.__name__}: "
                f"pass {nested_trigger.__name__}.create() or an instance"
            )
        if not isinstance(nested_trigger, Trigger):
            raise TypeError(f"PurgingTrigger.of() takes a Trigger, got {_describe(nested_trigger)}")
        self.nested_trigger = nested_trigger

    @staticmethod
    def of(nested_trigger: Trigger[Any, Any]) -> PurgingTrigger:
        return PurgingTrigger(nested_trigger)

    @staticmethod
    def _purging(result: TriggerResult) -> TriggerResult:
        return TriggerResult.FIRE_AND_PURGE if result.is_fire() else result

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return self._purging(self.nested_trigger.on_element(element, timestamp, window, ctx))

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return self._purging(self.nested_trigger.on_processing_time(time, window, ctx))

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return self._purging(self.nested_trigger.on_event_time(time, window, ctx))

    def can_merge(self) -> bool:
        return self.nested_trigger.can_merge()

    def on_merge(self, window: Any, ctx: Trigger.OnMergeContext) -> None:
        self.nested_trigger.on_merge(window, ctx)

    def clear(self, window: Any, ctx: Trigger.TriggerContext) -> None:
        self.nested_trigger.clear(window, ctx)

    def _native_spec(self) -> tuple[Any, ...]:
        return ("purging", self.nested_trigger._engine_spec())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.nested_trigger!r})"


PurgingTrigger._builtin = PurgingTrigger


class CountTrigger(_BuiltinTrigger):
    """Fires a window each time ``window_size`` more elements have been added to it. The default
    trigger of count windows."""

    def __init__(self, window_size: int) -> None:
        self._window_size = _count(window_size, "CountTrigger count")

    @staticmethod
    def of(window_size: int) -> CountTrigger:
        return CountTrigger(window_size)

    def get_count(self) -> int:
        """The number of elements that fires the window."""
        return self._window_size

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return self._runs_in_engine("on_element")

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: Any, ctx: Trigger.OnMergeContext) -> None:
        self._runs_in_engine("on_merge")

    def clear(self, window: Any, ctx: Trigger.TriggerContext) -> None:
        self._runs_in_engine("clear")

    def _native_spec(self) -> tuple[Any, ...]:
        return ("count", self._window_size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._window_size})"


CountTrigger._builtin = CountTrigger


class NeverTrigger(_BuiltinTrigger):
    """Never fires. The default trigger of ``GlobalWindows``: set another with
    ``.trigger(...)``."""

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_merge(self, window: Any, ctx: Trigger.OnMergeContext) -> None:
        pass

    def clear(self, window: Any, ctx: Trigger.TriggerContext) -> None:
        pass

    def _native_spec(self) -> tuple[Any, ...]:
        return ("never",)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


NeverTrigger._builtin = NeverTrigger


# ------------------------------------------------------------------------------------------------
# Assigners


class WindowAssigner(ABC, Generic[T, W]):
    """Puts each element into zero or more windows. Elements of one key in one window form a
    pane, which the trigger fires."""

    class WindowAssignerContext(ABC):
        """Given to ``assign_windows``."""

        @abstractmethod
        def get_current_processing_time(self) -> int: ...

        @abstractmethod
        def get_runtime_context(self) -> Any: ...

    @abstractmethod
    def assign_windows(
        self, element: T, timestamp: int, context: WindowAssigner.WindowAssignerContext
    ) -> Collection[W]:
        """The windows ``element`` (with event timestamp ``timestamp``) belongs to."""

    @abstractmethod
    def get_default_trigger(self, env: Any = None) -> Trigger[T, W]:
        """The trigger used unless ``.trigger(...)`` sets another."""

    def get_window_serializer(self) -> Any:
        """None: ferroflow keeps windows as Python objects and needs no serializer."""
        return None

    @abstractmethod
    def is_event_time(self) -> bool:
        """True if windows are based on the elements' event timestamps."""

    def is_merging(self) -> bool:
        """True for assigners whose windows merge (sessions)."""
        return isinstance(self, MergingWindowAssigner)

    def _engine_spec(self) -> tuple[Any, ...]:
        """How the engine runs this assigner: ``("python", self)`` calls its methods."""
        return ("python", self)


class MergingWindowAssigner(WindowAssigner[T, W]):
    """An assigner whose windows can merge, such as sessions."""

    class MergeCallback(ABC, Generic[W2]):
        """Told which windows merge into which."""

        @abstractmethod
        def merge(self, to_be_merged: Iterable[W2], merge_result: W2) -> None: ...

    @abstractmethod
    def merge_windows(self, windows: Iterable[W], callback: MergingWindowAssigner.MergeCallback[W]) -> None:
        """Calls ``callback.merge(to_be_merged, merge_result)`` for each group of ``windows``
        that merges."""


class SessionWindowTimeGapExtractor(ABC):
    """Gives the session gap of each element, for dynamic session windows."""

    @abstractmethod
    def extract(self, element: Any) -> int:
        """The session gap after ``element``, in milliseconds (greater than zero)."""


class _BuiltinAssigner(WindowAssigner[Any, Any]):
    _event_time: bool = True

    def is_event_time(self) -> bool:
        return self._event_time

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._engine_spec() == other._engine_spec()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._engine_spec()))

    def _timestamp(self, timestamp: Any, context: Any) -> int:
        """The time an element is windowed by: its timestamp, or the processing time."""
        if not self._event_time:
            return context.get_current_processing_time()
        if timestamp is None or timestamp <= MIN_LONG_VALUE:
            raise ValueError(_NO_TIMESTAMP)
        return timestamp


class _TumblingWindows(_BuiltinAssigner):
    def __init__(self, size: Any, offset: Any = 0) -> None:
        name = type(self).__name__
        size = to_millis(size, f"{name} size")
        offset = to_millis(0 if offset is None else offset, f"{name} offset")
        if size <= 0:
            raise ValueError(f"{name} size must be greater than zero, got {size} ms")
        if abs(offset) >= size:
            raise ValueError(
                f"{name} parameters must satisfy abs(offset) < size, got size={size} ms, offset={offset} ms"
            )
        self._size = size
        self._offset = offset

    def assign_windows(self, element: Any, timestamp: int, context: Any) -> list[TimeWindow]:
        start = TimeWindow.get_window_start_with_offset(self._timestamp(timestamp, context), self._offset, self._size)
        return [TimeWindow(start, start + self._size)]

    def _engine_spec(self) -> tuple[Any, ...]:
        return ("tumbling", self._event_time, self._size, self._offset)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._size}, {self._offset})"


class TumblingEventTimeWindows(_TumblingWindows):
    """Windows of a fixed ``size`` that do not overlap, by event time: ``[start, start + size)``
    with ``start`` a multiple of ``size`` shifted by ``offset``. ``of(Time.hours(1),
    Time.minutes(15))`` gives hours starting at quarter past."""

    _event_time = True

    @staticmethod
    def of(size: Any, offset: Any = None) -> TumblingEventTimeWindows:
        """Takes Time, Duration, timedelta or int milliseconds; ``abs(offset) < size``."""
        return TumblingEventTimeWindows(size, offset)

    def get_default_trigger(self, env: Any = None) -> EventTimeTrigger:
        return EventTimeTrigger()


class TumblingProcessingTimeWindows(_TumblingWindows):
    """Windows of a fixed ``size`` that do not overlap, by the wall clock of the machine
    (processing time)."""

    _event_time = False

    @staticmethod
    def of(size: Any, offset: Any = None) -> TumblingProcessingTimeWindows:
        """Takes Time, Duration, timedelta or int milliseconds; ``abs(offset) < size``."""
        return TumblingProcessingTimeWindows(size, offset)

    def get_default_trigger(self, env: Any = None) -> ProcessingTimeTrigger:
        return ProcessingTimeTrigger()


class _SlidingWindows(_BuiltinAssigner):
    def __init__(self, size: Any, slide: Any, offset: Any = 0) -> None:
        name = type(self).__name__
        size = to_millis(size, f"{name} size")
        slide = to_millis(slide, f"{name} slide")
        offset = to_millis(0 if offset is None else offset, f"{name} offset")
        if size <= 0:
            raise ValueError(f"{name} size must be greater than zero, got {size} ms")
        if slide <= 0:
            raise ValueError(f"{name} slide must be greater than zero, got {slide} ms")
        if abs(offset) >= slide:
            raise ValueError(
                f"{name} parameters must satisfy abs(offset) < slide, got slide={slide} ms, offset={offset} ms"
            )
        self._size = size
        self._slide = slide
        self._offset = offset

    def assign_windows(self, element: Any, timestamp: int, context: Any) -> list[TimeWindow]:
        ts = self._timestamp(timestamp, context)
        last_start = TimeWindow.get_window_start_with_offset(ts, self._offset, self._slide)
        return [TimeWindow(start, start + self._size) for start in range(last_start, ts - self._size, -self._slide)]

    def _engine_spec(self) -> tuple[Any, ...]:
        return ("sliding", self._event_time, self._size, self._slide, self._offset)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._size}, {self._slide}, {self._offset})"


class SlidingEventTimeWindows(_SlidingWindows):
    """Windows of ``size`` starting every ``slide``, by event time; they overlap when slide <
    size, so an element can be in several (newest first)."""

    _event_time = True

    @staticmethod
    def of(size: Any, slide: Any, offset: Any = None) -> SlidingEventTimeWindows:
        """Takes Time, Duration, timedelta or int milliseconds; ``abs(offset) < slide``."""
        return SlidingEventTimeWindows(size, slide, offset)

    def get_default_trigger(self, env: Any = None) -> EventTimeTrigger:
        return EventTimeTrigger()


class SlidingProcessingTimeWindows(_SlidingWindows):
    """Windows of ``size`` starting every ``slide``, by the machine's wall clock."""

    _event_time = False

    @staticmethod
    def of(size: Any, slide: Any, offset: Any = None) -> SlidingProcessingTimeWindows:
        """Takes Time, Duration, timedelta or int milliseconds; ``abs(offset) < slide``."""
        return SlidingProcessingTimeWindows(size, slide, offset)

    def get_default_trigger(self, env: Any = None) -> ProcessingTimeTrigger:
        return ProcessingTimeTrigger()


def _gap_extractor(extractor: Any, api: str) -> Callable[[Any], int]:
    """The gap function of a SessionWindowTimeGapExtractor or a callable ``element -> ms``."""
    if isinstance(extractor, type):
        raise TypeError(
            f"{api} expects a SessionWindowTimeGapExtractor instance or a callable, but got the class "
            f"{extractor.__name__}: pass an instance, {extractor.__name__}()"
        )
    method = getattr(extractor, "extract", None)
    call = method if callable(method) else extractor
    if not callable(call):
        raise TypeError(
            f"{api} expects a SessionWindowTimeGapExtractor or a callable (element) -> gap in ms, "
            f"got {_describe(extractor)}"
        )
    try:
        inspect.signature(call).bind(None)
    except TypeError:
        raise TypeError(f"{api}: {_describe(extractor)} must take one argument (the element)") from None
    except ValueError:
        pass  # no signature to check
    return call


class _SessionWindows(_BuiltinAssigner, MergingWindowAssigner[Any, TimeWindow]):
    def __init__(self, session_gap: Any) -> None:
        name = type(self).__name__
        gap = to_millis(session_gap, f"{name} session gap")
        if gap <= 0:
            raise ValueError(f"{name} session gap must be greater than zero, got {gap} ms")
        self._session_gap = gap

    def assign_windows(self, element: Any, timestamp: int, context: Any) -> list[TimeWindow]:
        ts = self._timestamp(timestamp, context)
        return [TimeWindow(ts, ts + self._session_gap)]

    def merge_windows(self, windows: Iterable[TimeWindow], callback: Any) -> None:
        TimeWindow.merge_windows(windows, callback)

    def _engine_spec(self) -> tuple[Any, ...]:
        return ("session", self._event_time, self._session_gap)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._session_gap})"


class _DynamicSessionWindows(_BuiltinAssigner, MergingWindowAssigner[Any, TimeWindow]):
    def __init__(self, session_window_time_gap_extractor: Any) -> None:
        self._extractor = session_window_time_gap_extractor
        self._gap = _gap_extractor(session_window_time_gap_extractor, f"{type(self).__name__}.with_dynamic_gap()")

    def assign_windows(self, element: Any, timestamp: int, context: Any) -> list[TimeWindow]:
        ts = self._timestamp(timestamp, context)
        gap = self._gap(element)
        if isinstance(gap, bool) or not isinstance(gap, numbers.Integral):
            raise TypeError(f"the session gap extractor must return int milliseconds, got {_describe(gap)}")
        if gap <= 0:
            raise ValueError(f"Dynamic session time gap must satisfy 0 < gap, got {gap} for element {element!r}")
        return [TimeWindow(ts, ts + int(gap))]

    def merge_windows(self, windows: Iterable[TimeWindow], callback: Any) -> None:
        TimeWindow.merge_windows(windows, callback)

    def _engine_spec(self) -> tuple[Any, ...]:
        return ("dynamic_session", self._event_time, self._gap)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._extractor!r})"


class DynamicEventTimeSessionWindows(_DynamicSessionWindows):
    """Sessions by event time whose gap each element gives (``extractor.extract(element)``, in
    ms): an element opens ``[ts, ts + gap)`` and windows that overlap or touch merge."""

    _event_time = True

    @staticmethod
    def with_dynamic_gap(extractor: Any) -> DynamicEventTimeSessionWindows:
        """Takes a SessionWindowTimeGapExtractor or a callable ``element -> gap in ms``."""
        return DynamicEventTimeSessionWindows(extractor)

    def get_default_trigger(self, env: Any = None) -> EventTimeTrigger:
        return EventTimeTrigger()


class DynamicProcessingTimeSessionWindows(_DynamicSessionWindows):
    """Sessions by processing time whose gap each element gives."""

    _event_time = False

    @staticmethod
    def with_dynamic_gap(extractor: Any) -> DynamicProcessingTimeSessionWindows:
        """Takes a SessionWindowTimeGapExtractor or a callable ``element -> gap in ms``."""
        return DynamicProcessingTimeSessionWindows(extractor)

    def get_default_trigger(self, env: Any = None) -> ProcessingTimeTrigger:
        return ProcessingTimeTrigger()


class EventTimeSessionWindows(_SessionWindows):
    """Sessions by event time: an element opens ``[ts, ts + gap)``, and windows that overlap or
    touch merge, so a session ends after ``gap`` without elements."""

    _event_time = True

    @staticmethod
    def with_gap(size: Any) -> EventTimeSessionWindows:
        """Takes Time, Duration, timedelta or int milliseconds (greater than zero)."""
        return EventTimeSessionWindows(size)

    @staticmethod
    def with_dynamic_gap(extractor: Any) -> DynamicEventTimeSessionWindows:
        """Sessions whose gap each element gives (a SessionWindowTimeGapExtractor or a
        callable ``element -> gap in ms``)."""
        return DynamicEventTimeSessionWindows(extractor)

    def get_default_trigger(self, env: Any = None) -> EventTimeTrigger:
        return EventTimeTrigger()


class ProcessingTimeSessionWindows(_SessionWindows):
    """Sessions by processing time: a session ends after ``gap`` of wall-clock time without
    elements."""

    _event_time = False

    @staticmethod
    def with_gap(size: Any) -> ProcessingTimeSessionWindows:
        """Takes Time, Duration, timedelta or int milliseconds (greater than zero)."""
        return ProcessingTimeSessionWindows(size)

    @staticmethod
    def with_dynamic_gap(extractor: Any) -> DynamicProcessingTimeSessionWindows:
        """Sessions whose gap each element gives."""
        return DynamicProcessingTimeSessionWindows(extractor)

    def get_default_trigger(self, env: Any = None) -> ProcessingTimeTrigger:
        return ProcessingTimeTrigger()


class GlobalWindows(_BuiltinAssigner):
    """Puts every element of a key into the one ``GlobalWindow``. Its default trigger never
    fires: set one with ``.trigger(...)``."""

    _event_time = False

    @staticmethod
    def create() -> GlobalWindows:
        return GlobalWindows()

    def assign_windows(self, element: Any, timestamp: int, context: Any) -> list[GlobalWindow]:
        return [GlobalWindow.get()]

    def get_default_trigger(self, env: Any = None) -> NeverTrigger:
        return NeverTrigger()

    def _engine_spec(self) -> tuple[Any, ...]:
        return ("global",)

    def __repr__(self) -> str:
        return "GlobalWindows()"


class _CountWindows(_BuiltinAssigner):
    _event_time = False

    def assign_windows(self, element: Any, timestamp: int, context: Any) -> list[CountWindow]:
        raise NotImplementedError(
            f"{type(self).__name__} counts elements per key in the engine; assign_windows() is not callable from Python"
        )


class CountTumblingWindowAssigner(_CountWindows):
    """Windows of ``window_size`` consecutive elements per key, fired when full; a trailing
    partial window is never emitted (PyFlink's count windows). ``key_by(...).count_window(n)``."""

    def __init__(self, window_size: int) -> None:
        self._window_size = _count(window_size, "count window size")

    @staticmethod
    def of(window_size: int) -> CountTumblingWindowAssigner:
        return CountTumblingWindowAssigner(window_size)

    def get_default_trigger(self, env: Any = None) -> CountTrigger:
        return CountTrigger(self._window_size)

    def _engine_spec(self) -> tuple[Any, ...]:
        return ("count_tumbling", self._window_size)

    def __repr__(self) -> str:
        return f"CountTumblingWindowAssigner({self._window_size})"


class CountSlidingWindowAssigner(_CountWindows):
    """Windows of ``window_size`` consecutive elements per key, one starting every
    ``window_slide`` elements; each fires once, when full (PyFlink's semantics: no early partial
    windows, unlike Java's ``countWindow(size, slide)``)."""

    def __init__(self, window_size: int, window_slide: int) -> None:
        self._window_size = _count(window_size, "count window size")
        self._window_slide = _count(window_slide, "count window slide")

    @staticmethod
    def of(window_size: int, window_slide: int) -> CountSlidingWindowAssigner:
        return CountSlidingWindowAssigner(window_size, window_slide)

    def get_default_trigger(self, env: Any = None) -> CountTrigger:
        # As PyFlink: each window id counts its own elements and fires when it has window_size.
        return CountTrigger(self._window_size)

    def _engine_spec(self) -> tuple[Any, ...]:
        return ("count_sliding", self._window_size, self._window_slide)

    def __repr__(self) -> str:
        return f"CountSlidingWindowAssigner({self._window_size}, {self._window_slide})"
