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

import inspect
import numbers
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable
from typing import Any, Callable, Generic

from ferroflow.common._durations import to_millis
from ferroflow.common.constants import MIN_LONG_VALUE
from ferroflow.datastream._window_types import (
    _NO_TIMESTAMP,
    W2,
    CountWindow,
    GlobalWindow,
    T,
    TimeWindow,
    W,
    Window,
    _check_windows_per_element,
    _count,
    _describe,
)
from ferroflow.datastream.trigger import (
    ContinuousEventTimeTrigger,
    ContinuousProcessingTimeTrigger,
    CountTrigger,
    EventTimeTrigger,
    NeverTrigger,
    ProcessingTimeTrigger,
    PurgingTrigger,
    Trigger,
    TriggerResult,
)

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
        _check_windows_per_element(name, size, slide, "ms")
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
        _check_windows_per_element("CountSlidingWindowAssigner", self._window_size, self._window_slide, "elements")

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
