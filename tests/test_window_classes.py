"""The pure-Python API of event time: windows, triggers, assigners, watermark strategies and the
window function interfaces. No job runs here; what the engine reads is ``_engine_spec()``."""

from __future__ import annotations

import datetime
import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ferroflow.common import Duration, Time, TimestampAssigner, WatermarkGenerator, WatermarkStrategy
from ferroflow.common.constants import MAX_LONG_VALUE, MIN_LONG_VALUE
from ferroflow.datastream import (
    AggregateFunction,
    AllWindowFunction,
    ProcessAllWindowFunction,
    ProcessWindowFunction,
    WindowFunction,
)
from ferroflow.datastream import window as window_module
from ferroflow.datastream.window import (
    ContinuousEventTimeTrigger,
    ContinuousProcessingTimeTrigger,
    CountSlidingWindowAssigner,
    CountTrigger,
    CountTumblingWindowAssigner,
    CountWindow,
    DynamicEventTimeSessionWindows,
    DynamicProcessingTimeSessionWindows,
    EventTimeSessionWindows,
    EventTimeTrigger,
    GlobalWindow,
    GlobalWindows,
    MergingWindowAssigner,
    NeverTrigger,
    ProcessingTimeSessionWindows,
    ProcessingTimeTrigger,
    PurgingTrigger,
    SessionWindowTimeGapExtractor,
    SlidingEventTimeWindows,
    SlidingProcessingTimeWindows,
    TimeWindow,
    Trigger,
    TriggerResult,
    TumblingEventTimeWindows,
    TumblingProcessingTimeWindows,
    Window,
    WindowAssigner,
)

# --------------------------------------------------------------------------------------------
# helpers


