"""Event time: watermark strategies, timestamp assigners, idleness, periodic and per-record
watermark emission, watermark generators, event-time and processing-time timers of keyed process
functions, and the errors of event time used wrongly.

Semantics: DESIGN.md §6 and §8, pyflink-api.md §2.10, §3.3 and §3.4. Tests with the ``env``
fixture run at parallelism 1 and 2: the timestamp assigner follows its collection source
(parallelism 1), so the keyed operators behind it see records and watermarks in input order.
Tests that step time by hand use the TestHarness, which runs the pipeline on the test's thread
with a processing-time clock that only moves when told.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import pytest

from ferroflow.common import Duration, Time, TimestampAssigner, WatermarkGenerator, WatermarkStrategy
from ferroflow.common.constants import MAX_LONG_VALUE, MIN_LONG_VALUE
from ferroflow.datastream import (
    CoProcessFunction,
    KeyedCoProcessFunction,
    KeyedProcessFunction,
    ProcessFunction,
    ProcessWindowFunction,
    TimeDomain,
)
from ferroflow.datastream.connectors import NumberSequenceSource
from ferroflow.datastream.window import EventTimeSessionWindows, TumblingEventTimeWindows
from ferroflow.testing import TestHarness

HANG_GUARD_SECONDS = 30


def collect(ds) -> list[Any]:
    with ds.execute_and_collect() as results:
        return list(results)


def by_key(results: list[tuple[Any, ...]]) -> dict[Any, list[tuple[Any, ...]]]:
    """Results grouped by their first field, each group in emission order (the order within one
    key is deterministic at any parallelism: a key lives in one subtask)."""
    groups: dict[Any, list[tuple[Any, ...]]] = defaultdict(list)
    for r in results:
        groups[r[0]].append(r)
    return dict(groups)


class WatermarkProbe(KeyedProcessFunction):
    """Emits each record with its timestamp and the watermark the operator had when it arrived."""

    def process_element(self, value, ctx):
        yield value, ctx.timestamp(), ctx.timer_service().current_watermark()


class WindowBounds(ProcessWindowFunction):
    def process(self, key, context, elements):
        window = context.window()
        yield key, window.start, window.end, sorted(e[1] for e in elements)


class SecondField(TimestampAssigner):
    def extract_timestamp(self, value, record_timestamp) -> int:
        return value[1]


def per_record(strategy: WatermarkStrategy) -> WatermarkStrategy:
    return strategy.with_per_record_emission()


def probe_watermarks(env, timestamps: list[int], strategy: WatermarkStrategy) -> list[int]:
    """The watermark the keyed operator had when each record arrived (one key, input order)."""
    ds = env.from_collection(timestamps).assign_timestamps_and_watermarks(strategy)
    results = collect(ds.key_by(lambda v: "k").process(WatermarkProbe()))
    assert [value for value, _, _ in results] == timestamps
    assert [ts for _, ts, _ in results] == timestamps
    return [wm for _, _, wm in results]


# --------------------------------------------------------------------------------------------
# watermark strategies


def test_bounded_out_of_orderness_watermark_is_max_timestamp_minus_delay_minus_one(env):
    strategy = per_record(
        WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(10)).with_timestamp_assigner(
            lambda v, ts: v
        )
    )
    # After each record the watermark is max_ts - 10 - 1; an out-of-order record (105) does not
    # move it, and a record sees the watermark emitted after the one before it.
    watermarks = probe_watermarks(env, [100, 120, 105, 130, 125, 131], strategy)
    assert watermarks == [MIN_LONG_VALUE, 89, 109, 109, 119, 119]


@pytest.mark.parametrize("delay", [Duration.of_seconds(1), Time.seconds(1), 1000], ids=["Duration", "Time", "int"])
def test_bounded_out_of_orderness_accepts_every_duration_type(env, delay):
    strategy = per_record(WatermarkStrategy.for_bounded_out_of_orderness(delay).with_timestamp_assigner(lambda v, ts: v))
    assert probe_watermarks(env, [5000, 7000], strategy) == [MIN_LONG_VALUE, 3999]


def test_monotonous_watermark_is_max_timestamp_minus_one(env):
    strategy = per_record(WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(lambda v, ts: v))
    assert probe_watermarks(env, [1, 5, 5, 9, 10], strategy) == [MIN_LONG_VALUE, 0, 4, 4, 8]


def test_periodic_emission_follows_the_harness_clock(ff_harness):
    """Periodic watermarks come every auto-watermark interval (200 ms) of processing time, with
    the generator's current value; between two periods records see the previous watermark."""
    src = ff_harness.source()
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(10).with_timestamp_assigner(lambda v, ts: v)
    out = ff_harness.output(src.stream.assign_timestamps_and_watermarks(strategy).key_by(lambda v: 0).process(
        WatermarkProbe()
    ))
    src.add_all([100, 120, 105, 130])
    assert [wm for _, _, wm in out.take()] == [MIN_LONG_VALUE] * 4
    ff_harness.advance_processing_time(199)
    src.add(140)
    assert out.take() == [(140, 140, MIN_LONG_VALUE)]
    ff_harness.advance_processing_time(1)  # 200 ms: max so far is 140
    src.add(150)
    assert out.take() == [(150, 150, 129)]
    ff_harness.advance_processing_time(100)
    src.add(160)
    assert out.take() == [(160, 160, 129)]
    ff_harness.advance_processing_time(100)  # 400 ms
    src.add(1)
    assert out.take() == [(1, 1, 149)]


