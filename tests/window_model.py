"""A small reference model of keyed event-time windows with Flink's exact semantics.

It replays a list of operations, ``("record", key, value, ts)`` and ``("watermark", wm)``, through
an event-time window operator with the default EventTimeTrigger, an allowed lateness and a
reduce function, and reports what the operator emits. It follows PyFlink's (and Java's)
WindowOperator step by step (reference: pyflink-api.md §3.1–§3.4):

- Window start: ``ts - (ts - offset + size) % size`` with floor modulo. Tumbling: one window
  ``[start, start + size)``. Sliding: ``last_start`` from the slide, then ``[s, s + size)`` for
  ``s = last_start, last_start - slide, ...`` while ``s > ts - size`` (none when ``ts`` falls in a
  gap of slide > size). Session: ``[ts, ts + gap)``; windows that overlap or touch merge.
- The watermark starts at ``MIN_LONG``, only moves forward (a watermark that is not larger is
  ignored), and fires every timer with ``timestamp <= watermark``, in timestamp order.
- A window fires when the watermark reaches ``end - 1`` (its max timestamp): the trigger registers
  a timer there. Its cleanup time is ``max_timestamp + allowed_lateness``, where a cleanup timer
  drops its contents.
- An element is not added to a window whose cleanup time is ``<= watermark`` (a late window). An
  element added to a window whose max timestamp is ``<= watermark`` (late, but within the allowed
  lateness) fires that window at once, with its full accumulated contents: one extra result.
- An element skipped by all its windows with ``ts + allowed_lateness <= watermark`` is late: it
  goes to the late side output. (One skipped by all windows but not late, such as an element in a
  gap between sliding windows, vanishes.)
- Sessions merge as Flink's MergingWindowSet does: the merged window takes the merged windows'
  contents and timers, so an element that would be late on its own is kept when its window
  merges into a live session.
- At the end a final watermark ``MAX_LONG`` fires everything.

Results are ``(key, window_start, window_end, value)`` in emission order; late records are
``(key, value, ts)`` in arrival order.

Elements fire in timestamp order per key: the results one watermark advance releases come out
in window-end order for each key (timers fire in timestamp order, and two windows of one key
never share an end), and a late element's re-fire comes out when the element arrives. Across keys
only the order of each key's own results is defined; compare per key.

The reduce function is assumed associative and commutative (the tests use addition): Flink does
not promise the order in which merged session contents are combined.
"""

from __future__ import annotations

import heapq
import itertools
import operator
from dataclasses import dataclass, field
from typing import Any, Callable, Union

MIN_LONG = -(1 << 63)
MAX_LONG = (1 << 63) - 1


@dataclass(frozen=True)
class Tumbling:
    size: int
    offset: int = 0


@dataclass(frozen=True)
class Sliding:
    size: int
    slide: int
    offset: int = 0


@dataclass(frozen=True)
class Session:
    gap: int


Assigner = Union[Tumbling, Sliding, Session]
Window = tuple[int, int]  # (start, end), end exclusive


def window_start(ts: int, offset: int, size: int) -> int:
    """Start of the window of ``size`` (shifted by ``offset``) that holds ``ts``; floor modulo."""
    return ts - (ts - offset + size) % size


def assign(assigner: Assigner, ts: int) -> list[Window]:
    """The windows of an element with timestamp ``ts``, as Flink's assigners list them."""
    if isinstance(assigner, Tumbling):
        start = window_start(ts, assigner.offset, assigner.size)
        return [(start, start + assigner.size)]
    if isinstance(assigner, Sliding):
        last_start = window_start(ts, assigner.offset, assigner.slide)
        return [(s, s + assigner.size) for s in range(last_start, ts - assigner.size, -assigner.slide)]
    return [(ts, ts + assigner.gap)]


def max_timestamp(window: Window) -> int:
    return window[1] - 1


def intersects(a: Window, b: Window) -> bool:
    """Overlapping or touching: ``[1, 2)`` and ``[2, 4)`` intersect."""
    return a[0] <= b[1] and a[1] >= b[0]


def merge_groups(windows: list[Window]) -> list[tuple[Window, list[Window]]]:
    """``(merge_result, merged)`` for every group of two or more windows that merge."""
    groups: list[tuple[Window, list[Window]]] = []
    current: Window | None = None
    members: list[Window] = []
    for w in sorted(set(windows)):
        if current is not None and intersects(current, w):
            current = (min(current[0], w[0]), max(current[1], w[1]))
            members.append(w)
            continue
        if current is not None:
            groups.append((current, members))
        current, members = w, [w]
    if current is not None:
        groups.append((current, members))
    return [(result, merged) for result, merged in groups if len(merged) > 1]


@dataclass
class ModelResult:
    results: list[tuple[Any, int, int, Any]] = field(default_factory=list)
    late: list[tuple[Any, Any, int]] = field(default_factory=list)