class Merges(MergingWindowAssigner.MergeCallback):
    """Records every merge the assigner asks for."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[TimeWindow], TimeWindow]] = []

    def merge(self, to_be_merged, merge_result) -> None:
        self.calls.append((list(to_be_merged), merge_result))


class FakeTriggerContext(Trigger.OnMergeContext):
    """A trigger context with a settable watermark and clock that records timer calls."""

    def __init__(self, watermark: int = MIN_LONG_VALUE, processing_time: int = 0) -> None:
        self.watermark = watermark
        self.processing_time = processing_time
        self.calls: list[tuple[str, Any]] = []

    def get_current_processing_time(self) -> int:
        return self.processing_time

    def get_current_watermark(self) -> int:
        return self.watermark

    def register_processing_time_timer(self, time: int) -> None:
        self.calls.append(("register_processing", time))

    def register_event_time_timer(self, time: int) -> None:
        self.calls.append(("register_event", time))

    def delete_processing_time_timer(self, time: int) -> None:
        self.calls.append(("delete_processing", time))

    def delete_event_time_timer(self, time: int) -> None:
        self.calls.append(("delete_event", time))

    def get_partitioned_state(self, state_descriptor: Any) -> Any:
        raise AssertionError("not used by these triggers")

    def merge_partitioned_state(self, state_descriptor: Any) -> None:
        raise AssertionError("not used by these triggers")


class FakeAssignerContext(WindowAssigner.WindowAssignerContext):
    def __init__(self, now: int) -> None:
        self.now = now

    def get_current_processing_time(self) -> int:
        return self.now

    def get_runtime_context(self) -> Any:
        return None


class FireOnEveryElement(Trigger):
    """A user trigger: fires on every element."""

    def on_element(self, element, timestamp, window, ctx):
        return TriggerResult.FIRE

    def on_processing_time(self, time, window, ctx):
        return TriggerResult.CONTINUE

    def on_event_time(self, time, window, ctx):
        return TriggerResult.CONTINUE

    def clear(self, window, ctx):
        pass


def event_time_counts(assigner: WindowAssigner, timestamps: list[int]) -> dict[tuple[int, int], int]:
    """How many of ``timestamps`` each window gets (a batch evaluation of ``assign_windows``)."""
    counts: dict[tuple[int, int], int] = {}
    for ts in timestamps:
        for w in assigner.assign_windows(("hi", ts), ts, FakeAssignerContext(0)):
            counts[(w.start, w.end)] = counts.get((w.start, w.end), 0) + 1
    return counts


# --------------------------------------------------------------------------------------------
# TimeWindow


def test_time_window_attributes_and_max_timestamp():
    w = TimeWindow(0, 5)
    assert (w.start, w.end) == (0, 5)
    assert w.max_timestamp() == 4
    assert TimeWindow(-10, -5).max_timestamp() == -6


def test_time_window_repr_equality_hash():
    assert repr(TimeWindow(0, 5)) == "TimeWindow(start=0, end=5)"
    assert repr(TimeWindow(-2, 3)) == "TimeWindow(start=-2, end=3)"
    assert TimeWindow(0, 5) == TimeWindow(0, 5)
    assert TimeWindow(0, 5) != TimeWindow(0, 6)
    assert TimeWindow(0, 5) != (0, 5)
    assert hash(TimeWindow(3, 9)) == hash(TimeWindow(3, 9))
    assert len({TimeWindow(0, 5), TimeWindow(0, 5), TimeWindow(5, 10)}) == 2


def test_time_window_ordering_by_start_then_end():
    windows = [TimeWindow(5, 10), TimeWindow(0, 7), TimeWindow(0, 5), TimeWindow(-3, 20)]
    assert sorted(windows) == [TimeWindow(-3, 20), TimeWindow(0, 5), TimeWindow(0, 7), TimeWindow(5, 10)]
    assert TimeWindow(0, 5) < TimeWindow(0, 6) <= TimeWindow(0, 6) < TimeWindow(1, 2)
    assert TimeWindow(1, 2) > TimeWindow(0, 100)
    with pytest.raises(TypeError):
        _ = TimeWindow(0, 5) < (0, 5)


def test_time_window_intersects_includes_touching():
    assert TimeWindow(1, 2).intersects(TimeWindow(2, 4))
    assert TimeWindow(2, 4).intersects(TimeWindow(1, 2))
    assert TimeWindow(0, 10).intersects(TimeWindow(3, 4))
    assert not TimeWindow(0, 5).intersects(TimeWindow(6, 9))
    assert not TimeWindow(6, 9).intersects(TimeWindow(0, 5))


def test_time_window_cover():
    assert TimeWindow(0, 5).cover(TimeWindow(3, 9)) == TimeWindow(0, 9)
    assert TimeWindow(3, 9).cover(TimeWindow(0, 5)) == TimeWindow(0, 9)
    assert TimeWindow(0, 10).cover(TimeWindow(2, 3)) == TimeWindow(0, 10)
    assert TimeWindow(-8, -6).cover(TimeWindow(10, 12)) == TimeWindow(-8, 12)


@pytest.mark.parametrize(
    ("timestamp", "offset", "size", "start"),
    [
        (0, 0, 5, 0),
        (4, 0, 5, 0),
        (5, 0, 5, 5),
        (-1, 0, 5, -5),
        (-5, 0, 5, -5),
        (-6, 0, 5, -10),
        (7, 2, 5, 7),
        (6, 2, 5, 2),
        (1, 2, 5, -3),
        (1, -2, 5, -2),
        (-7, -2, 5, -7),
        (-8, 3, 5, -12),
        (1676461680000, 0, 60_000, 1676461680000),
        (1676461739999, 0, 60_000, 1676461680000),
        (3, 0, 1, 3),
    ],
)
def test_get_window_start_with_offset_floor_semantics(timestamp, offset, size, start):
    assert TimeWindow.get_window_start_with_offset(timestamp, offset, size) == start


@given(
    timestamp=st.integers(-(10**12), 10**12),
    size=st.integers(1, 10_000),
    data=st.data(),
)
def test_get_window_start_with_offset_contains_the_timestamp(timestamp, size, data):
    offset = data.draw(st.integers(-(size - 1), size - 1))
    start = TimeWindow.get_window_start_with_offset(timestamp, offset, size)
    assert start <= timestamp < start + size
    assert (start - offset) % size == 0


def test_merge_windows_merges_overlapping_and_touching():
    merges = Merges()
    TimeWindow.merge_windows([TimeWindow(2, 4), TimeWindow(1, 2), TimeWindow(10, 12)], merges)
    assert merges.calls == [([TimeWindow(1, 2), TimeWindow(2, 4)], TimeWindow(1, 4))]


def test_merge_windows_chains_and_separate_groups():
    merges = Merges()
    windows = [TimeWindow(8, 13), TimeWindow(0, 5), TimeWindow(4, 9), TimeWindow(20, 25), TimeWindow(24, 26)]
    TimeWindow.merge_windows(windows, merges)
    assert merges.calls == [
        ([TimeWindow(0, 5), TimeWindow(4, 9), TimeWindow(8, 13)], TimeWindow(0, 13)),
        ([TimeWindow(20, 25), TimeWindow(24, 26)], TimeWindow(20, 26)),
    ]


def test_merge_windows_nothing_to_merge():
    merges = Merges()
    TimeWindow.merge_windows([TimeWindow(0, 5), TimeWindow(6, 9)], merges)
    TimeWindow.merge_windows([TimeWindow(0, 5)], merges)
    TimeWindow.merge_windows([], merges)
    # The same window twice is one window: nothing merges.
    TimeWindow.merge_windows([TimeWindow(0, 5), TimeWindow(0, 5)], merges)
    assert merges.calls == []


def test_merge_windows_contained_window():
    merges = Merges()
    TimeWindow.merge_windows([TimeWindow(0, 10), TimeWindow(3, 4)], merges)
    assert merges.calls == [([TimeWindow(0, 10), TimeWindow(3, 4)], TimeWindow(0, 10))]


def test_merge_windows_accepts_a_plain_callable():
    calls = []
    TimeWindow.merge_windows([TimeWindow(0, 3), TimeWindow(3, 6)], lambda ws, r: calls.append((list(ws), r)))
    assert calls == [([TimeWindow(0, 3), TimeWindow(3, 6)], TimeWindow(0, 6))]


def test_merge_windows_rejects_a_non_callback():
    with pytest.raises(TypeError, match="MergeCallback or a callable"):
        TimeWindow.merge_windows([TimeWindow(0, 3)], 42)


def test_windows_pickle():
    for w in (TimeWindow(-3, 7), CountWindow(4)):
        assert pickle.loads(pickle.dumps(w)) == w
    assert pickle.loads(pickle.dumps(GlobalWindow.get())) is GlobalWindow.get()


# --------------------------------------------------------------------------------------------
# CountWindow, GlobalWindow, Window


def test_count_window():
    w = CountWindow(3)
    assert w.id == 3
    assert w.max_timestamp() == MAX_LONG_VALUE == 2**63 - 1
    assert w == CountWindow(3) and w != CountWindow(4)
    assert hash(w) == hash(CountWindow(3))
    assert repr(w) == "CountWindow(id=3)"
    assert CountWindow(0) != TimeWindow(0, 1)


def test_global_window_is_a_singleton():
    assert GlobalWindow.get() is GlobalWindow.get() is GlobalWindow()
    assert GlobalWindow.get() == GlobalWindow.get()
    assert GlobalWindow.get().max_timestamp() == MAX_LONG_VALUE
    assert repr(GlobalWindow.get()) == "GlobalWindow"
    assert hash(GlobalWindow.get()) == hash(GlobalWindow())


def test_window_is_abstract():
    with pytest.raises(TypeError):
        Window()  # type: ignore[abstract]
    assert isinstance(TimeWindow(0, 1), Window)
    assert isinstance(CountWindow(0), Window)
    assert isinstance(GlobalWindow.get(), Window)


def test_long_constants():
    assert MAX_LONG_VALUE == 9223372036854775807
    assert MIN_LONG_VALUE == -9223372036854775808


# --------------------------------------------------------------------------------------------
# TriggerResult and triggers


@pytest.mark.parametrize(
    ("result", "fire", "purge"),
    [
        (TriggerResult.CONTINUE, False, False),
        (TriggerResult.FIRE, True, False),
        (TriggerResult.PURGE, False, True),
        (TriggerResult.FIRE_AND_PURGE, True, True),
    ],
)
def test_trigger_result(result, fire, purge):
    assert result.is_fire() is fire
    assert result.is_purge() is purge


@pytest.mark.parametrize(
    ("trigger", "spec"),
    [
        (EventTimeTrigger.create(), ("event_time",)),
        (EventTimeTrigger(), ("event_time",)),
        (ProcessingTimeTrigger.create(), ("processing_time",)),
        (CountTrigger.of(3), ("count", 3)),
        (CountTrigger(1), ("count", 1)),
        (NeverTrigger(), ("never",)),
        (ContinuousEventTimeTrigger.of(Time.seconds(2)), ("continuous_event_time", 2000)),
        (ContinuousEventTimeTrigger.of(Duration.of_millis(250)), ("continuous_event_time", 250)),
        (ContinuousEventTimeTrigger(7), ("continuous_event_time", 7)),
        (ContinuousProcessingTimeTrigger.of(datetime.timedelta(seconds=1)), ("continuous_processing_time", 1000)),
        (ContinuousProcessingTimeTrigger.of(Time.minutes(1)), ("continuous_processing_time", 60_000)),
        (PurgingTrigger.of(EventTimeTrigger.create()), ("purging", ("event_time",))),
        (PurgingTrigger.of(CountTrigger.of(2)), ("purging", ("count", 2))),
        (PurgingTrigger.of(PurgingTrigger.of(NeverTrigger())), ("purging", ("purging", ("never",)))),
    ],
)
def test_builtin_trigger_specs(trigger, spec):
    assert trigger._engine_spec() == spec


def test_user_trigger_spec_is_python():
    trigger = FireOnEveryElement()
    assert trigger._engine_spec() == ("python", trigger)
    purging = PurgingTrigger.of(trigger)
    assert purging._engine_spec() == ("purging", ("python", trigger))


def test_subclass_of_builtin_trigger():
    class Renamed(EventTimeTrigger):
        """Behaves exactly as EventTimeTrigger: still run natively."""

    class Eager(EventTimeTrigger):
        def on_element(self, element, timestamp, window, ctx):
            return TriggerResult.FIRE

    assert Renamed()._engine_spec() == ("event_time",)
    eager = Eager()
    assert eager._engine_spec() == ("python", eager)
    assert repr(eager) == "Eager()"


def test_trigger_abstract_methods():
    class Incomplete(Trigger):
        def on_element(self, element, timestamp, window, ctx):
            return TriggerResult.CONTINUE

    with pytest.raises(TypeError):
        Incomplete()  # type: ignore[abstract]
    trigger = FireOnEveryElement()
    assert trigger.can_merge() is False
    with pytest.raises(NotImplementedError, match="does not support merging"):
        trigger.on_merge(TimeWindow(0, 1), FakeTriggerContext())


def test_trigger_context_abstract_methods():
    assert Trigger.TriggerContext.__abstractmethods__ == {
        "get_current_processing_time",
        "get_current_watermark",
        "register_processing_time_timer",
        "register_event_time_timer",
        "delete_processing_time_timer",
        "delete_event_time_timer",
        "get_partitioned_state",
    }
    assert Trigger.OnMergeContext.__abstractmethods__ == Trigger.TriggerContext.__abstractmethods__ | {
        "merge_partitioned_state"
    }


def test_event_time_trigger_behaviour():
    trigger = EventTimeTrigger.create()
    window = TimeWindow(0, 5)
    ctx = FakeTriggerContext(watermark=3)
    assert trigger.on_element("x", 1, window, ctx) is TriggerResult.CONTINUE
    assert ctx.calls == [("register_event", 4)]
    # late element (watermark at or past max timestamp): fires at once, no timer
    late = FakeTriggerContext(watermark=4)
    assert trigger.on_element("x", 1, window, late) is TriggerResult.FIRE
    assert late.calls == []
    assert trigger.on_event_time(4, window, ctx) is TriggerResult.FIRE
    assert trigger.on_event_time(6, window, ctx) is TriggerResult.CONTINUE  # a cleanup timer
    assert trigger.on_processing_time(4, window, ctx) is TriggerResult.CONTINUE
    assert trigger.can_merge() is True
    merge_ctx = FakeTriggerContext(watermark=3)
    trigger.on_merge(TimeWindow(0, 13), merge_ctx)
    trigger.on_merge(TimeWindow(0, 4), merge_ctx)  # already past the watermark: no timer
    assert merge_ctx.calls == [("register_event", 12)]
    trigger.clear(window, merge_ctx)
    assert merge_ctx.calls[-1] == ("delete_event", 4)


def test_processing_time_trigger_behaviour():
    trigger = ProcessingTimeTrigger.create()
    window = TimeWindow(100, 200)
    ctx = FakeTriggerContext(processing_time=150)
    assert trigger.on_element("x", 0, window, ctx) is TriggerResult.CONTINUE
    assert ctx.calls == [("register_processing", 199)]
    assert trigger.on_processing_time(199, window, ctx) is TriggerResult.FIRE
    assert trigger.on_event_time(199, window, ctx) is TriggerResult.CONTINUE
    trigger.on_merge(TimeWindow(100, 300), ctx)
    trigger.on_merge(TimeWindow(100, 120), ctx)  # already passed: no timer
    trigger.clear(window, ctx)
    assert ctx.calls[1:] == [("register_processing", 299), ("delete_processing", 199)]


def test_never_trigger_never_fires():
    trigger = NeverTrigger()
    ctx = FakeTriggerContext(watermark=MAX_LONG_VALUE)
    w = GlobalWindow.get()
    assert trigger.on_element("x", 0, w, ctx) is TriggerResult.CONTINUE
    assert trigger.on_event_time(MAX_LONG_VALUE, w, ctx) is TriggerResult.CONTINUE
    assert trigger.on_processing_time(0, w, ctx) is TriggerResult.CONTINUE
    trigger.on_merge(w, ctx)
    trigger.clear(w, ctx)
    assert ctx.calls == []


def test_purging_trigger_turns_fire_into_fire_and_purge():
    ctx = FakeTriggerContext(watermark=10)
    purging = PurgingTrigger.of(EventTimeTrigger.create())
    assert purging.on_element("x", 1, TimeWindow(0, 5), ctx) is TriggerResult.FIRE_AND_PURGE
    assert purging.on_event_time(4, TimeWindow(0, 5), ctx) is TriggerResult.FIRE_AND_PURGE
    assert purging.on_event_time(3, TimeWindow(0, 5), ctx) is TriggerResult.CONTINUE
    assert purging.can_merge() is True
    assert PurgingTrigger.of(FireOnEveryElement()).can_merge() is False
    assert (
        PurgingTrigger.of(FireOnEveryElement()).on_element(1, 1, TimeWindow(0, 5), ctx) is TriggerResult.FIRE_AND_PURGE
    )
    purging.clear(TimeWindow(0, 5), ctx)
    assert ctx.calls == [("delete_event", 4)]


def test_stateful_builtin_triggers_run_in_the_engine():
    ctx = FakeTriggerContext()
    for trigger in (CountTrigger.of(2), ContinuousEventTimeTrigger.of(5), ContinuousProcessingTimeTrigger.of(5)):
        with pytest.raises(NotImplementedError, match="engine"):
            trigger.on_element("x", 0, TimeWindow(0, 5), ctx)
        assert trigger.can_merge() is True
    assert CountTrigger.of(2).on_event_time(4, CountWindow(0), ctx) is TriggerResult.CONTINUE
    assert CountTrigger.of(2).get_count() == 2


def test_builtin_trigger_equality_and_repr():
    assert EventTimeTrigger() == EventTimeTrigger.create()
    assert hash(EventTimeTrigger()) == hash(EventTimeTrigger.create())
    assert CountTrigger(2) == CountTrigger.of(2) != CountTrigger(3)
    assert EventTimeTrigger() != ProcessingTimeTrigger()
    assert PurgingTrigger.of(CountTrigger(2)) == PurgingTrigger.of(CountTrigger(2))
    assert repr(PurgingTrigger.of(CountTrigger(2))) == "PurgingTrigger(CountTrigger(2))"
    assert repr(ContinuousEventTimeTrigger.of(Time.seconds(1))) == "ContinuousEventTimeTrigger(1000)"
    assert repr(NeverTrigger()) == "NeverTrigger()"


@pytest.mark.parametrize("bad", [0, -1])
def test_count_trigger_validation(bad):
    with pytest.raises(ValueError, match=f"CountTrigger count must be greater than zero, got {bad}"):
        CountTrigger.of(bad)


@pytest.mark.parametrize("bad", [2.5, "2", True, None])
def test_count_trigger_type_validation(bad):
    with pytest.raises(TypeError, match="CountTrigger count must be an int"):
        CountTrigger.of(bad)


def test_continuous_trigger_validation():
    with pytest.raises(ValueError, match="interval must be greater than zero, got 0 ms"):
        ContinuousEventTimeTrigger.of(Time.milliseconds(0))
    with pytest.raises(ValueError, match="got -5 ms"):
        ContinuousProcessingTimeTrigger.of(-5)
    with pytest.raises(TypeError, match="Time, Duration, datetime.timedelta or int"):
        ContinuousEventTimeTrigger.of("5 s")


def test_purging_trigger_validation():
    with pytest.raises(TypeError, match=r"pass EventTimeTrigger.create\(\)"):
        PurgingTrigger.of(EventTimeTrigger)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="PurgingTrigger.of\\(\\) takes a Trigger, got int"):
        PurgingTrigger.of(5)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# assigners: specs, defaults, kinds


@pytest.mark.parametrize(
    ("assigner", "spec"),
    [
        (TumblingEventTimeWindows.of(Time.milliseconds(5)), ("tumbling", True, 5, 0)),
        (TumblingEventTimeWindows.of(Time.hours(1), Time.minutes(15)), ("tumbling", True, 3_600_000, 900_000)),
        (TumblingEventTimeWindows.of(Time.days(1), Time.hours(-8)), ("tumbling", True, 86_400_000, -28_800_000)),
        (TumblingEventTimeWindows.of(Duration.of_seconds(2)), ("tumbling", True, 2000, 0)),
        (TumblingEventTimeWindows.of(datetime.timedelta(milliseconds=30), 10), ("tumbling", True, 30, 10)),
        (TumblingEventTimeWindows(5, 2), ("tumbling", True, 5, 2)),
        (TumblingEventTimeWindows(5), ("tumbling", True, 5, 0)),
        (TumblingProcessingTimeWindows.of(Time.seconds(1)), ("tumbling", False, 1000, 0)),
        (SlidingEventTimeWindows.of(Time.milliseconds(5), Time.milliseconds(2)), ("sliding", True, 5, 2, 0)),
        (SlidingEventTimeWindows.of(10, 4, -3), ("sliding", True, 10, 4, -3)),
        (SlidingEventTimeWindows(10, 4, 1), ("sliding", True, 10, 4, 1)),
        (SlidingEventTimeWindows.of(2, 5), ("sliding", True, 2, 5, 0)),
        (SlidingProcessingTimeWindows.of(Time.minutes(1), Time.seconds(10)), ("sliding", False, 60_000, 10_000, 0)),
        (EventTimeSessionWindows.with_gap(Time.milliseconds(5)), ("session", True, 5)),
        (EventTimeSessionWindows(7), ("session", True, 7)),
        (ProcessingTimeSessionWindows.with_gap(Duration.of_minutes(1)), ("session", False, 60_000)),
        (GlobalWindows.create(), ("global",)),
        (CountTumblingWindowAssigner.of(3), ("count_tumbling", 3)),
        (CountTumblingWindowAssigner(2), ("count_tumbling", 2)),
        (CountSlidingWindowAssigner.of(2, 1), ("count_sliding", 2, 1)),
        (CountSlidingWindowAssigner(5, 3), ("count_sliding", 5, 3)),
    ],
)
def test_assigner_specs(assigner, spec):
    assert assigner._engine_spec() == spec


class GapFromValue(SessionWindowTimeGapExtractor):
    def extract(self, element):
        return element[1]


def test_dynamic_session_specs():
    extractor = GapFromValue()
    assigner = EventTimeSessionWindows.with_dynamic_gap(extractor)
    assert type(assigner) is DynamicEventTimeSessionWindows
    kind, event_time, gap = assigner._engine_spec()
    assert (kind, event_time) == ("dynamic_session", True)
    assert gap(("hi", 9)) == 9  # the bound extract method

    def by_length(element):
        return len(element)

    assigner = DynamicProcessingTimeSessionWindows.with_dynamic_gap(by_length)
    assert assigner._engine_spec() == ("dynamic_session", False, by_length)
    assert type(ProcessingTimeSessionWindows.with_dynamic_gap(by_length)) is DynamicProcessingTimeSessionWindows
    assert DynamicEventTimeSessionWindows.with_dynamic_gap(by_length)._engine_spec() == (
        "dynamic_session",
        True,
        by_length,
    )


@pytest.mark.parametrize(
    ("assigner", "trigger"),
    [
        (TumblingEventTimeWindows.of(5), EventTimeTrigger()),
        (SlidingEventTimeWindows.of(5, 1), EventTimeTrigger()),
        (EventTimeSessionWindows.with_gap(5), EventTimeTrigger()),
        (DynamicEventTimeSessionWindows.with_dynamic_gap(len), EventTimeTrigger()),
        (TumblingProcessingTimeWindows.of(5), ProcessingTimeTrigger()),
        (SlidingProcessingTimeWindows.of(5, 1), ProcessingTimeTrigger()),
        (ProcessingTimeSessionWindows.with_gap(5), ProcessingTimeTrigger()),
        (DynamicProcessingTimeSessionWindows.with_dynamic_gap(len), ProcessingTimeTrigger()),
        (GlobalWindows.create(), NeverTrigger()),
        (CountTumblingWindowAssigner.of(3), CountTrigger(3)),
        # As PyFlink: each sliding count window counts its own elements and fires at `size`.
        (CountSlidingWindowAssigner.of(2, 1), CountTrigger(2)),
    ],
)
def test_default_triggers(assigner, trigger):
    default = assigner.get_default_trigger()
    assert type(default) is type(trigger)
    assert default._engine_spec() == trigger._engine_spec()
    assert assigner.get_default_trigger(env=None) == trigger  # PyFlink passes the environment


@pytest.mark.parametrize(
    ("assigner", "event_time", "merging"),
    [
        (TumblingEventTimeWindows.of(5), True, False),
        (TumblingProcessingTimeWindows.of(5), False, False),
        (SlidingEventTimeWindows.of(5, 1), True, False),
        (SlidingProcessingTimeWindows.of(5, 1), False, False),
        (EventTimeSessionWindows.with_gap(5), True, True),
        (ProcessingTimeSessionWindows.with_gap(5), False, True),
        (DynamicEventTimeSessionWindows.with_dynamic_gap(len), True, True),
        (DynamicProcessingTimeSessionWindows.with_dynamic_gap(len), False, True),
        (GlobalWindows.create(), False, False),
        (CountTumblingWindowAssigner.of(3), False, False),
        (CountSlidingWindowAssigner.of(3, 1), False, False),
    ],
)
def test_event_time_and_merging(assigner, event_time, merging):
    assert assigner.is_event_time() is event_time
    assert assigner.is_merging() is merging
    assert isinstance(assigner, MergingWindowAssigner) is merging
    assert isinstance(assigner, WindowAssigner)
    assert assigner.get_window_serializer() is None


def test_assigner_repr_and_equality():
    assert repr(TumblingEventTimeWindows.of(Time.milliseconds(5))) == "TumblingEventTimeWindows(5, 0)"
    assert repr(SlidingEventTimeWindows.of(5, 2, 1)) == "SlidingEventTimeWindows(5, 2, 1)"
    assert repr(EventTimeSessionWindows.with_gap(5)) == "EventTimeSessionWindows(5)"
    assert repr(GlobalWindows.create()) == "GlobalWindows()"
    assert repr(CountSlidingWindowAssigner.of(2, 1)) == "CountSlidingWindowAssigner(2, 1)"
    assert TumblingEventTimeWindows.of(Time.seconds(1)) == TumblingEventTimeWindows(1000, 0)
    assert TumblingEventTimeWindows.of(5) != TumblingProcessingTimeWindows.of(5)
    assert hash(SlidingEventTimeWindows.of(5, 2)) == hash(SlidingEventTimeWindows(5, 2, 0))


def test_user_assigner_spec_is_python():
    class EverythingInOne(WindowAssigner):
        def assign_windows(self, element, timestamp, context):
            return [TimeWindow(0, 100)]

        def get_default_trigger(self, env=None):
            return EventTimeTrigger.create()

        def is_event_time(self):
            return True

    assigner = EverythingInOne()
    assert assigner._engine_spec() == ("python", assigner)
    assert assigner.is_merging() is False
    assert assigner.get_window_serializer() is None


# --------------------------------------------------------------------------------------------
# assigners: validation


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: TumblingEventTimeWindows.of(Time.milliseconds(5), Time.milliseconds(5)),
            "TumblingEventTimeWindows parameters must satisfy abs(offset) < size, got size=5 ms, offset=5 ms",
        ),
        (
            lambda: TumblingProcessingTimeWindows.of(5, -7),
            "TumblingProcessingTimeWindows parameters must satisfy abs(offset) < size, got size=5 ms, offset=-7 ms",
        ),
        (lambda: TumblingEventTimeWindows.of(0), "TumblingEventTimeWindows size must be greater than zero, got 0 ms"),
        (lambda: TumblingEventTimeWindows(-5, 0), "TumblingEventTimeWindows size must be greater than zero, got -5 ms"),
        (
            lambda: SlidingEventTimeWindows.of(10, 3, 3),
            "SlidingEventTimeWindows parameters must satisfy abs(offset) < slide, got slide=3 ms, offset=3 ms",
        ),
        (
            lambda: SlidingProcessingTimeWindows.of(10, 3, -4),
            "SlidingProcessingTimeWindows parameters must satisfy abs(offset) < slide, got slide=3 ms, offset=-4 ms",
        ),
        (lambda: SlidingEventTimeWindows.of(0, 3), "SlidingEventTimeWindows size must be greater than zero, got 0 ms"),
        (
            lambda: SlidingEventTimeWindows.of(10, 0),
            "SlidingEventTimeWindows slide must be greater than zero, got 0 ms",
        ),
        (
            lambda: EventTimeSessionWindows.with_gap(Time.milliseconds(0)),
            "EventTimeSessionWindows session gap must be greater than zero, got 0 ms",
        ),
        (
            lambda: ProcessingTimeSessionWindows.with_gap(-1),
            "ProcessingTimeSessionWindows session gap must be greater than zero, got -1 ms",
        ),
        (lambda: CountTumblingWindowAssigner.of(0), "count window size must be greater than zero, got 0"),
        (lambda: CountSlidingWindowAssigner.of(-2, 1), "count window size must be greater than zero, got -2"),
        (lambda: CountSlidingWindowAssigner.of(2, 0), "count window slide must be greater than zero, got 0"),
    ],
)
def test_assigner_value_errors(make, message):
    with pytest.raises(ValueError) as info:
        make()
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda: TumblingEventTimeWindows.of("5 ms"), "TumblingEventTimeWindows size must be a Time, Duration"),
        (lambda: TumblingEventTimeWindows.of(5, 1.5), "TumblingEventTimeWindows offset must be a Time, Duration"),
        (lambda: SlidingEventTimeWindows.of(5, None), "SlidingEventTimeWindows slide must be a Time, Duration"),
        (lambda: EventTimeSessionWindows.with_gap(True), "EventTimeSessionWindows session gap must be a Time"),
        (lambda: CountTumblingWindowAssigner.of(Time.milliseconds(3)), "count window size must be an int"),
        (lambda: CountSlidingWindowAssigner.of(3, 1.0), "count window slide must be an int"),
    ],
)
def test_assigner_type_errors(make, pattern):
    with pytest.raises(TypeError, match=pattern):
        make()


def test_dynamic_gap_extractor_validation():
    with pytest.raises(TypeError, match=r"pass an instance, GapFromValue\(\)"):
        EventTimeSessionWindows.with_dynamic_gap(GapFromValue)
    with pytest.raises(TypeError, match="SessionWindowTimeGapExtractor or a callable"):
        EventTimeSessionWindows.with_dynamic_gap(5)
    with pytest.raises(TypeError, match="must take one argument"):
        EventTimeSessionWindows.with_dynamic_gap(lambda a, b: 1)
    with pytest.raises(TypeError):
        SessionWindowTimeGapExtractor()  # type: ignore[abstract]


# --------------------------------------------------------------------------------------------
# assigners: assign_windows


def test_tumbling_assign_windows():
    assigner = TumblingEventTimeWindows.of(Time.milliseconds(5))
    ctx = FakeAssignerContext(0)
    assert assigner.assign_windows("x", 7, ctx) == [TimeWindow(5, 10)]
    assert assigner.assign_windows("x", -1, ctx) == [TimeWindow(-5, 0)]
    assert TumblingEventTimeWindows.of(5, 2).assign_windows("x", 1, ctx) == [TimeWindow(-3, 2)]
    assert TumblingEventTimeWindows.of(5, -2).assign_windows("x", 1, ctx) == [TimeWindow(-2, 3)]


def test_tumbling_example_counts():
    """tumbling_time_window.py's arithmetic: (hi,0,5,4) (hi,5,10,3) (hi,15,20,1)."""
    counts = event_time_counts(TumblingEventTimeWindows.of(Time.milliseconds(5)), [1, 2, 3, 4, 5, 8, 9, 15])
    assert counts == {(0, 5): 4, (5, 10): 3, (15, 20): 1}