def test_auto_watermark_interval_sets_the_period(ff_env):
    ff_env.get_config().set_auto_watermark_interval(50)
    with TestHarness(ff_env) as h:
        src = h.source()
        strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(lambda v, ts: v)
        out = h.output(src.stream.assign_timestamps_and_watermarks(strategy).key_by(lambda v: 0).process(
            WatermarkProbe()
        ))
        src.add(10)
        h.advance_processing_time(50)
        src.add(20)
        h.advance_processing_time(50)
        src.add(30)
        assert [wm for _, _, wm in out.take()] == [MIN_LONG_VALUE, 9, 19]


def test_an_auto_watermark_interval_of_0_turns_periodic_watermarks_off(ff_env):
    ff_env.get_config().set_auto_watermark_interval(0)
    with TestHarness(ff_env) as h:
        src = h.source()
        strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(lambda v, ts: v)
        out = h.output(src.stream.assign_timestamps_and_watermarks(strategy).key_by(lambda v: 0).process(
            WatermarkProbe()
        ))
        src.add(10)
        h.advance_processing_time(1000)
        src.add(20)
        h.advance_processing_time(1000)
        src.add(30)
        assert [wm for _, _, wm in out.take()] == [MIN_LONG_VALUE] * 3


def test_no_watermarks_only_the_final_watermark_fires_windows(ff_harness):
    """no_watermarks() emits none, swallows watermarks from upstream, and keeps the records'
    own timestamps: windows fire only at the end of the input."""
    src = ff_harness.source()
    stream = src.stream.assign_timestamps_and_watermarks(WatermarkStrategy.no_watermarks())
    keyed = stream.key_by(lambda v: v[0])
    windows = ff_harness.output(keyed.window(TumblingEventTimeWindows.of(10)).process(WindowBounds()))
    probe = ff_harness.output(keyed.process(WatermarkProbe()))
    src.add(("a", 1), timestamp=1)
    src.add(("a", 25), timestamp=25)
    src.watermark(100)
    ff_harness.advance_processing_time(10_000)
    src.add(("a", 3), timestamp=3)
    assert windows.take() == []
    assert [(ts, wm) for _, ts, wm in probe.take()] == [(1, MIN_LONG_VALUE), (25, MIN_LONG_VALUE), (3, MIN_LONG_VALUE)]
    src.end()
    assert windows.take() == [("a", 0, 10, [1, 3]), ("a", 20, 30, [25])]


def test_no_watermarks_with_an_assigner_fires_everything_at_the_end(env):
    env.get_config().set_auto_watermark_interval(1)
    strategy = WatermarkStrategy.no_watermarks().with_timestamp_assigner(SecondField())
    data = [("a", 1), ("b", 12), ("a", 11), ("a", 2), ("b", 3)]
    ds = env.from_collection(data).assign_timestamps_and_watermarks(strategy).key_by(lambda v: v[0])
    results = collect(ds.window(TumblingEventTimeWindows.of(10)).process(WindowBounds()))
    assert sorted(results) == [("a", 0, 10, [1, 2]), ("a", 10, 20, [11]), ("b", 0, 10, [3]), ("b", 10, 20, [12])]


