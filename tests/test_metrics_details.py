"""What ``JobClient.metrics()`` and the engine's metrics history tell beyond the totals: rates,
idle time, each chained operator's counts, late records, watermark lag, latency, source sizes,
channel fill, and the switch that turns metrics off. Asserted by value on small jobs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ferroflow.common import Configuration, Duration, WatermarkStrategy
from ferroflow.common.watermark_strategy import TimestampAssigner
from ferroflow.datastream import KeyedProcessFunction, StreamExecutionEnvironment
from ferroflow.datastream.connectors import NumberSequenceSource
from ferroflow.datastream.window import TumblingEventTimeWindows


def env_with(**keys: str) -> StreamExecutionEnvironment:
    conf = Configuration()
    for key, value in keys.items():
        conf.set_string(key.replace("_", "."), value)
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(1)
    return env


def fast_history() -> StreamExecutionEnvironment:
    conf = Configuration()
    conf.set_string("ferroflow.metrics.history-interval", "50 ms")
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(1)
    return env


def row_of(rows: list[dict[str, Any]], task_prefix: str) -> dict[str, Any]:
    (row,) = [r for r in rows if r["task"].startswith(task_prefix)]
    return row


def current(client, task_prefix: str, key: str) -> Any:
    """A metric of the task, or None before the job's tasks started."""
    rows = [r for r in client.metrics() if r["task"].startswith(task_prefix)]
    return rows[0][key] if rows else None


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


def test_rates_over_the_history_add_up_to_the_totals() -> None:
    env = fast_history()
    env.from_collection(list(range(2000))).map(lambda x: x).add_sink(lambda x: time.sleep(0.0003)).disable_chaining()
    client = env.execute_async("rates")
    client.get_job_execution_result().result()
    history = [r for r in client._engine_client.metrics_history() if r["task"].startswith("Sink")]
    assert len(history) >= 4
    times = [r["time"] for r in history]
    assert times == sorted(times)
    assert abs(times[0] - time.time()) < 120
    # Each sample's rate is what came in since the sample before, per second.
    counted = sum(
        later["numRecordsInPerSecond"] * (later["time"] - earlier["time"]) for earlier, later in zip(history, history[1:])
    )
    assert history[-1]["numRecordsIn"] == 2000
    assert counted == pytest.approx(2000 - history[0]["numRecordsIn"], rel=0.05)
    assert max(r["numRecordsInPerSecond"] for r in history) > 0
    assert all(0 <= r["busyTimeMsPerSecond"] <= 1000 for r in history)
    # The sink was busy most of the time it ran.
    assert max(r["busyTimeMsPerSecond"] for r in history) > 200


def test_a_task_waiting_for_input_is_idle() -> None:
    def slowly() -> Iterator[int]:
        for i in range(5):
            time.sleep(0.15)
            yield i

    env = fast_history()
    env.from_iterable(slowly()).add_sink(lambda x: None).disable_chaining()
    started = time.monotonic()
    client = env.execute_async("idle")
    client.get_job_execution_result().result()
    elapsed_ms = (time.monotonic() - started) * 1000
    sink = row_of(client.metrics(), "Sink")
    # The sink waited for the generator about 0.75 s in all, and did almost nothing.
    assert 400 < sink["idleTimeMs"] <= elapsed_ms
    assert sink["busyTimeMs"] < sink["idleTimeMs"]
    assert sink["sourceRecordsTotal"] is None
    source = row_of(client.metrics(), "Source")
    assert source["sourceRecordsTotal"] is None  # an iterator does not know its length


class Twice(KeyedProcessFunction):
    def process_element(self, value, ctx):
        yield value
        yield value + 1000