class WindowModel:
    """One keyed event-time window operator (default trigger) fed operation by operation."""

    def __init__(
        self,
        assigner: Assigner,
        allowed_lateness: int = 0,
        reduce: Callable[[Any, Any], Any] = operator.add,
    ) -> None:
        if allowed_lateness < 0:
            raise ValueError("allowed_lateness must not be negative")
        self.assigner = assigner
        self.lateness = allowed_lateness
        self.reduce = reduce
        self.merging = isinstance(assigner, Session)
        self.watermark = MIN_LONG
        # key -> {window: reduced contents}. For sessions the keys are the live (merged) windows.
        self.contents: dict[Any, dict[Window, Any]] = {}
        # Event-time timers, unique per (timestamp, key, window), fired in timestamp order.
        self.timers: set[tuple[int, Any, Window]] = set()
        self._heap: list[tuple[int, int, Any, Window]] = []
        self._seq = itertools.count()
        self.out = ModelResult()

    # -- timers ---------------------------------------------------------------------------------

    def cleanup_time(self, window: Window) -> int:
        return min(max_timestamp(window) + self.lateness, MAX_LONG)

    def _register(self, ts: int, key: Any, window: Window) -> None:
        if (ts, key, window) not in self.timers:
            self.timers.add((ts, key, window))
            heapq.heappush(self._heap, (ts, next(self._seq), key, window))

    def _delete(self, ts: int, key: Any, window: Window) -> None:
        self.timers.discard((ts, key, window))  # the heap entry is skipped when popped

    def _register_cleanup(self, key: Any, window: Window) -> None:
        cleanup = self.cleanup_time(window)
        if cleanup != MAX_LONG:  # Flink registers no cleanup timer at the end of time
            self._register(cleanup, key, window)

    # -- the operator -----------------------------------------------------------------------------

    def _emit(self, key: Any, window: Window) -> None:
        windows = self.contents.get(key, {})
        if window in windows:  # firing a window without contents emits nothing
            self.out.results.append((key, window[0], window[1], windows[window]))

    def _on_element_trigger(self, key: Any, window: Window) -> None:
        """EventTimeTrigger.on_element, then the cleanup timer."""
        if max_timestamp(window) <= self.watermark:
            self._emit(key, window)  # FIRE: late but within the allowed lateness
        else:
            self._register(max_timestamp(window), key, window)
        self._register_cleanup(key, window)

    def _add(self, key: Any, window: Window, value: Any) -> None:
        windows = self.contents.setdefault(key, {})
        windows[window] = self.reduce(windows[window], value) if window in windows else value

    def record(self, key: Any, value: Any, ts: int) -> None:
        skipped = True
        for window in assign(self.assigner, ts):
            if self.merging:
                window = self._merge_in(key, window)
                if window is None:
                    continue
            elif self.cleanup_time(window) <= self.watermark:
                continue  # a late window takes no more elements
            skipped = False
            self._add(key, window, value)
            self._on_element_trigger(key, window)
        if skipped and ts + self.lateness <= self.watermark:
            self.out.late.append((key, value, ts))

    def _merge_in(self, key: Any, new: Window) -> Window | None:
        """MergingWindowSet.addWindow: the window the element goes to, or None when that window
        is late (it is then retired)."""
        windows = self.contents.setdefault(key, {})
        result = new
        for merge_result, merged in merge_groups([*windows, new]):
            if new in merged:
                result = merge_result
                merged = [w for w in merged if w != new]
            if merged == [merge_result]:
                continue  # the new window lies inside a live one: nothing changes
            # The merge function: the trigger re-registers its timer for the merged window
            # (EventTimeTrigger.on_merge), the merged windows' timers go, their contents combine.
            assert self.cleanup_time(merge_result) > self.watermark, "Flink forbids merging into a late window"
            if max_timestamp(merge_result) > self.watermark:
                self._register(max_timestamp(merge_result), key, merge_result)
            combined: Any = None
            have = False
            for w in merged:
                self._delete(max_timestamp(w), key, w)
                self._delete(self.cleanup_time(w), key, w)
                if w in windows:
                    part = windows.pop(w)
                    combined = self.reduce(combined, part) if have else part
                    have = True
            if have:
                windows[merge_result] = combined
        if result == new and self.cleanup_time(new) <= self.watermark:
            return None  # a late window of its own: retired at once
        return result

    def watermark_to(self, wm: int) -> None:
        if wm <= self.watermark:
            return  # watermarks only move forward
        self.watermark = wm
        while self._heap and self._heap[0][0] <= wm:
            ts, _, key, window = heapq.heappop(self._heap)
            if (ts, key, window) not in self.timers:
                continue  # deleted
            self.timers.discard((ts, key, window))
            self._on_event_time(ts, key, window)

    def _on_event_time(self, ts: int, key: Any, window: Window) -> None:
        windows = self.contents.get(key, {})
        if self.merging and window not in windows:
            return  # a merged-away window; Flink returns early too
        if ts == max_timestamp(window):
            self._emit(key, window)  # EventTimeTrigger.on_event_time: FIRE
        if ts == self.cleanup_time(window):
            windows.pop(window, None)
            self._delete(max_timestamp(window), key, window)  # trigger.clear

    def run(self, ops: list[tuple[Any, ...]], final_watermark: bool = True) -> ModelResult:
        for op in ops:
            if op[0] == "record":
                _, key, value, ts = op
                self.record(key, value, ts)
            elif op[0] == "watermark":
                self.watermark_to(op[1])
            else:
                raise ValueError(f"unknown operation {op!r}")
        if final_watermark:
            self.watermark_to(MAX_LONG)
        return self.out


def run_model(
    ops: list[tuple[Any, ...]],
    assigner: Assigner,
    allowed_lateness: int = 0,
    reduce: Callable[[Any, Any], Any] = operator.add,
) -> ModelResult:
    """The results and late records of ``ops``, ending with the watermark ``MAX_LONG``."""
    return WindowModel(assigner, allowed_lateness, reduce).run(ops)