def test_sliding_assign_windows_newest_first():
    assigner = SlidingEventTimeWindows.of(Time.milliseconds(5), Time.milliseconds(2))
    ctx = FakeAssignerContext(0)
    assert assigner.assign_windows("x", 1, ctx) == [TimeWindow(0, 5), TimeWindow(-2, 3)]
    assert assigner.assign_windows("x", 15, ctx) == [TimeWindow(14, 19), TimeWindow(12, 17)]
    assert assigner.assign_windows("x", 4, ctx) == [TimeWindow(4, 9), TimeWindow(2, 7), TimeWindow(0, 5)]
    # size not a multiple of slide
    assert SlidingEventTimeWindows.of(5, 3).assign_windows("x", 6, ctx) == [TimeWindow(6, 11), TimeWindow(3, 8)]
    # slide > size leaves gaps: an element in a gap gets no window
    gaps = SlidingEventTimeWindows.of(2, 5)
    assert gaps.assign_windows("x", 1, ctx) == [TimeWindow(0, 2)]
    assert gaps.assign_windows("x", 3, ctx) == []
    # offsets
    assert SlidingEventTimeWindows.of(4, 2, 1).assign_windows("x", 0, ctx) == [TimeWindow(-1, 3), TimeWindow(-3, 1)]


def test_sliding_example_counts():
    """sliding_time_window.py's arithmetic: 8 windows."""
    counts = event_time_counts(
        SlidingEventTimeWindows.of(Time.milliseconds(5), Time.milliseconds(2)), [1, 2, 3, 4, 5, 8, 9, 15]
    )
    assert counts == {(-2, 3): 2, (0, 5): 4, (2, 7): 4, (4, 9): 3, (6, 11): 2, (8, 13): 2, (12, 17): 1, (14, 19): 1}


