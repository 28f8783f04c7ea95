"""Windows beyond the PyFlink examples and the model-based property tests: every window function
shape (reduce/aggregate with and without a window function, process, apply), window_all, count
windows, GlobalWindows with count triggers, continuous triggers, processing-time windows on the
harness clock, user triggers written in Python, allowed lateness step by step, dynamic session
gaps, and the argument errors raised while the pipeline is built.

Semantics: pyflink-api.md §2.4, §2.9, §3.1, §3.2; DESIGN.md §6, §8. Tests with the ``env``
fixture run at parallelism 1 and 2 and compare sorted results; the bounded out-of-orderness of
``timestamped`` is larger than any disorder in the data, so no record is late however the
periodic watermarks fall. Tests that need exact watermark or clock placement use the harness.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ferroflow.common import Duration, Time, WatermarkStrategy
from ferroflow.common.constants import MAX_LONG_VALUE, MIN_LONG_VALUE
from ferroflow.datastream import (
    AggregateFunction,
    AllWindowFunction,
    OutputTag,
    ProcessAllWindowFunction,
    ProcessWindowFunction,
    ReduceFunction,
    WindowFunction,
)
from ferroflow.datastream.window import (
    ContinuousEventTimeTrigger,
    ContinuousProcessingTimeTrigger,
    CountTrigger,
    CountWindow,
    DynamicEventTimeSessionWindows,
    EventTimeSessionWindows,
    EventTimeTrigger,
    GlobalWindow,
    GlobalWindows,
    ProcessingTimeSessionWindows,
    PurgingTrigger,
    SessionWindowTimeGapExtractor,
    SlidingEventTimeWindows,
    SlidingProcessingTimeWindows,
    TimeWindow,
    Trigger,
    TriggerResult,
    TumblingEventTimeWindows,
    TumblingProcessingTimeWindows,
)
from ferroflow.testing import TestHarness


def collect(ds) -> list[Any]:
    with ds.execute_and_collect() as results:
        return list(results)


# (key, value): the value is also the event timestamp. "a" 3 comes after "a" 12.
DATA = [("a", 1), ("b", 4), ("a", 7), ("a", 12), ("b", 19), ("b", 20), ("a", 3)]
# TumblingEventTimeWindows.of(10) over DATA: (key, start, end, values in arrival order)
TUMBLING_10 = [
    ("a", 0, 10, [1, 7, 3]),
    ("a", 10, 20, [12]),
    ("b", 0, 10, [4]),
    ("b", 10, 20, [19]),
    ("b", 20, 30, [20]),
]


def timestamped(env, data=DATA):
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(100)).with_timestamp_assigner(
        lambda value, record_timestamp: value[1]
    )
    return env.from_collection(data).assign_timestamps_and_watermarks(strategy)


def tumbling_10(env):
    return timestamped(env).key_by(lambda v: v[0]).window(TumblingEventTimeWindows.of(Time.milliseconds(10)))


def add_values(a, b):
    return a[0], a[1] + b[1]


class SumValues(ReduceFunction):
    def reduce(self, value1, value2):
        return value1[0], value1[1] + value2[1]


class CountAndSum(AggregateFunction):
    """Accumulator ``[count, sum]``; result ``(count, sum)``."""

    def create_accumulator(self):
        return [0, 0]

    def add(self, value, accumulator):
        accumulator[0] += 1
        accumulator[1] += value[1]
        return accumulator

    def get_result(self, accumulator):
        return accumulator[0], accumulator[1]

    def merge(self, acc_a, acc_b):
        return [acc_a[0] + acc_b[0], acc_a[1] + acc_b[1]]


class WithBounds(WindowFunction):
    """After a reduce or aggregate: the one pre-aggregated value with its key and window."""

    def apply(self, key, window, inputs):
        (result,) = list(inputs)  # exactly one element
        return [(key, window.start, window.end, result)]


class ProcessWithBounds(ProcessWindowFunction):
    def process(self, key, context, elements):
        (result,) = list(elements)
        window = context.window()
        yield key, window.start, window.end, result


class Contents(ProcessWindowFunction):
    """All of a window's values, in arrival order, with its key and bounds."""

    def process(self, key, context, elements):
        window = context.window()
        yield key, window.start, window.end, [e[1] for e in elements]


def window_values_callable(key, window, inputs):
    (result,) = list(inputs)
    return [(key, window.start, window.end, result)]


# --------------------------------------------------------------------------------------------
# reduce and aggregate, with and without a window function


def sums(key: str) -> list[tuple[Any, ...]]:
    return [(k, s, e, sum(v)) for k, s, e, v in TUMBLING_10 if k == key]


@pytest.mark.parametrize(
    "window_function",
    [None, WithBounds(), ProcessWithBounds(), window_values_callable],
    ids=["plain", "WindowFunction", "ProcessWindowFunction", "callable"],
)
@pytest.mark.parametrize("reduce_function", [add_values, SumValues()], ids=["lambda", "ReduceFunction"])
def test_reduce_with_and_without_a_window_function(env, reduce_function, window_function):
    results = collect(tumbling_10(env).reduce(reduce_function, window_function=window_function))
    if window_function is None:
        expected = [(k, sum(v)) for k, _, _, v in TUMBLING_10]
    else:
        expected = [(k, s, e, (k, total)) for k, s, e, total in sums("a") + sums("b")]
    assert sorted(results) == sorted(expected)


