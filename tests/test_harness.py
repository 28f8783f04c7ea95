"""ferroflow.testing: the TestHarness that steps a pipeline by hand (records, watermarks,
processing time, end of input), its outputs, its errors and life cycle, and the pytest fixtures
``ff_env`` and ``ff_harness`` that the ``pytest11`` entry point loads.

The harness runs every task on the test's own thread, so these tests are deterministic; a few run
the harness at parallelism 2 as well (the ``env`` fixture) and compare sorted results.
"""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from ferroflow.datastream import (
    KeyedProcessFunction,
    MapFunction,
    OutputTag,
    ProcessFunction,
    ProcessWindowFunction,
    StreamExecutionEnvironment,
)
from ferroflow.datastream.window import TumblingEventTimeWindows, TumblingProcessingTimeWindows
from ferroflow.testing import TestHarness, TestOutput, TestSource

pytest_plugins = ["pytester"]


class Boom(Exception):
    """An exception type of the user's own."""


def notes(exc: BaseException) -> str:
    return "\n".join(getattr(exc, "__notes__", []))


class Lifecycle(MapFunction):
    """Doubles values; records open() and close() in ``events``."""

    def __init__(self, events: list[Any]) -> None:
        self.events = events

    def open(self, runtime_context):
        self.events.append(("open", runtime_context.get_index_of_this_subtask()))

    def map(self, value):
        return value * 2

    def close(self):
        self.events.append("close")


class Sum(ProcessWindowFunction):
    def process(self, key, context, elements):
        yield key, context.window().start, sum(e[1] for e in elements)


class Alarm(KeyedProcessFunction):
    """Sets a processing-time timer ``value[1]`` ms from now and an event-time timer at the
    record's timestamp + 10."""

    def process_element(self, value, ctx):
        timers = ctx.timer_service()
        timers.register_processing_time_timer(timers.current_processing_time() + value[1])
        if ctx.timestamp() is not None:
            timers.register_event_time_timer(ctx.timestamp() + 10)
        yield "seen", value[0]

    def on_timer(self, timestamp, ctx):
        yield "timer", ctx.get_current_key(), timestamp, ctx.time_domain().name


# --------------------------------------------------------------------------------------------
# outputs after each step


def test_outputs_are_complete_after_each_step(ff_harness):
    src = ff_harness.source()
    keyed = src.stream.key_by(lambda v: v[0])
    mapped = ff_harness.output(src.stream.map(lambda v: v[1] * 10))
    windows = ff_harness.output(keyed.window(TumblingEventTimeWindows.of(10)).process(Sum()))
    timers = ff_harness.output(keyed.process(Alarm()))

    src.add(("a", 1), timestamp=1)
    assert mapped.take() == [10]
    assert timers.take() == [("seen", "a")]
    assert windows.take() == []

    src.add_all([("a", 2), ("b", 3)], timestamps=[2, 13])
    assert mapped.take() == [20, 30]
    assert timers.take() == [("seen", "a"), ("seen", "b")]

    src.watermark(9)
    assert windows.take() == [("a", 0, 3)]
    assert timers.take() == []

    ff_harness.set_processing_time(1)  # a's first timer: 0 + 1
    assert timers.take() == [("timer", "a", 1, "PROCESSING_TIME")]
    ff_harness.advance_processing_time(2)
    assert sorted(timers.take()) == [("timer", "a", 2, "PROCESSING_TIME"), ("timer", "b", 3, "PROCESSING_TIME")]

    src.watermark(12)
    assert timers.take() == [("timer", "a", 11, "EVENT_TIME"), ("timer", "a", 12, "EVENT_TIME")]

    src.end()
    assert windows.take() == [("b", 10, 3)]
    assert timers.take() == [("timer", "b", 23, "EVENT_TIME")]
    assert mapped.take() == []


def test_take_returns_what_is_new_and_values_returns_everything(ff_harness):
    src = ff_harness.source()
    out = ff_harness.output(src.stream.map(lambda v: v + 1))
    assert isinstance(src, TestSource)
    assert isinstance(out, TestOutput)
    assert out.values == [] and out.take() == [] and len(out) == 0
    src.add(1)
    src.add(2)
    assert out.values == [2, 3]
    assert out.take() == [2, 3]
    assert out.take() == []
    assert out.values == [2, 3]  # take() does not consume values
    src.add(3)
    assert len(out) == 3
    assert repr(out) == "TestOutput([2, 3, 4])"
    assert out.take() == [4]
    values = out.values
    values.append("mine")  # a copy
    assert out.values == [2, 3, 4]