def test_session_assign_and_merge():
    assigner = EventTimeSessionWindows.with_gap(Time.milliseconds(5))
    ctx = FakeAssignerContext(0)
    windows = [w for ts in [1, 2, 3, 4, 8, 9, 15] for w in assigner.assign_windows("x", ts, ctx)]
    assert windows[0] == TimeWindow(1, 6)
    merges = Merges()
    assigner.merge_windows(windows, merges)
    # session_with_gap_window.py: (hi,1,14,6) (hi,15,20,1)
    assert [(len(group), result) for group, result in merges.calls] == [(6, TimeWindow(1, 14))]


def test_dynamic_session_assign_windows():
    assigner = EventTimeSessionWindows.with_dynamic_gap(GapFromValue())
    ctx = FakeAssignerContext(0)
    assert assigner.assign_windows(("hi", 4), 4, ctx) == [TimeWindow(4, 8)]
    callable_gap = DynamicEventTimeSessionWindows.with_dynamic_gap(lambda e: 10)
    assert callable_gap.assign_windows("x", -3, ctx) == [TimeWindow(-3, 7)]
    with pytest.raises(ValueError, match="Dynamic session time gap must satisfy 0 < gap, got 0"):
        assigner.assign_windows(("hi", 0), 0, ctx)
    with pytest.raises(TypeError, match="must return int milliseconds"):
        DynamicEventTimeSessionWindows.with_dynamic_gap(lambda e: "5").assign_windows("x", 1, ctx)