@pytest.mark.parametrize(
    "window_function",
    [None, WithBounds(), ProcessWithBounds(), window_values_callable],
    ids=["plain", "WindowFunction", "ProcessWindowFunction", "callable"],
)
def test_aggregate_with_and_without_a_window_function(env, window_function):
    results = collect(tumbling_10(env).aggregate(CountAndSum(), window_function=window_function))
    if window_function is None:
        expected = [(len(v), sum(v)) for _, _, _, v in TUMBLING_10]
    else:
        expected = [(k, s, e, (len(v), sum(v))) for k, s, e, v in TUMBLING_10]
    assert sorted(results) == sorted(expected)


def test_aggregate_over_merging_sessions_uses_merge(env):
    data = [("a", 1), ("a", 10), ("a", 5), ("b", 2)]  # [5, 10) bridges [1, 6) and [10, 15)
    keyed = timestamped(env, data).key_by(lambda v: v[0])
    results = collect(keyed.window(EventTimeSessionWindows.with_gap(5)).aggregate(CountAndSum(), WithBounds()))
    assert sorted(results) == [("a", 1, 15, (3, 16)), ("b", 2, 7, (1, 2))]


# --------------------------------------------------------------------------------------------
# process() and apply()


def test_process_sees_the_window_and_all_elements_in_arrival_order(env):
    class Describe(ProcessWindowFunction):
        def process(self, key, context, elements):
            window = context.window()
            assert isinstance(window, TimeWindow)
            yield key, window.start, window.end, window.max_timestamp(), [e[1] for e in elements]

    results = collect(tumbling_10(env).process(Describe()))
    assert sorted(results) == sorted((k, s, e, e - 1, v) for k, s, e, v in TUMBLING_10)


def test_process_may_emit_several_results_per_window(env):
    class Each(ProcessWindowFunction):
        def process(self, key, context, elements):
            for e in elements:
                yield key, context.window().start, e[1]

    results = collect(tumbling_10(env).process(Each()))
    assert sorted(results) == sorted((k, s, x) for k, s, _, v in TUMBLING_10 for x in v)


def test_process_context_current_watermark(ff_harness):
    class Watermark(ProcessWindowFunction):
        def process(self, key, context, elements):
            yield context.window().start, context.current_watermark()

    src = ff_harness.source()
    out = ff_harness.output(src.stream.key_by(lambda v: v[0]).window(TumblingEventTimeWindows.of(10)).process(
        Watermark()
    ))
    src.add(("a", 1), timestamp=1)
    src.add(("a", 12), timestamp=12)
    src.watermark(9)
    assert out.take() == [(0, 9)]
    src.watermark(25)
    assert out.take() == [(10, 25)]
    src.add(("a", 31), timestamp=31)
    src.end()
    assert out.take() == [(30, MAX_LONG_VALUE)]


@pytest.mark.parametrize(
    "assigner",
    [TumblingEventTimeWindows.of(10), SlidingEventTimeWindows.of(10, 5), EventTimeSessionWindows.with_gap(5)],
    ids=["tumbling", "sliding", "session"],
)
def test_process_context_current_processing_time_is_the_harness_clock(ff_harness, assigner):
    """In event-time windows too, fired by the watermark or again by a late element."""

    class Clock(ProcessWindowFunction):
        def process(self, key, context, elements):
            yield context.window().start, context.current_processing_time()

    src = ff_harness.source()
    windows = src.stream.key_by(lambda v: v[0]).window(assigner).allowed_lateness(100)
    out = ff_harness.output(windows.process(Clock()))
    src.add(("a", 1), timestamp=1)
    ff_harness.set_processing_time(1234)
    src.watermark(20)
    fired = out.take()
    assert fired and {t for _, t in fired} == {1234}
    ff_harness.set_processing_time(5678)
    src.add(("a", 2), timestamp=2)  # late, within the lateness: fires again
    fired = out.take()
    assert fired and {t for _, t in fired} == {5678}


def test_process_window_function_clear_runs_at_cleanup(ff_harness):
    calls: list[tuple[Any, ...]] = []

    class Tracked(ProcessWindowFunction):
        def process(self, key, context, elements):
            calls.append(("process", context.window().start, len(list(elements))))
            return []

        def clear(self, context):
            calls.append(("clear", context.window().start))

    src = ff_harness.source()
    windows = src.stream.key_by(lambda v: v[0]).window(TumblingEventTimeWindows.of(10)).allowed_lateness(5)
    ff_harness.output(windows.process(Tracked()))
    src.add(("a", 1), timestamp=1)
    src.watermark(9)
    src.add(("a", 2), timestamp=2)  # late, within the lateness: fires again
    assert calls == [("process", 0, 1), ("process", 0, 2)]
    src.watermark(13)
    assert calls[2:] == []
    src.watermark(14)  # 9 + 5: the window is discarded
    assert calls[2:] == [("clear", 0)]


class ApplyBounds(WindowFunction):
    def apply(self, key, window, inputs):
        return [(key, window.start, window.end, [e[1] for e in inputs])]


def test_apply_with_a_window_function(env):
    assert sorted(collect(tumbling_10(env).apply(ApplyBounds()))) == sorted(TUMBLING_10)


