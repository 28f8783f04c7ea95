"""Windows (``TimeWindow``, ``CountWindow``, ``GlobalWindow``) and helpers shared by the window
assigners and triggers; imported from ``ferroflow.datastream.window``."""

from __future__ import annotations

import functools
import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from ferroflow.common.constants import MAX_LONG_VALUE

if TYPE_CHECKING:
    from typing_extensions import Self

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


# The most windows one element may belong to (size / slide of a sliding window). Each window an
# element is in holds its own state entry and timer and fires on its own, and the windows of an
# element are listed at once: a day sliding by a millisecond (86,400,000 windows) would exhaust
# memory on the first record. 100,000 admits a day sliding by a second (86,400).
MAX_WINDOWS_PER_ELEMENT = 100_000


def _check_windows_per_element(assigner: str, size: int, slide: int, unit: str) -> None:
    """Refuses a sliding window whose elements would each be in too many windows."""
    windows = -(-size // slide)
    if windows > MAX_WINDOWS_PER_ELEMENT:
        raise ValueError(
            f"{assigner} of size {size} {unit} and slide {slide} {unit} puts every element into "
            f"{windows} windows; ferroflow allows at most {MAX_WINDOWS_PER_ELEMENT:,} windows per "
            "element, since each window keeps its own state and fires on its own. Use a larger "
            "slide (size / slide at most that many), or keep a running aggregate in keyed state "
            "with a KeyedProcessFunction."
        )


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