def test_dynamic_gap_example_merges():
    """test_event_time_dynamic_gap_session_window: gaps = values 1,2,3,4,9,9,15 -> [1,8) and [9,30)."""
    assigner = EventTimeSessionWindows.with_dynamic_gap(GapFromValue())
    ctx = FakeAssignerContext(0)
    windows = [w for ts in [1, 2, 3, 4, 9, 9, 15] for w in assigner.assign_windows(("hi", ts), ts, ctx)]
    merges = Merges()
    assigner.merge_windows(windows, merges)
    assert [result for _, result in merges.calls] == [TimeWindow(1, 8), TimeWindow(9, 30)]


def test_event_time_assigners_need_a_timestamp():
    ctx = FakeAssignerContext(0)
    for assigner in (
        TumblingEventTimeWindows.of(5),
        SlidingEventTimeWindows.of(5, 1),
        EventTimeSessionWindows.with_gap(5),
        DynamicEventTimeSessionWindows.with_dynamic_gap(lambda e: 1),
    ):
        with pytest.raises(ValueError, match="assign_timestamps_and_watermarks"):
            assigner.assign_windows("x", MIN_LONG_VALUE, ctx)


def test_processing_time_assigners_use_the_clock():
    ctx = FakeAssignerContext(1_003)
    assert TumblingProcessingTimeWindows.of(10).assign_windows("x", MIN_LONG_VALUE, ctx) == [TimeWindow(1000, 1010)]
    assert SlidingProcessingTimeWindows.of(10, 5).assign_windows("x", 0, ctx) == [
        TimeWindow(1000, 1010),
        TimeWindow(995, 1005),
    ]
    assert ProcessingTimeSessionWindows.with_gap(7).assign_windows("x", 0, ctx) == [TimeWindow(1003, 1010)]
    assert DynamicProcessingTimeSessionWindows.with_dynamic_gap(lambda e: 2).assign_windows("x", 0, ctx) == [
        TimeWindow(1003, 1005)
    ]