def test_each_operator_of_a_chain_is_counted() -> None:
    env = env_with()
    (
        env.from_collection(list(range(100)))
        .key_by(lambda x: x % 3)
        .process(Twice())
        .filter(lambda x: x % 2 == 0)
        .map(lambda x: x)
        .add_sink(lambda x: None)
    )
    client = env.execute_async("chain")
    client.get_job_execution_result().result()
    (task,) = client.metrics()  # at parallelism 1, everything is one chain
    operators = task["operators"]
    assert [o["operator"] for o in operators] == ["KeyBy", "KeyedProcess", "Filter -> Map -> Sink: Python Sink"]
    counts = [(o["numRecordsIn"], o["numRecordsOut"]) for o in operators]
    # The filter, map and sink run as one loop: 200 in, nothing out of the sink.
    assert counts == [(100, 100), (100, 200), (200, 0)]
    assert task["sourceRecordsTotal"] == 100


class At(TimestampAssigner):
    def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
        return value[1]


def test_late_records_are_counted_and_the_watermark_lag_is_shown() -> None:
    env = env_with()
    now_ms = int(time.time() * 1000)
    base = now_ms - 60_000  # a minute behind the wall clock
    data = [("k", base), ("k", base + 500), ("k", base + 50), ("k", base + 30), ("k", base + 900)]
    strategy = (
        WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(At()).with_per_record_emission()
    )
    gate = threading.Event()

    def records() -> Iterator[tuple[str, int]]:
        yield from data
        gate.wait(60)  # the input goes on: no final watermark yet

    (
        env.from_iterable(records())
        .assign_timestamps_and_watermarks(strategy)
        .key_by(lambda v: v[0])
        .window(TumblingEventTimeWindows.of(Duration.of_millis(100)))
        .reduce(lambda a, b: a)
        .add_sink(lambda x: None)
        .disable_chaining()
    )
    client = env.execute_async("late")
    try:
        # Two records came after the watermark passed their window's end.
        wait_for(lambda: current(client, "Source", "numLateRecordsDropped") == 2)
        source = row_of(client.metrics(), "Source")
        # The window's output watermark is about a minute behind the wall clock.
        assert source["currentOutputWatermark"] == base + 899
        assert 59_000 < source["watermarkLagMs"] < 600_000
    finally:
        gate.set()
    client.get_job_execution_result().result()
    assert row_of(client.metrics(), "Source")["numLateRecordsDropped"] == 2
    assert row_of(client.metrics(), "Sink")["numLateRecordsDropped"] == 0


def test_latency_is_measured_from_the_source_to_each_task() -> None:
    env = fast_history()
    env.from_collection(list(range(300))).map(lambda x: x).disable_chaining().add_sink(lambda x: time.sleep(0.002))
    client = env.execute_async("latency")
    client.get_job_execution_result().result()
    rows = client.metrics()
    sink = row_of(rows, "Sink")
    p50, p95, p99 = sink["latencyP50Ms"], sink["latencyP95Ms"], sink["latencyP99Ms"]
    # Each record waited at least for the 2 ms its own sink call took.
    assert 1.5 < p50 <= p95 <= p99 < 60_000
    history = [r for r in client._engine_client.metrics_history() if r["task"].startswith("Sink")]
    assert any(r["latencyP99Ms"] is not None for r in history)


def test_the_fill_of_output_channels_shows_behind_a_slow_sink() -> None:
    conf = Configuration()
    conf.set_string("python.fn-execution.bundle.size", "10")
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(1)
    release = threading.Event()
    env.from_collection(list(range(5000))).add_sink(lambda x: release.wait(60)).disable_chaining()
    client = env.execute_async("fill")
    try:
        # The sink holds: the source's channel fills up.
        wait_for(lambda: (current(client, "Source", "outPoolUsage") or 0) >= 0.75)
        assert row_of(client.metrics(), "Sink")["outPoolUsage"] == 0
        # The source waits on its full channel, and its back pressure shows while it waits;
        # the sink's long call shows as busy while it lasts.
        wait_for(lambda: current(client, "Source", "backPressuredTimeMs") > 300)
        wait_for(lambda: current(client, "Sink", "busyTimeMs") > 300)
        assert row_of(client.metrics(), "Sink")["backPressuredTimeMs"] == 0
    finally:
        release.set()
    client.get_job_execution_result().result()


