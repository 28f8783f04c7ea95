"""Metrics that user functions define through ``runtime_context.get_metrics_group()``, as in
PyFlink: counters, gauges, meters and distributions, in groups, read while the job runs."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from ferroflow.datastream import MapFunction, StreamExecutionEnvironment
from ferroflow.metrics import Counter, MetricGroup


def user_metrics(client, task_prefix: str = "") -> list[dict[str, Any]]:
    return [r["user"] for r in client.metrics() if r["task"].startswith(task_prefix)]


class Measured(MapFunction):
    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate

    def open(self, runtime_context) -> None:
        group = runtime_context.get_metrics_group()
        self.seen = group.add_group("parse").counter("seen")
        self.bad = group.add_group("parse").counter("bad")
        self.sizes = group.distribution("sizes")
        self.events = group.meter("events", time_span_in_seconds=5)
        self.last = 0
        group.gauge("last", lambda: self.last)

    def map(self, value: int) -> int:
        self.seen.inc()
        if value % 10 == 0:
            self.bad.inc(2)
            self.bad.dec()
        self.sizes.update(value)
        self.events.mark_event()
        self.last = value
        if value == 50 and self.gate is not None:
            self.gate.wait(60)
        return value


def test_user_metrics_are_read_while_the_job_runs_and_at_its_end() -> None:
    gate = threading.Event()
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    env.from_collection(list(range(1, 101))).map(Measured(gate)).name("Parse").add_sink(lambda x: None)
    client = env.execute_async("user metrics")
    try:
        deadline = time.monotonic() + 60
        while not any(m.get("Parse.parse.seen") == 50 for m in user_metrics(client)):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        (running,) = user_metrics(client)
        assert running["Parse.last"] == 50
        assert running["Parse.parse.bad"] == 5
    finally:
        gate.set()
    client.get_job_execution_result().result()
    (done,) = user_metrics(client)
    assert done["Parse.parse.seen"] == 100
    assert done["Parse.parse.bad"] == 10
    assert done["Parse.last"] == 100
    assert (done["Parse.sizes.count"], done["Parse.sizes.sum"]) == (100, 5050)
    assert (done["Parse.sizes.min"], done["Parse.sizes.max"], done["Parse.sizes.mean"]) == (1, 100, 50.5)
    assert done["Parse.events.count"] == 100 and done["Parse.events"] > 0


def test_each_subtask_has_its_own_metrics() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_collection(list(range(1, 101))).rebalance().map(Measured()).name("Parse").set_parallelism(2).add_sink(
        lambda x: None
    )
    client = env.execute_async()
    client.get_job_execution_result().result()
    seen = [m["Parse.parse.seen"] for m in user_metrics(client, "Parse")]
    assert len(seen) == 2 and sum(seen) == 100 and all(s > 0 for s in seen)


class Clash(MapFunction):
    def open(self, runtime_context) -> None:
        group = runtime_context.get_metrics_group()
        first = group.counter("n")
        again = group.counter("n")
        first.inc()
        assert again.get_count() == 1  # the same counter
        assert isinstance(group, MetricGroup) and isinstance(first, Counter)
        group.meter("n")

    def map(self, value: int) -> int:
        return value


class BadName(MapFunction):
    def open(self, runtime_context) -> None:
        runtime_context.get_metrics_group().counter("a.b")

    def map(self, value: int) -> int:
        return value


class NotCallable(MapFunction):
    def open(self, runtime_context) -> None:
        runtime_context.get_metrics_group().gauge("g", 5)

    def map(self, value: int) -> int:
        return value


@pytest.mark.parametrize(
    ("function", "error", "message"),
    [
        (Clash(), ValueError, "already registered in this subtask as a counter"),
        (BadName(), ValueError, "without dots"),
        (NotCallable(), TypeError, "must be a callable"),
    ],
)
def test_misused_metric_groups_fail_with_a_clear_error(function: MapFunction, error: type, message: str) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_collection([1]).map(function).add_sink(lambda x: None)
    with pytest.raises(Exception, match=message) as info:
        env.execute()
    cause = info.value
    while cause is not None and not isinstance(cause, error):
        cause = cause.__cause__
    assert isinstance(cause, error)


def test_a_failing_gauge_reads_as_none() -> None:
    class Broken(MapFunction):
        def open(self, runtime_context) -> None:
            runtime_context.get_metrics_group().gauge("broken", lambda: 1 / 0)

        def map(self, value: int) -> int:
            return value

    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_collection([1, 2]).map(Broken()).name("B").add_sink(lambda x: None)
    client = env.execute_async()
    client.get_job_execution_result().result()
    (metrics,) = user_metrics(client)
    assert metrics == {"B.broken": None}


def test_metrics_without_a_value_yet_show_in_the_jobs_view() -> None:
    class Unused(MapFunction):
        def open(self, runtime_context) -> None:
            group = runtime_context.get_metrics_group()
            self.sizes = group.distribution("sizes")  # never updated: no values
            group.gauge("broken", lambda: 1 / 0)

        def map(self, value: int) -> int:
            return value

    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_collection([1, 2]).map(Unused()).name("U").add_sink(lambda x: None)
    client = env.execute_async()
    client.get_job_execution_result().result()
    (metrics,) = user_metrics(client)
    assert metrics["U.sizes.count"] is None and metrics["U.broken"] is None
    # The view of the job shows the task without those values, and does not fail on them.
    html = client._repr_html_()
    assert "U" in html and "FINISHED" in html