def test_global_and_count_assign_windows():
    ctx = FakeAssignerContext(0)
    assert GlobalWindows.create().assign_windows("x", 5, ctx) == [GlobalWindow.get()]
    with pytest.raises(NotImplementedError, match="engine"):
        CountTumblingWindowAssigner.of(2).assign_windows("x", 0, ctx)


def test_window_module_all_names_exist():
    for name in window_module.__all__:
        assert hasattr(window_module, name), name


def test_datastream_exports_the_window_names():
    import ferroflow.datastream as ds
    import ferroflow.datastream.functions as functions_module

    for name in (
        "Window",
        "TimeWindow",
        "CountWindow",
        "GlobalWindow",
        "WindowAssigner",
        "MergingWindowAssigner",
        "TriggerResult",
        "Trigger",
        "AggregateFunction",
        "WindowFunction",
        "AllWindowFunction",
        "ProcessWindowFunction",
        "ProcessAllWindowFunction",
    ):
        assert name in ds.__all__
        home = window_module if name in window_module.__all__ else functions_module
        assert getattr(ds, name) is getattr(home, name)


# --------------------------------------------------------------------------------------------
# window functions


def test_window_function_classes_are_generic_and_abstract():
    class Count(ProcessWindowFunction[tuple, tuple, str, TimeWindow]):
        def process(self, key, context: ProcessWindowFunction.Context[TimeWindow], elements):
            return [(key, context.window().start, context.window().end, len(list(elements)))]

    class Context(ProcessWindowFunction.Context):
        def window(self):
            return TimeWindow(0, 5)

        def current_processing_time(self):
            return 0

        def current_watermark(self):
            return MIN_LONG_VALUE

        def window_state(self):
            return None

        def global_state(self):
            return None

    assert Count().process("hi", Context(), [1, 2]) == [("hi", 0, 5, 2)]
    assert Count().clear(Context()) is None
    with pytest.raises(TypeError):
        ProcessWindowFunction()  # type: ignore[abstract]
    with pytest.raises(TypeError):
        ProcessWindowFunction.Context()  # type: ignore[abstract]
    assert ProcessAllWindowFunction.Context.__abstractmethods__ == {"window", "window_state", "global_state"}
    for cls in (WindowFunction, AllWindowFunction, ProcessAllWindowFunction, AggregateFunction):
        with pytest.raises(TypeError):
            cls()  # type: ignore[abstract]
    # Generic subscripts as PyFlink's examples write them
    assert WindowFunction[tuple, tuple, str, CountWindow] is not None
    assert AllWindowFunction[tuple, tuple, TimeWindow] is not None
    assert ProcessAllWindowFunction[tuple, tuple, TimeWindow] is not None