def test_upstream_watermarks_are_replaced_by_the_strategy(ff_harness):
    """An assigner operator emits its own watermarks; those arriving from upstream are dropped."""
    src = ff_harness.source()
    strategy = per_record(WatermarkStrategy.for_monotonous_timestamps())
    stream = src.stream.assign_timestamps_and_watermarks(strategy).key_by(lambda v: 0)
    out = ff_harness.output(stream.process(WatermarkProbe()))
    src.add("x", timestamp=5)
    src.watermark(1000)
    src.add("y", timestamp=6)
    assert out.take() == [("x", 5, MIN_LONG_VALUE), ("y", 6, 4)]


# --------------------------------------------------------------------------------------------
# timestamp assigners


def test_timestamp_assigner_class_and_lambda_give_the_same_windows(env):
    data = [("a", 1), ("b", 4), ("a", 7), ("a", 12), ("b", 19), ("b", 20)]
    expected = [("a", 0, 10, [1, 7]), ("a", 10, 20, [12]), ("b", 0, 10, [4]), ("b", 10, 20, [19]), ("b", 20, 30, [20])]
    for assigner in (SecondField(), lambda value, record_timestamp: value[1]):
        strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(assigner)
        ds = env.from_collection(data).assign_timestamps_and_watermarks(strategy).key_by(lambda v: v[0])
        assert sorted(collect(ds.window(TumblingEventTimeWindows.of(10)).process(WindowBounds()))) == expected


def test_record_timestamp_is_min_long_when_the_record_has_none(env):
    # The assigner's verdict on record_timestamp becomes the timestamp, read back downstream.
    strategy = WatermarkStrategy.no_watermarks().with_timestamp_assigner(
        lambda value, record_timestamp: 1 if record_timestamp == MIN_LONG_VALUE else 2
    )

    class Stamp(ProcessFunction):
        def process_element(self, value, ctx):
            yield value, ctx.timestamp()

    ds = env.from_collection(["x", "y"]).assign_timestamps_and_watermarks(strategy).process(Stamp())
    assert sorted(collect(ds)) == [("x", 1), ("y", 1)]
    assert MIN_LONG_VALUE == -(2**63)


def test_record_timestamp_is_the_current_timestamp(env):
    first = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(lambda v, ts: v * 10)
    second = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(lambda v, ts: ts + 1)

    class Stamp(ProcessFunction):
        def process_element(self, value, ctx):
            yield value, ctx.timestamp()

    ds = env.from_collection([1, 2, 3]).assign_timestamps_and_watermarks(first)
    ds = ds.assign_timestamps_and_watermarks(second).process(Stamp())
    assert sorted(collect(ds)) == [(1, 11), (2, 21), (3, 31)]


def test_record_timestamp_from_the_harness(ff_harness):
    seen: list[tuple[Any, int]] = []

    class Recording(TimestampAssigner):
        def extract_timestamp(self, value, record_timestamp):
            seen.append((value, record_timestamp))
            return 100 + value

    src = ff_harness.source()
    strategy = WatermarkStrategy.no_watermarks().with_timestamp_assigner(Recording())
    out = ff_harness.output(src.stream.assign_timestamps_and_watermarks(strategy).key_by(lambda v: 0).process(
        WatermarkProbe()
    ))
    src.add(1, timestamp=77)
    src.add(2)
    assert seen == [(1, 77), (2, MIN_LONG_VALUE)]
    assert [(v, ts) for v, ts, _ in out.values] == [(1, 101), (2, 102)]


def test_from_source_with_a_strategy_and_a_python_assigner(env):
    """Beyond PyFlink (which ignores a Python assigner in from_source): the assigner is used."""
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(lambda v, ts: v * 10)
    ds = env.from_source(NumberSequenceSource(0, 19), strategy, "numbers")
    ds = ds.map(lambda v: (v % 2, v)).key_by(lambda v: v[0])
    results = collect(ds.window(TumblingEventTimeWindows.of(50)).process(WindowBounds()))
    assert sorted(results) == [
        (0, 0, 50, [0, 2, 4]),
        (0, 50, 100, [6, 8]),
        (0, 100, 150, [10, 12, 14]),
        (0, 150, 200, [16, 18]),
        (1, 0, 50, [1, 3]),
        (1, 50, 100, [5, 7, 9]),
        (1, 100, 150, [11, 13]),
        (1, 150, 200, [15, 17, 19]),
    ]


# --------------------------------------------------------------------------------------------
# idleness


def two_inputs_strategy(idleness: int | None) -> WatermarkStrategy:
    strategy = per_record(WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(SecondField()))
    return strategy.with_idleness(idleness) if idleness is not None else strategy