def test_apply_with_a_plain_function(env):
    def bounds(key, window, inputs):
        yield key, window.start, window.end, [e[1] for e in inputs]

    assert sorted(collect(tumbling_10(env).apply(bounds))) == sorted(TUMBLING_10)


# --------------------------------------------------------------------------------------------
# window_all


ALL_TUMBLING_10 = [(0, 10, [1, 4, 7, 3]), (10, 20, [12, 19]), (20, 30, [20])]


def all_tumbling_10(env):
    return timestamped(env).window_all(TumblingEventTimeWindows.of(10))


def test_window_all_tumbling_reduce(env):
    results = collect(all_tumbling_10(env).reduce(lambda a, b: ("all", a[1] + b[1])))
    # a window of one element gives that element as it is
    assert sorted(results) == [("all", 15), ("all", 31), ("b", 20)]


def test_window_all_tumbling_reduce_with_an_all_window_function(env):
    class Bounds(AllWindowFunction):
        def apply(self, window, inputs):
            (total,) = list(inputs)
            return [(window.start, window.end, total[1])]

    results = collect(all_tumbling_10(env).reduce(lambda a, b: ("all", a[1] + b[1]), window_function=Bounds()))
    assert sorted(results) == [(s, e, sum(v)) for s, e, v in ALL_TUMBLING_10]


def test_window_all_tumbling_process(env):
    class Bounds(ProcessAllWindowFunction):
        def process(self, context, elements):
            window = context.window()
            yield window.start, window.end, sorted(e[1] for e in elements)

    results = collect(all_tumbling_10(env).process(Bounds()))
    assert sorted(results) == [(s, e, sorted(v)) for s, e, v in ALL_TUMBLING_10]


def test_window_all_apply_and_aggregate(env):
    class Bounds(AllWindowFunction):
        def apply(self, window, inputs):
            return [(window.start, sorted(e[1] for e in inputs))]

    assert sorted(collect(all_tumbling_10(env).apply(Bounds()))) == [(s, sorted(v)) for s, _, v in ALL_TUMBLING_10]
    results = collect(all_tumbling_10(env).aggregate(CountAndSum()))
    assert sorted(results) == sorted((len(v), sum(v)) for _, _, v in ALL_TUMBLING_10)


def test_window_all_runs_in_one_subtask(env):
    all_tumbling_10(env).reduce(add_values).name("all windows").print()
    plan = json.loads(env.get_execution_plan())
    env.close()
    window_nodes = [n for n in plan["nodes"] if n["type"] == "all windows"]
    assert len(window_nodes) == 1
    assert window_nodes[0]["parallelism"] == 1


# --------------------------------------------------------------------------------------------
# count windows


COUNTED = [("a", 1), ("b", 10), ("a", 2), ("a", 3), ("b", 20), ("a", 4), ("a", 5), ("b", 30), ("a", 6), ("a", 7)]


def counted(env):
    return env.from_collection(COUNTED).key_by(lambda v: v[0])


class CountWindowContents(ProcessWindowFunction):
    def process(self, key, context, elements):
        window = context.window()
        assert isinstance(window, CountWindow)
        assert window.max_timestamp() == MAX_LONG_VALUE
        yield key, window.id, [e[1] for e in elements]


def test_tumbling_count_window_reduce_emits_full_windows_only(env):
    results = collect(counted(env).count_window(3).reduce(add_values))
    # a: 1+2+3, 4+5+6 (7 waits forever); b: 10+20+30
    assert sorted(results) == [("a", 6), ("a", 15), ("b", 60)]


def test_tumbling_count_window_aggregate(env):
    results = collect(counted(env).count_window(2).aggregate(CountAndSum()))
    # a: 1+2, 3+4, 5+6 (7 alone is not emitted); b: 10+20 (30 alone is not emitted)
    assert sorted(results) == [(2, 3), (2, 7), (2, 11), (2, 30)]


def test_tumbling_count_window_process_sees_count_windows(env):
    results = collect(counted(env).count_window(3).process(CountWindowContents()))
    assert sorted(results) == [("a", 0, [1, 2, 3]), ("a", 1, [4, 5, 6]), ("b", 0, [10, 20, 30])]


def test_sliding_count_window_overlapping(env):
    # size 3, slide 2: element #c (per key, from 0) is in windows id with 2*id <= c <= 2*id + 2
    results = collect(counted(env).count_window(3, 2).process(CountWindowContents()))
    assert sorted(results) == [
        ("a", 0, [1, 2, 3]),
        ("a", 1, [3, 4, 5]),
        ("a", 2, [5, 6, 7]),
        ("b", 0, [10, 20, 30]),
    ]


def test_sliding_count_window_with_gaps(env):
    # size 2, slide 3: elements #2, #5 of a key belong to no window
    results = collect(counted(env).count_window(2, 3).process(CountWindowContents()))
    assert sorted(results) == [("a", 0, [1, 2]), ("a", 1, [4, 5]), ("b", 0, [10, 20])]


def test_sliding_count_window_reduce(env):
    results = collect(counted(env).count_window(2, 1).reduce(add_values))
    a = [1, 2, 3, 4, 5, 6, 7]
    b = [10, 20, 30]
    expected = [("a", x + y) for x, y in zip(a, a[1:])] + [("b", x + y) for x, y in zip(b, b[1:])]
    assert sorted(results) == sorted(expected)