def test_aggregate_function_subclass():
    class Average(AggregateFunction):
        def create_accumulator(self):
            return (0, 0)

        def add(self, value, accumulator):
            return (accumulator[0] + value, accumulator[1] + 1)

        def get_result(self, accumulator):
            return accumulator[0] / accumulator[1]

        def merge(self, acc_a, acc_b):
            return (acc_a[0] + acc_b[0], acc_a[1] + acc_b[1])

    f = Average()
    acc = f.create_accumulator()
    for v in (1, 2, 6):
        acc = f.add(v, acc)
    assert f.get_result(f.merge(acc, f.add(3, f.create_accumulator()))) == 3.0
    f.open(None)  # Function lifecycle methods exist
    f.close()


# --------------------------------------------------------------------------------------------
# watermark strategies


class SecondColumn(TimestampAssigner):
    def extract_timestamp(self, value, record_timestamp):
        return int(value[1])


def test_watermark_strategy_specs():
    assert WatermarkStrategy.for_monotonous_timestamps()._engine_spec() == ("monotonous", 0, None, None, False, None)
    assert WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_seconds(2))._engine_spec() == (
        "bounded",
        2000,
        None,
        None,
        False,
        None,
    )
    assert WatermarkStrategy.no_watermarks()._engine_spec() == ("none", 0, None, None, False, None)


@pytest.mark.parametrize(
    ("delay", "millis"),
    [
        (Duration.of_seconds(2), 2000),
        (Duration.of_millis(0), 0),
        (Duration.of_nanos(1_999_999), 1),
        (Time.seconds(3), 3000),
        (datetime.timedelta(minutes=1), 60_000),
        (250, 250),
    ],
)
def test_bounded_out_of_orderness_durations(delay, millis):
    assert WatermarkStrategy.for_bounded_out_of_orderness(delay)._engine_spec()[1] == millis


def test_bounded_out_of_orderness_validation():
    with pytest.raises(ValueError, match="max_out_of_orderness must not be negative, got -1 ms"):
        WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(-1))
    with pytest.raises(TypeError, match="max_out_of_orderness must be a Time, Duration"):
        WatermarkStrategy.for_bounded_out_of_orderness("2s")


def test_with_timestamp_assigner_instance_mutates_and_returns_self():
    strategy = WatermarkStrategy.for_monotonous_timestamps()
    assigner = SecondColumn()
    assert strategy.with_timestamp_assigner(assigner) is strategy
    kind, delay, call, idleness, per_record, factory = strategy._engine_spec()
    assert (kind, delay, idleness, per_record, factory) == ("monotonous", 0, None, False, None)
    assert call == assigner.extract_timestamp
    assert call(("hi", "15"), MIN_LONG_VALUE) == 15