def union_of_two(h: TestHarness, idleness: int | None):
    a, b = h.source(), h.source()
    strategy = two_inputs_strategy(idleness)
    union = a.stream.assign_timestamps_and_watermarks(strategy).union(b.stream.assign_timestamps_and_watermarks(strategy))
    windows = union.key_by(lambda v: v[0]).window(TumblingEventTimeWindows.of(10))
    out = h.output(windows.reduce(lambda x, y: (x[0], x[1] + y[1])))
    return a, b, out


def test_a_silent_input_holds_back_the_watermark_of_a_union(ff_harness):
    a, b, out = union_of_two(ff_harness, None)
    a.add(("a", 1))
    b.add(("b", 2))
    a.add(("a", 25))
    ff_harness.advance_processing_time(60_000)
    assert out.take() == []  # b's watermark (1) holds the union back
    b.add(("b", 12))  # b reaches 11: [0, 10) fires
    assert sorted(out.take()) == [("a", 1), ("b", 2)]


def test_an_idle_input_does_not_hold_back_the_watermark_of_a_union(ff_harness):
    a, b, out = union_of_two(ff_harness, 1000)
    a.add(("a", 1))
    b.add(("b", 2))
    a.add(("a", 15))
    ff_harness.set_processing_time(500)
    a.add(("a", 25))
    assert out.take() == []
    ff_harness.set_processing_time(999)
    assert out.take() == []
    ff_harness.set_processing_time(1000)  # b has sent nothing for 1000 ms: idle
    assert sorted(out.take()) == [("a", 1), ("a", 15), ("b", 2)]
    # a goes on alone; b comes back with a watermark (39) below the union's (44): it cannot move
    # event time back, but holds it from then on.
    a.add(("a", 45))
    assert out.take() == [("a", 25)]
    b.add(("b", 40))
    a.add(("a", 60))
    assert out.take() == []
    b.add(("b", 55))  # min(59, 54): [40, 50) fires
    assert sorted(out.take()) == [("a", 45), ("b", 40)]


def test_an_idle_input_does_not_hold_back_timers_of_a_connect(ff_harness):
    class Timers(KeyedCoProcessFunction):
        def process_element1(self, value, ctx):
            ctx.timer_service().register_event_time_timer(value[1] + 5)
            return []

        def process_element2(self, value, ctx):
            return []

        def on_timer(self, timestamp, ctx):
            yield ctx.get_current_key(), timestamp, ctx.timer_service().current_watermark()

    clicks, config = ff_harness.source(), ff_harness.source()
    strategy = two_inputs_strategy(200)
    connected = clicks.stream.assign_timestamps_and_watermarks(strategy).connect(
        config.stream.assign_timestamps_and_watermarks(strategy)
    )
    out = ff_harness.output(connected.key_by(lambda v: v[0], lambda v: v[0]).process(Timers()))
    config.add(("u", 0))
    clicks.add(("u", 10))
    clicks.add(("u", 30))
    ff_harness.set_processing_time(150)
    clicks.add(("u", 31))
    assert out.take() == []  # config's watermark (-1) holds the operator back
    ff_harness.set_processing_time(200)  # config has sent nothing for 200 ms: idle; clicks is not
    assert out.take() == [("u", 15, 30)]
    clicks.add(("u", 50))
    assert out.take() == [("u", 35, 49), ("u", 36, 49)]


# --------------------------------------------------------------------------------------------
# periodic versus per-record emission


def sessions_of(env, strategy: WatermarkStrategy) -> list[Any]:
    ds = env.from_collection([("k", 0), ("k", 8), ("k", 4)]).assign_timestamps_and_watermarks(strategy)
    return collect(ds.key_by(lambda v: v[0]).window(EventTimeSessionWindows.with_gap(5)).process(WindowBounds()))


def test_periodic_watermarks_let_a_bounded_input_arrive_before_the_first_watermark(env):
    env.get_config().set_auto_watermark_interval(60_000)
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(SecondField())
    # [0, 5), [8, 13) and [4, 9) merge: no watermark came between the records
    assert sessions_of(env, strategy) == [("k", 0, 13, [0, 4, 8])]


def test_per_record_watermarks_fire_the_first_session_before_the_late_record(env):
    env.get_config().set_auto_watermark_interval(60_000)
    strategy = per_record(WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(SecondField()))
    # after 8 the watermark is 7: [0, 5) fires; 4 opens [4, 9), which merges with [8, 13)
    assert sorted(sessions_of(env, strategy)) == [("k", 0, 5, [0]), ("k", 4, 13, [4, 8])]