# --------------------------------------------------------------------------------------------
# GlobalWindows with count triggers


def test_global_window_purging_count_trigger_reduce(env):
    windows = counted(env).window(GlobalWindows.create()).trigger(PurgingTrigger.of(CountTrigger.of(3)))
    assert sorted(collect(windows.reduce(add_values))) == [("a", 6), ("a", 15), ("b", 60)]


def test_global_window_count_trigger_without_purge_accumulates(env):
    windows = counted(env).window(GlobalWindows.create()).trigger(CountTrigger.of(2))

    class Everything(ProcessWindowFunction):
        def process(self, key, context, elements):
            assert context.window() == GlobalWindow.get()
            yield key, [e[1] for e in elements]

    results = collect(windows.process(Everything()))
    assert sorted(results) == [
        ("a", [1, 2]),
        ("a", [1, 2, 3, 4]),
        ("a", [1, 2, 3, 4, 5, 6]),
        ("b", [10, 20]),
    ]


def test_global_window_count_trigger_without_purge_reduce(env):
    windows = counted(env).window(GlobalWindows.create()).trigger(CountTrigger.of(3))
    assert sorted(collect(windows.reduce(add_values))) == [("a", 6), ("a", 21), ("b", 60)]


# --------------------------------------------------------------------------------------------
# continuous triggers


def test_continuous_event_time_trigger_gives_early_results(ff_harness):
    src = ff_harness.source()
    windows = src.stream.key_by(lambda v: v[0]).window(TumblingEventTimeWindows.of(100))
    out = ff_harness.output(windows.trigger(ContinuousEventTimeTrigger.of(Time.milliseconds(10))).process(Contents()))
    src.add(("a", 1), timestamp=1)
    src.add(("a", 5), timestamp=5)  # the first element set the next fire time: 10
    src.watermark(9)
    assert out.take() == []
    src.watermark(10)
    assert out.take() == [("a", 0, 100, [1, 5])]  # early result
    src.add(("a", 15), timestamp=15)
    src.watermark(19)
    assert out.take() == []
    src.watermark(20)
    assert out.take() == [("a", 0, 100, [1, 5, 15])]
    src.watermark(40)  # 30 and 40 are due: one firing each
    assert out.take() == [("a", 0, 100, [1, 5, 15])] * 2
    src.end()  # 50, 60, 70, 80, 90 and the window's end, 99
    assert out.take() == [("a", 0, 100, [1, 5, 15])] * 6


def test_purging_continuous_event_time_trigger_gives_deltas(ff_harness):
    src = ff_harness.source()
    windows = src.stream.key_by(lambda v: v[0]).window(TumblingEventTimeWindows.of(100))
    trigger = PurgingTrigger.of(ContinuousEventTimeTrigger.of(10))
    out = ff_harness.output(windows.trigger(trigger).reduce(add_values))
    src.add(("a", 1), timestamp=1)
    src.add(("a", 2), timestamp=2)
    src.watermark(10)
    assert out.take() == [("a", 3)]
    src.add(("a", 30), timestamp=30)
    src.watermark(20)
    assert out.take() == [("a", 30)]
    src.end()  # later firings find the window empty and emit nothing
    assert out.take() == []


def test_continuous_processing_time_trigger_on_the_harness_clock(ff_env):
    with TestHarness(ff_env, start_time=30) as h:
        src = h.source()
        windows = src.stream.key_by(lambda v: v[0]).window(GlobalWindows.create())
        out = h.output(windows.trigger(ContinuousProcessingTimeTrigger.of(100)).reduce(add_values))
        src.add(("a", 1))  # at 30: fires at 100, then every 100 ms
        h.set_processing_time(99)
        assert out.take() == []
        h.set_processing_time(100)
        assert out.take() == [("a", 1)]
        src.add(("a", 2))
        h.set_processing_time(299)
        assert out.take() == [("a", 3)]
        h.set_processing_time(300)
        assert out.take() == [("a", 3)]
        src.end()
        h.set_processing_time(1000)
        assert out.take() == []


# --------------------------------------------------------------------------------------------
# processing-time windows on the harness clock


def test_tumbling_processing_time_windows(ff_harness):
    src = ff_harness.source()
    windows = src.stream.key_by(lambda v: v[0]).window(TumblingProcessingTimeWindows.of(Time.seconds(1)))
    out = ff_harness.output(windows.process(Contents()))
    src.add(("a", 1))
    src.add(("b", 2))
    ff_harness.set_processing_time(500)
    src.add(("a", 3))
    ff_harness.set_processing_time(998)
    assert out.take() == []
    ff_harness.set_processing_time(999)  # max timestamp of [0, 1000)
    assert sorted(out.take()) == [("a", 0, 1000, [1, 3]), ("b", 0, 1000, [2])]
    ff_harness.set_processing_time(1000)
    src.add(("a", 4))
    ff_harness.set_processing_time(2500)
    assert out.take() == [("a", 1000, 2000, [4])]
    src.add(("a", 5))  # [2000, 3000): never fires, the input ends first
    src.end()
    ff_harness.set_processing_time(10_000)
    assert out.take() == []