def test_with_timestamp_assigner_callable():
    def by_first(value, record_timestamp):
        return value[0]

    strategy = WatermarkStrategy.for_bounded_out_of_orderness(5).with_timestamp_assigner(by_first)
    assert strategy._engine_spec()[2] is by_first
    strategy.with_timestamp_assigner(lambda e, ts: e[2])  # replaces the assigner
    assert strategy._engine_spec()[2](("k", 1, 99), MIN_LONG_VALUE) == 99


def test_with_timestamp_assigner_validation():
    strategy = WatermarkStrategy.for_monotonous_timestamps()
    with pytest.raises(TypeError, match=r"got the class SecondColumn: pass an instance, SecondColumn\(\)"):
        strategy.with_timestamp_assigner(SecondColumn)
    with pytest.raises(TypeError, match="TimestampAssigner instance or a callable"):
        strategy.with_timestamp_assigner(42)
    with pytest.raises(TypeError, match="must take two arguments"):
        strategy.with_timestamp_assigner(lambda e: e[1])
    with pytest.raises(TypeError):
        TimestampAssigner()  # type: ignore[abstract]
    assert strategy._engine_spec()[2] is None  # unchanged by the failed calls


def test_with_idleness_returns_a_new_strategy_keeping_the_assigner():
    assigner = SecondColumn()
    base = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_seconds(20)).with_timestamp_assigner(assigner)
    idle = base.with_idleness(Duration.of_minutes(1))
    assert idle is not base
    assert idle._engine_spec() == ("bounded", 20_000, assigner.extract_timestamp, 60_000, False, None)
    assert base._engine_spec()[3] is None
    # either order works
    other = (
        WatermarkStrategy.for_monotonous_timestamps().with_idleness(Time.seconds(5)).with_timestamp_assigner(assigner)
    )
    assert other._engine_spec() == ("monotonous", 0, assigner.extract_timestamp, 5000, False, None)


def test_with_idleness_validation():
    strategy = WatermarkStrategy.for_monotonous_timestamps()
    with pytest.raises(ValueError, match="idle_timeout must be greater than zero, got 0 ms"):
        strategy.with_idleness(Duration.of_seconds(0))
    with pytest.raises(TypeError, match="idle_timeout must be a Time, Duration"):
        strategy.with_idleness(None)


def test_with_watermark_alignment_is_stored():
    assigner = SecondColumn()
    base = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(assigner)
    aligned = base.with_watermark_alignment("alignment-group-1", Duration.of_seconds(20), Duration.of_seconds(1))
    assert aligned is not base
    assert aligned._alignment == ("alignment-group-1", 20_000, 1000)
    assert aligned._engine_spec()[2] == assigner.extract_timestamp
    assert base._alignment is None
    assert base.with_watermark_alignment("g", Time.seconds(2))._alignment == ("g", 2000, 1000)


def test_with_watermark_alignment_validation():
    strategy = WatermarkStrategy.for_monotonous_timestamps()
    with pytest.raises(TypeError, match="watermark_group must be a str, got int"):
        strategy.with_watermark_alignment(1, Duration.of_seconds(1))
    with pytest.raises(ValueError, match="watermark_group must not be empty"):
        strategy.with_watermark_alignment("", Duration.of_seconds(1))
    with pytest.raises(ValueError, match="max_allowed_watermark_drift must not be negative"):
        strategy.with_watermark_alignment("g", -1)
    with pytest.raises(ValueError, match="update_interval must be greater than zero, got 0 ms"):
        strategy.with_watermark_alignment("g", 10, 0)


def test_with_per_record_emission():
    base = WatermarkStrategy.for_monotonous_timestamps()
    per_record = base.with_per_record_emission()
    assert per_record is not base
    assert per_record._engine_spec() == ("monotonous", 0, None, None, True, None)
    assert base._engine_spec()[4] is False
    # the flag survives further refinements
    refined = per_record.with_idleness(100).with_timestamp_assigner(lambda e, ts: e)
    assert refined._engine_spec()[4] is True


class EveryMarker(WatermarkGenerator):
    def on_event(self, value, timestamp):
        return timestamp if value == "mark" else None


def test_for_generator():
    strategy = WatermarkStrategy.for_generator(lambda: EveryMarker())
    kind, delay, assigner, idleness, per_record, factory = strategy._engine_spec()
    assert (kind, delay, assigner, idleness, per_record) == ("generator", 0, None, None, False)
    generator = factory()
    assert isinstance(generator, WatermarkGenerator)
    assert generator.on_event("mark", 7) == 7
    assert generator.on_event("x", 8) is None
    assert generator.on_periodic_emit() is None
    # the class is a factory too
    assert isinstance(WatermarkStrategy.for_generator(EveryMarker)._engine_spec()[5](), EveryMarker)


def test_for_generator_validation():
    with pytest.raises(TypeError, match="not a generator instance"):
        WatermarkStrategy.for_generator(EveryMarker())
    with pytest.raises(TypeError, match="callable returning a WatermarkGenerator"):
        WatermarkStrategy.for_generator(None)
    with pytest.raises(TypeError, match="callable with no arguments"):
        WatermarkStrategy.for_generator(lambda x: EveryMarker())
    with pytest.raises(TypeError):
        WatermarkGenerator()  # type: ignore[abstract]


def test_watermark_strategy_constructor_points_to_the_factories():
    with pytest.raises(TypeError, match="for_monotonous_timestamps"):
        WatermarkStrategy(object())  # type: ignore[arg-type]


def test_watermark_strategy_repr():
    strategy = (
        WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_seconds(2))
        .with_idleness(Duration.of_seconds(1))
        .with_per_record_emission()
    )
    assert repr(strategy) == (
        "WatermarkStrategy.for_bounded_out_of_orderness(2000 ms).with_idleness(1000 ms).with_per_record_emission()"
    )
    assert repr(WatermarkStrategy.no_watermarks()) == "WatermarkStrategy.no_watermarks()"


def test_common_exports():
    from ferroflow import common

    for name in ("WatermarkStrategy", "TimestampAssigner", "WatermarkGenerator"):
        assert name in common.__all__
        assert getattr(common, name) is not None
