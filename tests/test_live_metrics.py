"""A running job's metrics can be read while it runs (``JobClient.metrics()``), with Flink's
names, and add up to what the job did."""

from __future__ import annotations

import threading
import time
from typing import Any

from ferroflow.common import Configuration, Duration, WatermarkStrategy
from ferroflow.common.watermark_strategy import TimestampAssigner
from ferroflow.datastream import StreamExecutionEnvironment


def _rows(client, task_prefix: str) -> list[dict[str, Any]]:
    return [row for row in client.metrics() if row["task"].startswith(task_prefix)]


def _wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


class Stamp(TimestampAssigner):
    def extract_timestamp(self, value: int, record_timestamp: int) -> int:
        return value


def test_counts_are_readable_while_the_job_runs_and_add_up_at_the_end() -> None:
    gate = threading.Event()
    seen: list[int] = []

    def sink(value: int) -> None:
        if value == 600:
            gate.wait(60)
        seen.append(value)

    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(0)).with_timestamp_assigner(Stamp())
    (
        env.from_collection(list(range(1000)))
        .assign_timestamps_and_watermarks(strategy)
        .map(lambda x: x)
        .add_sink(sink)
        .disable_chaining()
    )
    client = env.execute_async("metrics")
    try:
        # The sink is held at record 600: what it took in so far is visible now.
        _wait_for(lambda: any(r["numRecordsIn"] >= 600 for r in _rows(client, "Sink")))
        (running_sink,) = _rows(client, "Sink")
        assert 600 <= running_sink["numRecordsIn"] <= 1000
        assert len(seen) == 600
    finally:
        gate.set()
    client.get_job_execution_result().result()
    rows = client.metrics()
    (source,) = [r for r in rows if r["task"].startswith("Source")]
    (sink_row,) = [r for r in rows if r["task"].startswith("Sink")]
    assert source["numRecordsIn"] == 1000 and source["numRecordsOut"] == 1000
    assert sink_row["numRecordsIn"] == 1000 and sink_row["numRecordsOut"] == 0
    assert source["numBytesOut"] > 0 and source["numBatchesOut"] >= 1
    # The source's watermark reached the end of input; the sink's input saw it too.
    assert source["currentInputWatermark"] is None
    assert source["currentOutputWatermark"] == 2**63 - 1
    assert sink_row["currentInputWatermark"] == 2**63 - 1
    assert sink_row["busyTimeMs"] > 0
    assert (source["subtask"], source["parallelism"]) == (0, 1)


def test_back_pressure_shows_behind_a_slow_sink() -> None:
    conf = Configuration()
    # Batches of 10 records: far more than a channel holds (8 batches).
    conf.set_string("python.fn-execution.bundle.size", "10")
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(1)
    env.from_collection(list(range(3000))).map(lambda x: x).add_sink(lambda x: time.sleep(0.0005)).disable_chaining()
    client = env.execute_async("slow sink")
    client.get_job_execution_result().result()
    (source,) = [r for r in client.metrics() if r["task"].startswith("Source")]
    (sink,) = [r for r in client.metrics() if r["task"].startswith("Sink")]
    # The sink is far slower than the source, whose sends waited on a full channel.
    assert source["backPressuredTimeMs"] > 0
    assert sink["backPressuredTimeMs"] == 0


def test_a_row_has_flinks_metric_names() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_collection([1, 2, 3]).map(lambda x: x + 1).add_sink(lambda x: None)
    client = env.execute_async()
    client.get_job_execution_result().result()
    rows = client.metrics()
    assert [r["numRecordsIn"] for r in rows] == [3]
    assert set(rows[0]) == {
        "task",
        "subtask",
        "parallelism",
        "numRecordsIn",
        "numRecordsOut",
        "numBytesOut",
        "numBatchesOut",
        "backPressuredTimeMs",
        "busyTimeMs",
        "idleTimeMs",
        "numRecordsInPerSecond",
        "numRecordsOutPerSecond",
        "busyTimeMsPerSecond",
        "idleTimeMsPerSecond",
        "backPressuredTimeMsPerSecond",
        "currentInputWatermark",
        "currentOutputWatermark",
        "watermarkLagMs",
        "inPoolUsage",
        "outPoolUsage",
        "latencyP50Ms",
        "latencyP95Ms",
        "latencyP99Ms",
        "sourceRecordsTotal",
        "numLateRecordsDropped",
        "operators",
        "user",
    }