# --------------------------------------------------------------------------------------------
# watermark generators


class EveryThird(WatermarkGenerator):
    """Emits the largest timestamp so far after every third record."""

    def __init__(self) -> None:
        self.count = 0
        self.max = MIN_LONG_VALUE

    def on_event(self, value, timestamp):
        self.count += 1
        self.max = max(self.max, timestamp)
        return self.max if self.count % 3 == 0 else None


def test_watermark_generator_on_event(env):
    strategy = WatermarkStrategy.for_generator(EveryThird).with_timestamp_assigner(lambda v, ts: v)
    watermarks = probe_watermarks(env, [1, 2, 3, 4, 5, 6, 7], strategy)
    assert watermarks == [MIN_LONG_VALUE, MIN_LONG_VALUE, MIN_LONG_VALUE, 3, 3, 3, 6]


def test_watermark_generator_factory_may_be_a_lambda(env):
    strategy = WatermarkStrategy.for_generator(lambda: EveryThird()).with_timestamp_assigner(lambda v, ts: v)
    assert probe_watermarks(env, [10, 20, 30, 40], strategy) == [MIN_LONG_VALUE, MIN_LONG_VALUE, MIN_LONG_VALUE, 30]


class LagsBehind(WatermarkGenerator):
    """Periodically emits the largest timestamp so far minus 1000; emits nothing per event
    except on a "flush" record, which emits its timestamp minus 100."""

    def __init__(self) -> None:
        self.max: int | None = None

    def on_event(self, value, timestamp):
        self.max = timestamp if self.max is None else max(self.max, timestamp)
        return timestamp - 100 if value[0] == "flush" else None

    def on_periodic_emit(self):
        return None if self.max is None else self.max - 1000


def test_watermark_generator_periodic_emit_follows_the_harness_clock(ff_harness):
    src = ff_harness.source()
    strategy = WatermarkStrategy.for_generator(LagsBehind).with_timestamp_assigner(SecondField())
    stream = src.stream.assign_timestamps_and_watermarks(strategy).key_by(lambda v: 0)
    out = ff_harness.output(stream.process(WatermarkProbe()))
    src.add(("x", 5000))
    src.add(("flush", 6000))  # emits 5900 right after itself
    src.add(("x", 6001))
    ff_harness.advance_processing_time(200)  # periodic: 6001 - 1000 = 5001 < 5900, ignored
    src.add(("x", 7000))
    ff_harness.advance_processing_time(200)  # periodic: 6000
    src.add(("x", 7001))
    assert [wm for _, _, wm in out.take()] == [MIN_LONG_VALUE, MIN_LONG_VALUE, 5900, 5900, 6000]


def test_per_record_emission_calls_the_periodic_emit_after_every_record(env):
    class PreviousMax(WatermarkGenerator):
        def __init__(self) -> None:
            self.max = MIN_LONG_VALUE

        def on_event(self, value, timestamp):
            self.max = max(self.max, timestamp)  # and emits nothing itself

        def on_periodic_emit(self):
            return self.max

    strategy = per_record(WatermarkStrategy.for_generator(PreviousMax).with_timestamp_assigner(lambda v, ts: v))
    assert probe_watermarks(env, [3, 9, 4, 12], strategy) == [MIN_LONG_VALUE, 3, 9, 9]


# --------------------------------------------------------------------------------------------
# event-time timers


class TimerScript(KeyedProcessFunction):
    """Each record ``(key, op, time)`` registers ("reg") or deletes ("del") an event-time timer,
    or registers ("preg") or deletes ("pdel") a processing-time timer. on_timer emits
    ``(key, timestamp, domain, watermark)``."""

    def process_element(self, value, ctx):
        _, op, t = value
        timers = ctx.timer_service()
        if op == "reg":
            timers.register_event_time_timer(t)
        elif op == "del":
            timers.delete_event_time_timer(t)
        elif op == "preg":
            timers.register_processing_time_timer(t)
        elif op == "pdel":
            timers.delete_processing_time_timer(t)
        return []

    def on_timer(self, timestamp, ctx):
        yield ctx.get_current_key(), timestamp, ctx.time_domain(), ctx.timer_service().current_watermark()


def run_timer_script(env, script: list[tuple[str, str, int]]) -> list[Any]:
    return collect(env.from_collection(script).key_by(lambda v: v[0]).process(TimerScript()))