def test_the_fill_of_input_channels_shows_in_a_slow_task() -> None:
    conf = Configuration()
    conf.set_string("python.fn-execution.bundle.size", "10")
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(1)
    env.from_collection(list(range(3000))).add_sink(lambda x: time.sleep(0.001)).disable_chaining()
    client = env.execute_async("input fill")
    # The sink takes 10 ms a batch: its input channel stays full behind it.
    wait_for(lambda: (current(client, "Sink", "inPoolUsage") or 0) >= 0.75)
    assert row_of(client.metrics(), "Source")["inPoolUsage"] == 0
    client.cancel()
    with pytest.raises(RuntimeError, match="cancelled"):
        client.get_job_execution_result().result()


def test_sequences_know_their_size_per_subtask() -> None:
    env = env_with()
    env.from_source(NumberSequenceSource(1, 101), WatermarkStrategy.no_watermarks(), "seq").set_parallelism(2).add_sink(
        lambda x: None
    )
    client = env.execute_async("sizes")
    client.get_job_execution_result().result()
    totals = sorted(r["sourceRecordsTotal"] for r in client.metrics() if r["task"] == "seq")
    assert totals == [50, 51]


def test_metrics_can_be_turned_off() -> None:
    env = env_with(ferroflow_metrics_enabled="false")
    env.from_collection(list(range(100))).map(lambda x: x).add_sink(lambda x: None).disable_chaining()
    client = env.execute_async("off")
    result = client.get_job_execution_result().result()
    # Nothing is kept while the job runs; the job's result still counts.
    assert all(r["numRecordsIn"] == 0 for r in client.metrics())
    assert client._engine_client.metrics_history() == []
    assert result.get_net_runtime() >= 0


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("ferroflow.metrics.enabled", "maybe", "must be true or false"),
        ("ferroflow.metrics.history-interval", "1 ms", "at least 10 ms"),
        ("ferroflow.metrics.history-interval", "soon", "history-interval"),
    ],
)
def test_bad_metrics_settings_are_refused_naming_the_key(key: str, value: str, message: str) -> None:
    conf = Configuration()
    conf.set_string(key, value)
    with pytest.raises(ValueError, match=message):
        StreamExecutionEnvironment.get_execution_environment(conf)


def test_a_failed_jobs_metrics_are_in_its_errors_job_result() -> None:
    def fail_at_50(x: int) -> int:
        if x == 50:
            raise ValueError("bad record 50")
        return x

    env = fast_history()
    env.from_collection(list(range(100))).map(fail_at_50).disable_chaining().add_sink(lambda x: None)
    with pytest.raises(ValueError, match="bad record 50") as info:
        env.execute("failing")
    result = info.value.job_result
    (source,) = [r for r in result.get_metrics() if r["task"].startswith("Source")]
    assert source["numRecordsOut"] == 100
    assert result.get_metrics_history() and result.get_net_runtime() >= 0
    # The same through a JobClient.
    env.from_collection(list(range(100))).map(fail_at_50).add_sink(lambda x: None)
    client = env.execute_async("failing")
    with pytest.raises(ValueError, match="bad record 50") as info:
        client.get_job_execution_result().result()
    (task,) = info.value.job_result.get_metrics()
    assert task["numRecordsIn"] == 100


def test_a_finished_jobs_result_holds_its_metrics() -> None:
    env = fast_history()
    env.from_collection(list(range(10))).add_sink(lambda x: None)
    result = env.execute("done")
    (task,) = result.get_metrics()
    assert task["numRecordsIn"] == 10
    assert result.get_metrics_history()[-1]["numRecordsIn"] == 10
    frame = result.metrics_history()
    assert frame["numRecordsIn"].iloc[-1] == 10 and str(frame["time"].dtype).startswith("datetime64")