def test_tumbling_processing_time_windows_ignore_event_timestamps(ff_harness):
    src = ff_harness.source()
    windows = src.stream.key_by(lambda v: v[0]).window(TumblingProcessingTimeWindows.of(100, 50))
    out = ff_harness.output(windows.process(Contents()))
    ff_harness.set_processing_time(120)
    src.add(("a", 1), timestamp=5_000)  # offset 50: the window is [50, 150)
    src.watermark(10_000)
    assert out.take() == []
    ff_harness.set_processing_time(149)
    assert out.take() == [("a", 50, 150, [1])]


def test_sliding_processing_time_windows(ff_harness):
    src = ff_harness.source()
    windows = src.stream.key_by(lambda v: v[0]).window(SlidingProcessingTimeWindows.of(100, 50))
    out = ff_harness.output(windows.process(Contents()))
    ff_harness.set_processing_time(60)
    src.add(("a", 1))  # in [0, 100) and [50, 150)
    ff_harness.set_processing_time(110)
    src.add(("a", 2))  # in [50, 150) and [100, 200)
    assert out.take() == [("a", 0, 100, [1])]
    ff_harness.set_processing_time(199)
    assert out.take() == [("a", 50, 150, [1, 2]), ("a", 100, 200, [2])]


def test_processing_time_sessions(ff_harness):
    src = ff_harness.source()
    windows = src.stream.key_by(lambda v: v[0]).window(ProcessingTimeSessionWindows.with_gap(100))
    out = ff_harness.output(windows.process(Contents()))
    src.add(("a", 1))
    ff_harness.set_processing_time(80)
    src.add(("a", 2))  # extends the session to [0, 180)
    ff_harness.set_processing_time(179)
    assert out.take() == [("a", 0, 180, [1, 2])]


# --------------------------------------------------------------------------------------------
# user triggers written in Python