def test_event_time_timers_fire_in_timestamp_order_per_key_at_the_final_watermark(env):
    script = [("a", "reg", 30), ("b", "reg", 7), ("a", "reg", 10), ("b", "reg", 3), ("a", "reg", 20), ("c", "reg", 1)]
    fired = by_key(run_timer_script(env, script))
    assert {k: [t for _, t, _, _ in v] for k, v in fired.items()} == {"a": [10, 20, 30], "b": [3, 7], "c": [1]}
    for timers in fired.values():
        for _, _, domain, watermark in timers:
            assert domain == TimeDomain.EVENT_TIME
            assert watermark == MAX_LONG_VALUE


def test_event_time_timers_are_deduplicated_per_key_and_timestamp(env):
    script = [("a", "reg", 5), ("a", "reg", 5), ("b", "reg", 5), ("a", "reg", 6), ("b", "reg", 5), ("a", "reg", 5)]
    fired = run_timer_script(env, script)
    assert sorted((k, t) for k, t, _, _ in fired) == [("a", 5), ("a", 6), ("b", 5)]


def test_deleted_event_time_timers_do_not_fire(env):
    script = [
        ("a", "reg", 5),
        ("a", "reg", 6),
        ("a", "del", 5),
        ("b", "reg", 5),  # another key's timer at the same time stays
        ("a", "del", 99),  # deleting a timer that does not exist is fine
        ("c", "reg", 1),
        ("c", "del", 1),
    ]
    fired = run_timer_script(env, script)
    assert sorted((k, t) for k, t, _, _ in fired) == [("a", 6), ("b", 5)]


def test_event_time_timers_fire_when_the_watermark_reaches_them(ff_harness):
    src = ff_harness.source()
    out = ff_harness.output(src.stream.key_by(lambda v: v[0]).process(TimerScript()))
    src.add_all([("a", "reg", 30), ("a", "reg", 10), ("a", "reg", 20), ("b", "reg", 10), ("a", "reg", 25)])
    src.add(("a", "del", 25))
    src.watermark(9)
    assert out.take() == []
    src.watermark(20)
    fired = out.take()
    assert [(k, t, w) for k, t, _, w in fired if k == "a"] == [("a", 10, 20), ("a", 20, 20)]
    assert [(k, t, w) for k, t, _, w in fired if k == "b"] == [("b", 10, 20)]
    src.watermark(29)
    assert out.take() == []
    src.watermark(30)
    assert out.take() == [("a", 30, TimeDomain.EVENT_TIME, 30)]


def test_a_timer_at_or_before_the_watermark_fires_on_the_next_watermark(ff_harness):
    src = ff_harness.source()
    out = ff_harness.output(src.stream.key_by(lambda v: v[0]).process(TimerScript()))
    src.watermark(20)
    src.add(("a", "reg", 15))
    src.add(("a", "reg", 20))
    assert out.take() == []  # not synchronously
    src.watermark(21)
    assert out.take() == [("a", 15, TimeDomain.EVENT_TIME, 21), ("a", 20, TimeDomain.EVENT_TIME, 21)]


def test_timers_registered_in_on_timer_fire_in_the_same_advance_when_due(ff_harness):
    class Chain(KeyedProcessFunction):
        def process_element(self, value, ctx):
            ctx.timer_service().register_event_time_timer(10)
            return []

        def on_timer(self, timestamp, ctx):
            yield timestamp
            if timestamp < 40:
                ctx.timer_service().register_event_time_timer(timestamp + 5)

    src = ff_harness.source()
    out = ff_harness.output(src.stream.key_by(lambda v: v).process(Chain()))
    src.add("a")
    src.watermark(20)
    assert out.take() == [10, 15, 20]
    src.end()
    assert out.take() == [25, 30, 35, 40]


def test_on_timer_output_carries_the_timer_timestamp(env):
    class Remind(KeyedProcessFunction):
        def process_element(self, value, ctx):
            ctx.timer_service().register_event_time_timer(value[1] + 100)
            return []

        def on_timer(self, timestamp, ctx):
            yield ctx.get_current_key(), ctx.timestamp()

    class Stamp(ProcessFunction):
        def process_element(self, value, ctx):
            yield value, ctx.timestamp()

    data = [("a", 1), ("b", 2)]
    ds = env.from_collection(data).key_by(lambda v: v[0]).process(Remind()).process(Stamp())
    assert sorted(collect(ds)) == [(("a", 101), 101), (("b", 102), 102)]


# --------------------------------------------------------------------------------------------
# processing-time timers


