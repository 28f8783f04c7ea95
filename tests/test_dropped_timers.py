"""A bounded input ends without firing processing-time windows and timers (Flink's STREAMING
mode), but never silently: the job warns once per operator that still had some pending, with a
``ferroflow.DroppedTimersWarning`` naming the operator and the counts."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from ferroflow import DroppedTimersWarning
from ferroflow.common import Duration, WatermarkStrategy
from ferroflow.common.time import Time
from ferroflow.common.watermark_strategy import TimestampAssigner
from ferroflow.datastream import KeyedProcessFunction, StreamExecutionEnvironment
from ferroflow.datastream.window import TumblingEventTimeWindows, TumblingProcessingTimeWindows

# Windows this long (ten years) do not end while a test runs, whatever the clock says.
LONG = Time.days(3650)
HOUR_MS = 3_600_000


def dropped_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, DroppedTimersWarning)]


def test_processing_time_windows_pending_at_the_end_are_reported(env: StreamExecutionEnvironment):
    pairs = [(k, v) for v in range(5) for k in "abc"]
    stream = (
        env.from_collection(pairs)
        .key_by(lambda t: t[0])
        .window(TumblingProcessingTimeWindows.of(LONG))
        .reduce(lambda a, b: (a[0], a[1] + b[1]))
        .name("sums")
    )
    with pytest.warns(DroppedTimersWarning) as caught:
        assert list(stream.execute_and_collect()) == []
    [message] = dropped_warnings(caught.list)
    assert message.startswith("operator 'sums' still had 3 processing-time windows pending when its bounded input ended")
    assert "event time" in message
    assert caught.list[0].filename == __file__, "the warning points at the user's code"


class LaterTimers(KeyedProcessFunction):
    """Registers a processing-time timer an hour ahead per record (twice the same per key)."""

    def process_element(self, value: Any, ctx: Any) -> Iterator[Any]:
        service = ctx.timer_service()
        service.register_processing_time_timer(self.base + HOUR_MS)
        yield value

    def open(self, runtime_context: Any) -> None:
        import time

        self.base = int(time.time() * 1000) // HOUR_MS * HOUR_MS

    def on_timer(self, timestamp: int, ctx: Any) -> Iterator[Any]:
        yield ("fired", timestamp)


@pytest.mark.parametrize("parallelism", [1, 2])
def test_process_function_timers_pending_at_the_end_are_reported_once_per_operator(parallelism: int):
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    pairs = [(k, v) for v in range(2) for k in "abcd"]
    env.from_collection(pairs).key_by(lambda t: t[0]).process(LaterTimers()).name("later").print()
    with pytest.warns(DroppedTimersWarning) as caught:
        result = env.execute()
    [message] = dropped_warnings(caught.list)
    assert message.startswith("operator 'later' still had 4 processing-time timers pending"), message
    # The same counts reach the job's result, per task.
    dropped = [m["dropped_at_end"] for m in result.get_task_metrics() if m["dropped_at_end"]]
    assert sum(d["later"]["timers"] for d in dropped) == 4
    assert all(d["later"]["windows"] == 0 for d in dropped)


class Stamp(TimestampAssigner):
    def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
        return value[1] * 1000


class EventTimers(KeyedProcessFunction):
    def process_element(self, value: Any, ctx: Any) -> Iterator[Any]:
        ctx.timer_service().register_event_time_timer(ctx.timestamp() + 5000)
        yield value

    def on_timer(self, timestamp: int, ctx: Any) -> Iterator[Any]:
        yield ("fired", ctx.get_current_key())


def test_no_warning_when_nothing_was_pending(env: StreamExecutionEnvironment):
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(0)).with_timestamp_assigner(Stamp())
    stamped = env.from_collection([(k, v) for v in range(5) for k in "ab"]).assign_timestamps_and_watermarks(strategy)
    windows = (
        stamped.key_by(lambda t: t[0]).window(TumblingEventTimeWindows.of(LONG)).reduce(lambda a, b: (a[0], a[1] + b[1]))
    )
    timers = stamped.key_by(lambda t: t[0]).process(EventTimers())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = list(windows.union(timers).execute_and_collect())
    assert dropped_warnings(caught) == []
    assert sorted(x for x in out if x[0] == "fired") == [("fired", "a")] * 5 + [("fired", "b")] * 5
    assert sorted(x for x in out if x[0] != "fired" and x[1] == 10) == [("a", 10), ("b", 10)]


def test_a_warning_filter_that_raises_makes_the_job_raise(env: StreamExecutionEnvironment):
    stream = env.from_collection([1, 2]).key_by(lambda v: v).window(TumblingProcessingTimeWindows.of(LONG)).reduce(max)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DroppedTimersWarning)
        with pytest.raises(DroppedTimersWarning, match="2 processing-time windows"):
            list(stream.execute_and_collect())


def test_count_and_global_windows_left_open_are_not_processing_time(env: StreamExecutionEnvironment):
    """A trailing partial count window (not emitted, as in PyFlink) and a global window whose
    trigger never fires have no processing time to wait for: no warning."""
    keyed = env.from_collection([("a", v) for v in range(5)]).key_by(lambda t: t[0])
    counts = keyed.count_window(3).reduce(lambda a, b: (a[0], a[1] + b[1]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert list(counts.execute_and_collect()) == [("a", 3)]
    assert dropped_warnings(caught) == []