class FlagTrigger(Trigger):
    """Acts on the flag of each element ``(key, flag, value)``: "fire", "flush" (fire and purge),
    "purge", "later" (fire by a processing-time timer 100 ms on), else wait for the window's end.
    Records what the engine called."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def on_element(self, element, timestamp, window, ctx):
        self.calls.append(("element", element[2], timestamp, window, ctx.get_current_watermark()))
        flag = element[1]
        if flag == "fire":
            return TriggerResult.FIRE
        if flag == "flush":
            return TriggerResult.FIRE_AND_PURGE
        if flag == "purge":
            return TriggerResult.PURGE
        if flag == "later":
            ctx.register_processing_time_timer(ctx.get_current_processing_time() + 100)
        ctx.register_event_time_timer(window.max_timestamp())
        return TriggerResult.CONTINUE

    def on_event_time(self, time, window, ctx):
        self.calls.append(("event_time", time, window))
        return TriggerResult.FIRE if time == window.max_timestamp() else TriggerResult.CONTINUE

    def on_processing_time(self, time, window, ctx):
        self.calls.append(("processing_time", time, window))
        return TriggerResult.FIRE

    def clear(self, window, ctx):
        self.calls.append(("clear", window))
        ctx.delete_event_time_timer(window.max_timestamp())


class FlaggedContents(ProcessWindowFunction):
    def process(self, key, context, elements):
        yield key, context.window().start, [e[2] for e in elements]


def test_python_trigger_decides_fire_and_purge(ff_harness):
    trigger = FlagTrigger()
    src = ff_harness.source()
    windows = src.stream.key_by(lambda v: v[0]).window(TumblingEventTimeWindows.of(10)).trigger(trigger)
    out = ff_harness.output(windows.process(FlaggedContents()))
    src.add(("a", "", 1), timestamp=1)
    src.add(("a", "fire", 2), timestamp=2)
    assert out.take() == [("a", 0, [1, 2])]
    src.add(("a", "flush", 3), timestamp=3)
    assert out.take() == [("a", 0, [1, 2, 3])]
    src.add(("a", "", 4), timestamp=4)
    src.add(("a", "purge", 5), timestamp=5)
    src.add(("a", "", 6), timestamp=6)
    assert out.take() == []
    ff_harness.set_processing_time(50)
    src.add(("a", "later", 7), timestamp=7)
    ff_harness.set_processing_time(149)
    assert out.take() == []
    ff_harness.set_processing_time(150)
    assert out.take() == [("a", 0, [6, 7])]
    src.watermark(9)
    assert out.take() == [("a", 0, [6, 7])]
    src.add(("a", "", 15), timestamp=15)
    src.end()
    assert out.take() == [("a", 10, [15])]
    w0, w10 = TimeWindow(0, 10), TimeWindow(10, 20)
    assert trigger.calls == [
        ("element", 1, 1, w0, MIN_LONG_VALUE),
        ("element", 2, 2, w0, MIN_LONG_VALUE),
        ("element", 3, 3, w0, MIN_LONG_VALUE),
        ("element", 4, 4, w0, MIN_LONG_VALUE),
        ("element", 5, 5, w0, MIN_LONG_VALUE),
        ("element", 6, 6, w0, MIN_LONG_VALUE),
        ("element", 7, 7, w0, MIN_LONG_VALUE),
        ("processing_time", 150, w0),
        ("event_time", 9, w0),
        ("clear", w0),
        ("element", 15, 15, w10, 9),
        ("event_time", 19, w10),
        ("clear", w10),
    ]


def test_python_trigger_on_global_windows(ff_harness):
    src = ff_harness.source()
    windows = src.stream.key_by(lambda v: v[0]).window(GlobalWindows.create()).trigger(FlagTrigger())
    out = ff_harness.output(windows.reduce(lambda a, b: (a[0], "", a[2] + b[2])))
    src.add_all([("a", "", 1), ("b", "", 10), ("a", "flush", 2), ("a", "", 3), ("b", "fire", 20)])
    assert sorted(out.take()) == [("a", "", 3), ("b", "", 30)]
    src.add(("a", "fire", 4))
    assert out.take() == [("a", "", 7)]
    # The trigger registered event-time timers at the global window's max timestamp, MAX_LONG,
    # which the final watermark reaches: each key's window fires once more, with its contents.
    src.end()
    assert sorted(out.take()) == [("a", "", 7), ("b", "", 30)]


def test_subclass_of_a_builtin_trigger_runs_in_python(ff_harness):
    class EarlyOnNegative(EventTimeTrigger):
        def on_element(self, element, timestamp, window, ctx):
            if element[1] < 0:
                return TriggerResult.FIRE
            return super().on_element(element, timestamp, window, ctx)

    src = ff_harness.source()
    windows = src.stream.key_by(lambda v: v[0]).window(TumblingEventTimeWindows.of(10)).trigger(EarlyOnNegative())
    out = ff_harness.output(windows.reduce(add_values))
    src.add(("a", 1), timestamp=1)
    src.add(("a", -5), timestamp=2)
    assert out.take() == [("a", -4)]
    src.add(("a", 7), timestamp=3)
    src.watermark(9)
    assert out.take() == [("a", 3)]


def test_python_trigger_that_can_merge_on_sessions(ff_harness):
    class SessionEnd(Trigger):
        def on_element(self, element, timestamp, window, ctx):
            ctx.register_event_time_timer(window.max_timestamp())
            return TriggerResult.CONTINUE

        def on_event_time(self, time, window, ctx):
            return TriggerResult.FIRE if time == window.max_timestamp() else TriggerResult.CONTINUE

        def on_processing_time(self, time, window, ctx):
            return TriggerResult.CONTINUE

        def can_merge(self):
            return True

        def on_merge(self, window, ctx):
            ctx.register_event_time_timer(window.max_timestamp())

        def clear(self, window, ctx):
            ctx.delete_event_time_timer(window.max_timestamp())

    src = ff_harness.source()
    windows = src.stream.key_by(lambda v: v[0]).window(EventTimeSessionWindows.with_gap(5)).trigger(SessionEnd())
    out = ff_harness.output(windows.process(Contents()))
    src.add(("a", 1), timestamp=1)
    src.add(("a", 10), timestamp=10)
    src.add(("a", 5), timestamp=5)  # bridges [1, 6) and [10, 15)
    src.watermark(13)
    assert out.take() == []
    src.watermark(14)
    assert out.take() == [("a", 1, 15, [1, 10, 5])]


# --------------------------------------------------------------------------------------------
# allowed lateness, late side output, dropped late records


LATE = OutputTag("late")


def lateness_pipeline(h: TestHarness, side_output: bool):
    src = h.source()
    windows = src.stream.key_by(lambda v: v[0]).window(TumblingEventTimeWindows.of(10)).allowed_lateness(5)
    if side_output:
        windows = windows.side_output_late_data(LATE)
    result = windows.process(Contents())
    return src, h.output(result), h.output(result.get_side_output(LATE))


@pytest.mark.parametrize("side_output", [True, False], ids=["side-output", "no-side-output"])
def test_allowed_lateness_refires_once_per_late_element(ff_harness, side_output):
    src, out, late = lateness_pipeline(ff_harness, side_output)
    src.add(("a", 1), timestamp=1)
    src.add(("a", 2), timestamp=2)
    src.watermark(9)
    assert out.take() == [("a", 0, 10, [1, 2])]
    src.add(("a", 3), timestamp=3)  # late, but within 5 ms of lateness: fires again, in full
    assert out.take() == [("a", 0, 10, [1, 2, 3])]
    src.add(("a", 9), timestamp=9)
    src.add(("b", 4), timestamp=4)  # b's window [0, 10) had no element: it fires at once too
    assert out.take() == [("a", 0, 10, [1, 2, 3, 9]), ("b", 0, 10, [4])]
    src.watermark(13)
    src.add(("a", 8), timestamp=8)  # still within: 9 + 5 > 13
    assert out.take() == [("a", 0, 10, [1, 2, 3, 9, 8])]
    assert late.take() == []
    src.watermark(14)  # 9 + 5: the window is discarded
    src.add(("a", 5), timestamp=5)
    src.add(("a", 12), timestamp=12)  # [10, 20) is live
    assert out.take() == []
    assert late.take() == ([("a", 5)] if side_output else [])
    src.end()
    assert out.take() == [("a", 10, 20, [12])]
    assert late.take() == []


def test_late_elements_of_window_all_go_to_the_side_output(ff_harness):
    src = ff_harness.source()
    windows = src.stream.window_all(TumblingEventTimeWindows.of(10)).side_output_late_data(LATE)
    result = windows.reduce(lambda a, b: a + b)
    out, late = ff_harness.output(result), ff_harness.output(result.get_side_output(LATE))
    src.add(1, timestamp=1)
    src.add(2, timestamp=12)
    src.watermark(15)
    src.add(3, timestamp=3)
    src.add(4, timestamp=14)
    src.end()
    assert out.values == [1, 6]
    assert late.values == [3]


def test_sliding_windows_an_element_late_for_one_window_still_counts_in_the_next(ff_harness):
    src = ff_harness.source()
    windows = src.stream.key_by(lambda v: v[0]).window(SlidingEventTimeWindows.of(10, 5)).side_output_late_data(LATE)
    result = windows.process(Contents())
    out, late = ff_harness.output(result), ff_harness.output(result.get_side_output(LATE))
    src.add(("a", 1), timestamp=1)
    src.watermark(9)  # [-5, 5) and [0, 10) fire
    assert out.take() == [("a", -5, 5, [1]), ("a", 0, 10, [1])]
    src.add(("a", 7), timestamp=7)  # too late for [0, 10), on time for [5, 15)
    assert late.take() == []
    src.end()
    assert out.take() == [("a", 5, 15, [7])]


# --------------------------------------------------------------------------------------------
# dynamic session gaps


class GapFromValue(SessionWindowTimeGapExtractor):
    def extract(self, element) -> int:
        return element[2]


def test_dynamic_event_time_sessions_merge_by_each_elements_gap(ff_harness):
    # elements (key, timestamp, gap)
    src = ff_harness.source()
    windows = src.stream.key_by(lambda v: v[0]).window(EventTimeSessionWindows.with_dynamic_gap(GapFromValue()))
    out = ff_harness.output(windows.process(Contents()))
    src.add(("a", 1, 3), timestamp=1)  # [1, 4)
    src.add(("a", 10, 2), timestamp=10)  # [10, 12)
    src.add(("b", 2, 50), timestamp=2)  # [2, 52)
    src.watermark(10)
    assert out.take() == [("a", 1, 4, [1])]
    src.add(("a", 11, 20), timestamp=11)  # [11, 31) merges with [10, 12)
    src.watermark(29)
    assert out.take() == []
    src.watermark(30)
    assert out.take() == [("a", 10, 31, [10, 11])]
    src.end()
    assert out.take() == [("b", 2, 52, [2])]


def test_dynamic_processing_time_sessions(ff_harness):
    # elements (key, value, gap); the gap comes from a plain callable (beyond PyFlink)
    src = ff_harness.source()
    windows = src.stream.key_by(lambda v: v[0]).window(
        ProcessingTimeSessionWindows.with_dynamic_gap(lambda element: element[2])
    )
    out = ff_harness.output(windows.process(Contents()))
    src.add(("a", 1, 100))  # [0, 100)
    ff_harness.set_processing_time(50)
    src.add(("a", 2, 100))  # [50, 150): the session is [0, 150)
    src.add(("b", 3, 10))  # [50, 60)
    ff_harness.set_processing_time(60)
    assert out.take() == [("b", 50, 60, [3])]
    ff_harness.set_processing_time(149)
    assert out.take() == [("a", 0, 150, [1, 2])]


def test_dynamic_gap_that_is_not_positive_fails_the_job(env):
    keyed = timestamped(env, [("a", 1), ("a", 0)]).key_by(lambda v: v[0])
    keyed.window(DynamicEventTimeSessionWindows.with_dynamic_gap(lambda e: e[1])).reduce(add_values).add_sink(
        lambda v: None
    )
    with pytest.raises(RuntimeError, match="gap"):
        env.execute()


# --------------------------------------------------------------------------------------------
# argument errors, raised while the pipeline is built


def keyed(env):
    return env.from_collection([("a", 1)]).key_by(lambda v: v[0])


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: TumblingEventTimeWindows.of(Time.milliseconds(0)), ValueError, "greater than zero"),
        (lambda: TumblingEventTimeWindows.of(10, 10), ValueError, "abs\\(offset\\) < size"),
        (lambda: SlidingEventTimeWindows.of(10, 0), ValueError, "slide must be greater than zero"),
        (lambda: SlidingProcessingTimeWindows.of(10, 5, -5), ValueError, "abs\\(offset\\) < slide"),
        (lambda: EventTimeSessionWindows.with_gap(-1), ValueError, "gap must be greater than zero"),
        (lambda: EventTimeSessionWindows.with_gap("5 s"), TypeError, "str"),
        (lambda: EventTimeSessionWindows.with_dynamic_gap(5), TypeError, "SessionWindowTimeGapExtractor"),
        (lambda: CountTrigger.of(0), ValueError, "greater than zero"),
        (lambda: ContinuousEventTimeTrigger.of(-10), ValueError, "greater than zero"),
        (lambda: PurgingTrigger.of("fire"), TypeError, "Trigger"),
    ],
    ids=[
        "tumbling-size-0",
        "tumbling-offset",
        "sliding-slide-0",
        "sliding-offset",
        "session-gap",
        "session-gap-type",
        "dynamic-gap-type",
        "count-trigger-0",
        "continuous-interval",
        "purging-non-trigger",
    ],
)
def test_bad_assigner_and_trigger_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_allowed_lateness_must_not_be_negative(env):
    with pytest.raises(ValueError, match="allowed_lateness must not be negative, got -1 ms"):
        keyed(env).window(TumblingEventTimeWindows.of(10)).allowed_lateness(-1)


def test_allowed_lateness_of_a_processing_time_window_has_no_effect(ff_harness):
    """As in PyFlink: accepted (programs port unchanged), and windows fire and are freed at
    their end as without it."""
    src = ff_harness.source()
    windows = (
        src.stream.key_by(lambda v: v[0])
        .window(TumblingProcessingTimeWindows.of(Time.seconds(1)))
        .allowed_lateness(Time.seconds(10))
    )
    out = ff_harness.output(windows.process(Contents()))
    src.add(("a", 1))
    ff_harness.set_processing_time(999)
    assert out.take() == [("a", 0, 1000, [1])]
    ff_harness.set_processing_time(1500)
    src.add(("a", 2))
    ff_harness.set_processing_time(1999)
    assert out.take() == [("a", 1000, 2000, [2])]


def test_allowed_lateness_takes_every_duration_type(env):
    windows = keyed(env).window(TumblingEventTimeWindows.of(10))
    for lateness in (5, Time.milliseconds(5), Duration.of_millis(5)):
        assert windows.allowed_lateness(lateness) is windows


@pytest.mark.parametrize("bad", ["later", CountTrigger, None], ids=["str", "class", "None"])
def test_trigger_of_a_non_trigger(env, bad):
    with pytest.raises(TypeError, match="trigger\\(\\) takes a Trigger"):
        keyed(env).window(TumblingEventTimeWindows.of(10)).trigger(bad)


def test_window_all_with_sessions_needs_a_trigger_that_can_merge(env):
    class NoMerge(Trigger):
        def on_element(self, element, timestamp, window, ctx):
            return TriggerResult.CONTINUE

        def on_event_time(self, time, window, ctx):
            return TriggerResult.CONTINUE

        def on_processing_time(self, time, window, ctx):
            return TriggerResult.CONTINUE

        def clear(self, window, ctx):
            pass

    with pytest.raises(TypeError, match="can_merge"):
        env.from_collection([1]).window_all(EventTimeSessionWindows.with_gap(5)).trigger(NoMerge())


@pytest.mark.parametrize(
    "bad", [5, "tumbling", TumblingEventTimeWindows, Time.seconds(5)], ids=["int", "str", "class", "Time"]
)
def test_window_of_a_non_assigner(env, bad):
    with pytest.raises(TypeError, match="window\\(\\) takes a window assigner"):
        keyed(env).window(bad)
    with pytest.raises(TypeError, match="window assigner"):
        env.from_collection([1]).window_all(bad)


@pytest.mark.parametrize("size, slide", [(0, 0), (-1, 0), (3, -1)])
def test_count_window_of_a_bad_size(env, size, slide):
    with pytest.raises(ValueError, match="count_window"):
        keyed(env).count_window(size, slide)


def test_count_window_of_a_non_int(env):
    with pytest.raises(TypeError, match="count_window\\(\\) size must be an int"):
        keyed(env).count_window(2.5)


def test_side_output_late_data_of_a_non_tag(env):
    with pytest.raises(TypeError, match="OutputTag"):
        keyed(env).window(TumblingEventTimeWindows.of(10)).side_output_late_data("late")


def test_window_functions_of_the_wrong_kind(env):
    windows = keyed(env).window(TumblingEventTimeWindows.of(10))
    with pytest.raises(TypeError, match="reduce"):
        windows.reduce(5)
    with pytest.raises(TypeError, match="AggregateFunction"):
        windows.aggregate(lambda value: value)
    with pytest.raises(TypeError, match="WindowFunction or ProcessWindowFunction"):
        windows.reduce(add_values, window_function=5)
    with pytest.raises(TypeError, match="ProcessWindowFunction"):
        windows.process(5)
    with pytest.raises(TypeError, match="WindowFunction"):
        windows.apply(None)
    with pytest.raises(TypeError, match="AllWindowFunction or ProcessAllWindowFunction"):
        env.from_collection([1]).window_all(TumblingEventTimeWindows.of(10)).reduce(
            lambda a, b: a, window_function=WithBounds()
        )


def test_build_errors_leave_no_job_behind(env):
    with pytest.raises(ValueError):
        keyed(env).window(TumblingEventTimeWindows.of(10)).allowed_lateness(-1)
    # nothing was added to the environment: a later job runs on its own
    assert sorted(collect(env.from_collection([1, 2]).map(lambda v: v * 2))) == [2, 4]


def test_dropped_late_records_are_counted_in_the_job_metrics(env):
    """Without a late side output, records too late for every window are dropped and counted."""
    records = [("a", 1, 0), ("a", 1, 100), ("a", 1, 5), ("a", 1, 7), ("a", 1, 250)]
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(lambda e, ts: e[2])
    strategy = strategy.with_per_record_emission()
    got: list[Any] = []
    (
        env.from_collection(records)
        .assign_timestamps_and_watermarks(strategy)
        .key_by(lambda e: e[0])
        .window(TumblingEventTimeWindows.of(10))
        .reduce(lambda a, b: (a[0], a[1] + b[1], a[2]))
        .add_sink(got.append)
    )
    result = env.execute()
    # ts 5 and 7 arrive after the watermark passed 99: their window [0, 10) is gone.
    assert result.get_counter("numLateRecordsDropped") == 2
    assert sorted(g[1] for g in got) == [1, 1, 1]