def test_processing_time_timers_fire_when_the_harness_clock_reaches_them(ff_harness):
    src = ff_harness.source()
    out = ff_harness.output(src.stream.key_by(lambda v: v[0]).process(TimerScript()))
    src.add_all([("a", "preg", 50), ("a", "preg", 40), ("a", "preg", 40), ("b", "preg", 60), ("b", "pdel", 60)])
    src.add(("b", "preg", 45))
    ff_harness.set_processing_time(39)
    assert out.take() == []
    ff_harness.set_processing_time(45)
    fired = out.take()
    assert sorted((k, t) for k, t, _, _ in fired) == [("a", 40), ("b", 45)]
    assert {d for _, _, d, _ in fired} == {TimeDomain.PROCESSING_TIME}
    ff_harness.advance_processing_time(1000)
    assert [(k, t) for k, t, _, _ in out.take()] == [("a", 50)]  # b's 60 was deleted


def test_processing_time_timers_see_the_harness_clock(ff_harness):
    class Clock(KeyedProcessFunction):
        def process_element(self, value, ctx):
            now = ctx.timer_service().current_processing_time()
            ctx.timer_service().register_processing_time_timer(now + 10)
            yield "element", now

        def on_timer(self, timestamp, ctx):
            yield "timer", timestamp, ctx.timer_service().current_processing_time()

    src = ff_harness.source()
    out = ff_harness.output(src.stream.key_by(lambda v: 0).process(Clock()))
    ff_harness.set_processing_time(1000)
    src.add("x")
    ff_harness.set_processing_time(1025)
    assert out.take() == [("element", 1000), ("timer", 1010, 1025)]


def test_results_of_processing_time_timers_carry_no_event_timestamp(ff_harness):
    """An event-time timer's results carry the timer's time; a processing-time timer's carry
    none (wall-clock time must not land records in event-time windows)."""

    class BothTimers(KeyedProcessFunction):
        def process_element(self, value, ctx):
            ctx.timer_service().register_event_time_timer(50)
            ctx.timer_service().register_processing_time_timer(5000)

        def on_timer(self, timestamp, ctx):
            yield ctx.time_domain()

    class Stamp(ProcessFunction):
        def process_element(self, value, ctx):
            yield value, ctx.timestamp()

    src = ff_harness.source()
    out = ff_harness.output(src.stream.key_by(lambda v: 0).process(BothTimers()).process(Stamp()))
    src.add("x", timestamp=1)
    src.watermark(100)
    ff_harness.set_processing_time(6000)
    assert out.take() == [(TimeDomain.EVENT_TIME, 50), (TimeDomain.PROCESSING_TIME, None)]


def test_processing_time_timers_are_dropped_at_the_end_of_a_bounded_input(ff_harness):
    src = ff_harness.source()
    out = ff_harness.output(src.stream.key_by(lambda v: v[0]).process(TimerScript()))
    src.add(("a", "preg", 500))
    src.add(("a", "reg", 1000))
    src.end()
    assert [(k, t, d) for k, t, d, _ in out.take()] == [("a", 1000, TimeDomain.EVENT_TIME)]
    ff_harness.set_processing_time(1000)
    assert out.take() == []


def test_a_pending_processing_time_timer_does_not_keep_a_job_running(env):
    class FarFuture(KeyedProcessFunction):
        def process_element(self, value, ctx):
            ctx.timer_service().register_processing_time_timer(ctx.timer_service().current_processing_time() + 3_600_000)
            yield value

        def on_timer(self, timestamp, ctx):
            yield "fired"

    started = time.monotonic()
    results = collect(env.from_collection([1, 2, 3]).key_by(lambda v: v).process(FarFuture()))
    assert time.monotonic() - started < HANG_GUARD_SECONDS
    assert sorted(results) == [1, 2, 3]


def test_processing_time_is_the_wall_clock_outside_the_harness(env):
    class Now(ProcessFunction):
        def process_element(self, value, ctx):
            yield ctx.timer_service().current_processing_time()

    before = int(time.time() * 1000)
    results = collect(env.from_collection([1, 2]).process(Now()))
    after = int(time.time() * 1000)
    assert len(results) == 2
    assert all(before <= t <= after for t in results)


# --------------------------------------------------------------------------------------------
# KeyedCoProcessFunction timers