def test_several_outputs_of_one_stream_and_of_two_sources(ff_harness):
    numbers, words = ff_harness.source(), ff_harness.source()
    doubled = ff_harness.output(numbers.stream.map(lambda v: v * 2))
    negated = ff_harness.output(numbers.stream.map(lambda v: -v))
    upper = ff_harness.output(words.stream.map(str.upper))
    both = ff_harness.output(numbers.stream.map(str).union(words.stream))
    numbers.add(1)
    words.add("x")
    numbers.add(2)
    assert doubled.values == [2, 4]
    assert negated.values == [-1, -2]
    assert upper.values == ["X"]
    assert both.values == ["1", "x", "2"]


def test_the_same_stream_twice_as_output(ff_harness):
    src = ff_harness.source()
    stream = src.stream.map(lambda v: v * 3)
    first, second = ff_harness.output(stream), ff_harness.output(stream)
    src.add_all([1, 2])
    assert first.take() == [3, 6]
    assert second.take() == [3, 6]


def test_side_outputs_through_the_harness(ff_harness):
    odd = OutputTag("odd")
    late = OutputTag("late")

    class Split(ProcessFunction):
        def process_element(self, value, ctx):
            if value[1] % 2:
                yield odd, value
            yield value

    src = ff_harness.source()
    split = src.stream.process(Split())
    windows = split.key_by(lambda v: v[0]).window(TumblingEventTimeWindows.of(10)).side_output_late_data(late)
    sums = windows.process(Sum())
    main = ff_harness.output(split)
    odds = ff_harness.output(split.get_side_output(odd))
    results = ff_harness.output(sums)
    too_late = ff_harness.output(sums.get_side_output(late))

    src.add(("a", 1), timestamp=1)
    src.add(("a", 2), timestamp=2)
    assert odds.take() == [("a", 1)]
    assert main.take() == [("a", 1), ("a", 2)]
    src.watermark(10)
    assert results.take() == [("a", 0, 3)]
    src.add(("a", 3), timestamp=3)
    assert odds.take() == [("a", 3)]
    assert too_late.take() == [("a", 3)]
    assert results.take() == []


def test_environment_sinks_and_collection_sources_run_with_the_harness(ff_env):
    got: list[int] = []
    with TestHarness(ff_env) as h:
        src = h.source()
        src.stream.map(lambda v: v * 2).add_sink(got.append)
        fixed = h.output(ff_env.from_collection([7, 8]).map(lambda v: -v))
        src.add(1)
        assert got == [2]
        assert fixed.values == [-7, -8]


def test_end_all_ends_every_input(ff_harness):
    a, b = ff_harness.source(), ff_harness.source()
    union = a.stream.union(b.stream).key_by(lambda v: v[0])
    out = ff_harness.output(union.window(TumblingEventTimeWindows.of(10)).process(Sum()))
    a.add(("a", 1), timestamp=1)
    b.add(("b", 2), timestamp=2)
    a.end()
    assert out.take() == []  # b still holds event time back
    ff_harness.end_all()
    assert sorted(out.take()) == [("a", 0, 1), ("b", 0, 2)]


# --------------------------------------------------------------------------------------------
# processing time


def test_processing_time_starts_at_start_time_and_only_moves_when_told(ff_env):
    class Now(ProcessFunction):
        def process_element(self, value, ctx):
            yield ctx.timer_service().current_processing_time()

    with TestHarness(ff_env, start_time=1_000) as h:
        assert h.processing_time == 1_000
        src = h.source()
        out = h.output(src.stream.process(Now()))
        src.add("x")
        src.add("y")
        h.advance_processing_time(250)
        src.add("z")
        h.set_processing_time(1_250)  # setting the current time again is allowed
        h.advance_processing_time(0)
        assert h.processing_time == 1_250
        assert out.values == [1_000, 1_000, 1_250]