class CoTimers(KeyedCoProcessFunction):
    """Input 1 registers an event-time timer at its timestamp + 10; input 2 a processing-time
    timer 5 ms from now."""

    def process_element1(self, value, ctx):
        ctx.timer_service().register_event_time_timer(ctx.timestamp() + 10)
        yield "1", value

    def process_element2(self, value, ctx):
        ctx.timer_service().register_processing_time_timer(ctx.timer_service().current_processing_time() + 5)
        yield "2", value

    def on_timer(self, timestamp, ctx):
        yield "timer", ctx.get_current_key(), timestamp, ctx.time_domain()


def test_keyed_co_process_function_timers_in_the_harness(ff_harness):
    a, b = ff_harness.source(), ff_harness.source()
    connected = a.stream.connect(b.stream).key_by(lambda v: v[0], lambda v: v[0])
    out = ff_harness.output(connected.process(CoTimers()))
    a.add(("x", 1), timestamp=1)
    b.add(("y", 2))
    assert out.take() == [("1", ("x", 1)), ("2", ("y", 2))]
    a.watermark(11)
    assert out.take() == []  # the other input's watermark holds the operator back
    b.watermark(100)
    assert out.take() == [("timer", "x", 11, TimeDomain.EVENT_TIME)]
    ff_harness.advance_processing_time(5)
    assert out.take() == [("timer", "y", 5, TimeDomain.PROCESSING_TIME)]


def test_keyed_co_process_function_event_time_timers_fire_at_the_end(env):
    class Join(KeyedCoProcessFunction):
        def process_element1(self, value, ctx):
            ctx.timer_service().register_event_time_timer(value[1])
            return []

        def process_element2(self, value, ctx):
            ctx.timer_service().register_event_time_timer(value[1])
            ctx.timer_service().register_event_time_timer(value[1] + 1)
            ctx.timer_service().delete_event_time_timer(value[1] + 1)
            return []

        def on_timer(self, timestamp, ctx):
            yield ctx.get_current_key(), timestamp

    left = env.from_collection([("a", 5), ("b", 3), ("a", 1)])
    right = env.from_collection([("a", 5), ("b", 9), ("c", 2)])
    fired = collect(left.connect(right).key_by(lambda v: v[0], lambda v: v[0]).process(Join()))
    assert {k: [t for _, t in v] for k, v in by_key(fired).items()} == {"a": [1, 5], "b": [3, 9], "c": [2]}


# --------------------------------------------------------------------------------------------
# errors


def test_timer_in_a_non_keyed_process_function_fails_the_job(env):
    class Reminder(ProcessFunction):
        def process_element(self, value, ctx):
            ctx.timer_service().register_event_time_timer(5)
            yield value

    env.from_collection([1, 2]).process(Reminder()).name("reminders").add_sink(lambda v: None)
    with pytest.raises(RuntimeError, match="keyed stream") as info:
        env.execute()
    assert "key_by" in str(info.value)
    assert "reminders" in "\n".join(getattr(info.value, "__notes__", []))


def test_processing_time_timer_in_a_non_keyed_co_process_function_fails_the_job(env):
    class Reminder(CoProcessFunction):
        def process_element1(self, value, ctx):
            ctx.timer_service().register_processing_time_timer(5)
            return []

        def process_element2(self, value, ctx):
            return []

    env.from_collection([1]).connect(env.from_collection([2])).process(Reminder()).add_sink(lambda v: None)
    with pytest.raises(RuntimeError, match="keyed stream"):
        env.execute()


def test_non_keyed_process_function_can_read_the_clocks(env):
    class Clocks(ProcessFunction):
        def process_element(self, value, ctx):
            yield ctx.timer_service().current_watermark()

    assert collect(env.from_collection([1, 2]).process(Clocks())) == [MIN_LONG_VALUE, MIN_LONG_VALUE]


def test_event_time_window_without_timestamps_names_assign_timestamps_and_watermarks(env):
    ds = env.from_collection([("a", 1), ("b", 2)]).key_by(lambda v: v[0])
    ds.window(TumblingEventTimeWindows.of(Time.seconds(1))).reduce(lambda a, b: a).name("my window").add_sink(
        lambda v: None
    )
    with pytest.raises(RuntimeError, match="assign_timestamps_and_watermarks") as info:
        env.execute()
    assert "my window" in "\n".join(getattr(info.value, "__notes__", []))


def test_event_time_window_without_timestamps_in_the_harness(ff_harness):
    src = ff_harness.source()
    ff_harness.output(src.stream.key_by(lambda v: v).window(EventTimeSessionWindows.with_gap(5)).reduce(lambda a, b: a))
    src.add("x", timestamp=1)
    with pytest.raises(RuntimeError, match="assign_timestamps_and_watermarks"):
        src.add("y")