def test_processing_time_cannot_go_back(ff_harness):
    src = ff_harness.source()
    ff_harness.output(src.stream)
    ff_harness.set_processing_time(100)
    with pytest.raises(ValueError, match="processing time cannot go back: it is 100, got 99"):
        ff_harness.set_processing_time(99)
    with pytest.raises(ValueError, match="cannot go back"):
        ff_harness.advance_processing_time(-1)
    assert ff_harness.processing_time == 100


def test_processing_time_cannot_go_back_before_the_start(ff_env):
    with TestHarness(ff_env, start_time=500) as h, pytest.raises(ValueError, match="cannot go back"):
        h.set_processing_time(499)


@pytest.mark.parametrize("bad", [1.5, True, "3", None], ids=["float", "bool", "str", "None"])
def test_processing_time_must_be_an_int(ff_harness, bad):
    with pytest.raises(TypeError, match="set_processing_time\\(\\) takes an int"):
        ff_harness.set_processing_time(bad)


def test_processing_time_windows_fire_only_when_the_clock_moves(ff_harness):
    src = ff_harness.source()
    windows = src.stream.key_by(lambda v: v[0]).window(TumblingProcessingTimeWindows.of(100))
    out = ff_harness.output(windows.process(Sum()))
    src.add(("a", 1))
    src.add(("a", 2))
    src.watermark(1_000_000)  # event time does not matter
    assert out.take() == []
    ff_harness.set_processing_time(99)
    assert out.take() == [("a", 0, 3)]


# --------------------------------------------------------------------------------------------
# errors from user functions


def test_error_in_a_function_comes_out_of_add_with_the_operator_note(ff_harness):
    def check(value):
        if value < 0:
            raise Boom(f"negative: {value}")
        return value

    src = ff_harness.source()
    out = ff_harness.output(src.stream.map(check).name("checker"))
    src.add(1)
    with pytest.raises(Boom, match="negative: -5") as info:
        src.add(-5)
    assert "checker" in notes(info.value)
    assert "record #2" in notes(info.value)
    assert out.values == [1]


def test_error_in_add_all(ff_harness):
    src = ff_harness.source()
    ff_harness.output(src.stream.map(lambda v: 10 // v).name("divide"))
    with pytest.raises(ZeroDivisionError) as info:
        src.add_all([5, 2, 0, 1])
    assert "divide" in notes(info.value)


@pytest.mark.parametrize("step", ["watermark", "processing time", "end"])
def test_error_in_on_timer_comes_out_of_the_step_that_fired_it(ff_harness, step):
    class Exploding(KeyedProcessFunction):
        def process_element(self, value, ctx):
            ctx.timer_service().register_processing_time_timer(10)
            ctx.timer_service().register_event_time_timer(10)
            return []

        def on_timer(self, timestamp, ctx):
            raise Boom(f"timer at {timestamp} ({ctx.time_domain().name})")

    src = ff_harness.source()
    ff_harness.output(src.stream.key_by(lambda v: v).process(Exploding()).name("alarms"))
    src.add("a")
    with pytest.raises(Boom) as info:
        if step == "watermark":
            src.watermark(10)
        elif step == "processing time":
            ff_harness.set_processing_time(10)
        else:
            src.end()
    expected = "PROCESSING_TIME" if step == "processing time" else "EVENT_TIME"
    assert str(info.value) == f"timer at 10 ({expected})"
    assert "alarms" in notes(info.value)


def test_error_in_a_window_function_comes_out_of_end(ff_harness):
    class Exploding(ProcessWindowFunction):
        def process(self, key, context, elements):
            raise Boom(f"window {context.window().start}")

    src = ff_harness.source()
    windows = src.stream.key_by(lambda v: v).window(TumblingEventTimeWindows.of(10))
    ff_harness.output(windows.process(Exploding()).name("exploding window"))
    src.add("a", timestamp=12)
    with pytest.raises(Boom, match="window 10") as info:
        src.end()
    assert "exploding window" in notes(info.value)


def test_close_runs_after_a_failure(ff_env):
    events: list[Any] = []

    class Failing(Lifecycle):
        def map(self, value):
            raise Boom("no")

    with TestHarness(ff_env) as h:
        src = h.source()
        h.output(src.stream.map(Failing(events)))
        with pytest.raises(Boom):
            src.add(1)
        assert events == [("open", 0), "close"]
    assert events == [("open", 0), "close"]  # not twice


@pytest.mark.parametrize("how", ["failure", "end", "close"])
def test_feeding_a_harness_that_has_stopped_raises(ff_env, how):
    """Records fed after the pipeline failed, after the input ended or after close() cannot be
    processed; the harness must say so instead of dropping them silently (DESIGN.md §10)."""
    h = TestHarness(ff_env)
    src = h.source()
    out = h.output(src.stream.map(lambda v: 10 // v))
    src.add(5)
    if how == "failure":
        with pytest.raises(ZeroDivisionError):
            src.add(0)
    elif how == "end":
        src.end()
    else:
        h.close()
    with pytest.raises(RuntimeError):
        src.add(1)
    h.close()
    assert out.values == [2]


# --------------------------------------------------------------------------------------------
# life cycle


def test_open_runs_at_the_first_feed_and_close_at_close(ff_env):
    events: list[Any] = []
    h = TestHarness(ff_env)
    src = h.source()
    out = h.output(src.stream.map(Lifecycle(events)))
    assert events == []
    src.add(1)
    assert events == [("open", 0)]
    src.add(2)
    assert out.values == [2, 4]
    assert events == [("open", 0)]
    h.close()
    assert events == [("open", 0), "close"]
    h.close()  # a second close does nothing
    assert events == [("open", 0), "close"]


def test_the_end_of_every_input_closes_the_functions(ff_env):
    events: list[Any] = []
    with TestHarness(ff_env) as h:
        src = h.source()
        h.output(src.stream.map(Lifecycle(events)))
        src.add(1)
        src.end()
        assert events == [("open", 0), "close"]
    assert events == [("open", 0), "close"]


def test_context_manager_closes(ff_env):
    events: list[Any] = []
    with TestHarness(ff_env) as h:
        src = h.source()
        h.output(src.stream.map(Lifecycle(events)))
        src.add(1)
    assert events == [("open", 0), "close"]


def test_close_before_start_does_nothing(ff_env):
    events: list[Any] = []
    h = TestHarness(ff_env)
    h.output(h.source().stream.map(Lifecycle(events)))
    h.close()
    assert events == []


def test_start_opens_the_functions_before_any_feed(ff_env):
    events: list[Any] = []
    with TestHarness(ff_env) as h:
        src = h.source()
        out = h.output(src.stream.map(Lifecycle(events)))
        assert h.start() is h
        assert events == [("open", 0)]
        assert out.values == []
        src.add(21)  # feeding after start
        assert out.values == [42]
        assert events == [("open", 0)]


def test_sources_and_outputs_are_declared_before_the_start(ff_harness):
    src = ff_harness.source()
    ff_harness.output(src.stream)
    src.add(1)
    with pytest.raises(RuntimeError, match="source\\(\\) must be called before the first record"):
        ff_harness.source()
    with pytest.raises(RuntimeError, match="output\\(\\) must be called before the first record"):
        ff_harness.output(src.stream)


def test_sources_and_outputs_cannot_be_added_after_start(ff_harness):
    ff_harness.output(ff_harness.source().stream)
    ff_harness.start()
    with pytest.raises(RuntimeError, match="source\\(\\)"):
        ff_harness.source()


def test_a_time_step_also_starts_the_pipeline(ff_env):
    events: list[Any] = []
    with TestHarness(ff_env) as h:
        h.output(h.source().stream.map(Lifecycle(events)))
        h.set_processing_time(10)
        assert events == [("open", 0)]
        with pytest.raises(RuntimeError):
            h.source()


def test_harness_at_parallelism_2(env, parallelism):
    events: list[Any] = []
    with TestHarness(env) as h:
        src = h.source()
        doubled = src.stream.map(Lifecycle(events)).map(lambda v: (v % 3, v))
        out = h.output(doubled.key_by(lambda t: t[0]).reduce(lambda a, b: (a[0], a[1] + b[1])))
        src.add_all(range(6))
        assert sorted(e for e in events if e != "close") == [("open", i) for i in range(parallelism)]
        # 0, 2, 4, 6, 8, 10 by v % 3: {0, 6}, {4, 10}, {2, 8}; a rolling sum per key, whose
        # order within a key may vary at parallelism 2 (the records pass two map subtasks)
        results = out.values
        assert len(results) == 6
        assert {k: max(v for kk, v in results if kk == k) for k, _ in results} == {0: 6, 1: 14, 2: 10}
    assert events.count("close") == parallelism


# --------------------------------------------------------------------------------------------
# argument errors


def test_harness_takes_an_environment():
    with pytest.raises(TypeError, match="TestHarness takes a StreamExecutionEnvironment, got int"):
        TestHarness(5)


def test_harness_without_an_environment_makes_one():
    h = TestHarness()
    assert isinstance(h.env, StreamExecutionEnvironment)
    src = h.source()
    out = h.output(src.stream.map(lambda v: v + 1))
    src.add(1)
    h.close()
    assert out.values == [2]


def test_output_takes_a_data_stream(ff_harness):
    with pytest.raises(TypeError, match="output\\(\\) takes a DataStream"):
        ff_harness.output([1, 2])


def test_add_all_timestamps_must_match_the_values(ff_harness):
    src = ff_harness.source()
    ff_harness.output(src.stream)
    with pytest.raises(ValueError, match="add_all\\(\\) got 2 values but 1 timestamps"):
        src.add_all([1, 2], timestamps=[1])


@pytest.mark.parametrize("bad", [1.5, True, None], ids=["float", "bool", "None"])
def test_watermark_takes_an_int(ff_harness, bad):
    src = ff_harness.source()
    ff_harness.output(src.stream)
    with pytest.raises(TypeError, match="watermark\\(\\) takes an int"):
        src.watermark(bad)


# --------------------------------------------------------------------------------------------
# pytest fixtures


def test_ff_env_is_a_fresh_environment_at_parallelism_1(ff_env):
    assert isinstance(ff_env, StreamExecutionEnvironment)
    assert ff_env.get_parallelism() == 1
    assert ff_env.from_collection([1, 2]).map(lambda v: v * 5).execute_and_collect(limit=10) == [5, 10]


def test_ff_harness_uses_ff_env(ff_harness, ff_env):
    assert isinstance(ff_harness, TestHarness)
    assert ff_harness.env is ff_env
    assert ff_harness.processing_time == 0


def test_fixtures_are_loaded_by_the_entry_point_and_ff_harness_closes(pytester):
    """In a separate pytest session, with no conftest: the plugin comes from the ``pytest11``
    entry point; each test gets its own environment; ff_harness closes its pipeline after the
    test (close() of the functions runs then, not before)."""
    pytester.makepyfile(
        test_inner=textwrap.dedent(
            """
            from ferroflow.datastream import MapFunction, StreamExecutionEnvironment

            EVENTS = []
            ENVS = []


            class Tracked(MapFunction):
                def map(self, value):
                    return value + 1

                def close(self):
                    EVENTS.append("close")


            def test_first(ff_harness, ff_env):
                ENVS.append(ff_env)
                src = ff_harness.source()
                out = ff_harness.output(src.stream.map(Tracked()))
                src.add(1)
                assert out.values == [2]
                assert EVENTS == []


            def test_second(ff_env):
                assert EVENTS == ["close"]
                assert isinstance(ff_env, StreamExecutionEnvironment)
                assert ff_env is not ENVS[0]
            """
        )
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
    result.assert_outcomes(passed=2)


def test_a_failing_close_still_closes_the_other_functions():
    class FailsOnClose(MapFunction):
        def map(self, value):
            return value

        def close(self):
            raise ValueError("close failed")

    class LogsClose(MapFunction):
        def __init__(self, log):
            self.log = log

        def map(self, value):
            return value

        def close(self):
            self.log.append("closed")

    log: list[str] = []
    h = TestHarness()
    first, second = h.source(), h.source()
    h.output(first.stream.map(FailsOnClose()))
    h.output(second.stream.map(LogsClose(log)))
    second.add(1)
    with pytest.raises(ValueError, match="close failed"):
        first.end()
    assert log == ["closed"]
    h.close()
    assert log == ["closed"]
