"""Basic DataStream operations: map / flat_map / filter, function classes and their lifecycle, the
runtime context, project, union, sources, sinks, execute / execute_and_collect."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from typing import Any

import pytest

from ferroflow.datastream import (
    FilterFunction,
    FlatMapFunction,
    MapFunction,
    RuntimeContext,
    SinkFunction,
    StreamExecutionEnvironment,
)
from ferroflow.datastream.connectors import NumberSequenceSource


def collect(ds) -> list[Any]:
    """Runs the job of ``ds`` to its end and returns its results."""
    with ds.execute_and_collect() as results:
        return list(results)


def numbers(env: StreamExecutionEnvironment, start: int, end: int, name: str = "numbers"):
    """A NumberSequenceSource stream (the watermark strategy is not used by this source)."""
    return env.from_source(NumberSequenceSource(start, end), None, name)


# --------------------------------------------------------------------------------------------
# map / flat_map / filter with callables


def test_map_with_lambda(env):
    ds = env.from_collection([1, 2, 3, 4, 5]).map(lambda x: x * 10)
    assert sorted(collect(ds)) == [10, 20, 30, 40, 50]


def test_map_with_named_function_and_objects(env):
    def describe(value):
        return {"name": value[0], "len": len(value[0]), "n": value[1]}

    ds = env.from_collection([("ab", 1), ("cde", 2)]).map(describe)
    assert sorted(collect(ds), key=lambda d: d["n"]) == [
        {"name": "ab", "len": 2, "n": 1},
        {"name": "cde", "len": 3, "n": 2},
    ]


def test_filter_with_lambda(env):
    ds = env.from_collection(list(range(20))).filter(lambda x: x % 3 == 0)
    assert sorted(collect(ds)) == [0, 3, 6, 9, 12, 15, 18]


def test_filter_uses_truthiness_of_the_result(env):
    ds = env.from_collection(["", "a", "", "bc"]).filter(lambda s: s)
    assert sorted(collect(ds)) == ["a", "bc"]


def test_flat_map_with_lambda_returning_list(env):
    ds = env.from_collection(["a b", "c", "", "d e f"]).flat_map(lambda line: line.split())
    assert sorted(collect(ds)) == ["a", "b", "c", "d", "e", "f"]


def test_flat_map_with_generator_function(env):
    def repeat(n):
        for i in range(n):
            yield (n, i)

    ds = env.from_collection([0, 1, 2, 3]).flat_map(repeat)
    assert sorted(collect(ds)) == [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]


def test_flat_map_with_generator_expression_and_tuple(env):
    ds = env.from_collection([1, 2]).flat_map(lambda x: (x * k for k in (1, 100)))
    ds2 = env.from_collection([5]).flat_map(lambda x: (x, -x))
    assert sorted(collect(ds)) == [1, 2, 100, 200]
    assert sorted(collect(ds2)) == [-5, 5]


def test_map_filter_flat_map_chain(env):
    ds = (
        env.from_collection(list(range(10)))
        .map(lambda x: x + 1)
        .filter(lambda x: x % 2 == 0)
        .flat_map(lambda x: [x, x])
        .map(lambda x: str(x))
    )
    assert sorted(collect(ds)) == sorted(["2", "4", "6", "8", "10"] * 2)


def test_builtin_types_and_methods_as_functions(env):
    # any callable is accepted, PyFlink checks only callable(func): classes such as str/int too
    ds = env.from_collection([" 1", "2 ", "", " 30 "]).map(str.strip).filter(bool).map(int).map(str)
    assert sorted(collect(ds)) == ["1", "2", "30"]


# --------------------------------------------------------------------------------------------
# map / flat_map / filter with Function classes


class AddOffset(MapFunction):
    def __init__(self, offset):
        self.offset = offset

    def map(self, value):
        return value + self.offset


class Split(FlatMapFunction):
    def flat_map(self, value):
        yield from value.split(",")


class LongerThan(FilterFunction):
    def __init__(self, n):
        self.n = n

    def filter(self, value):
        return len(value) > self.n


def test_function_classes(env):
    ds = env.from_collection(["a,bb,ccc", "dddd"]).flat_map(Split()).filter(LongerThan(1)).map(AddOffset("!"))
    assert sorted(collect(ds)) == ["bb!", "ccc!", "dddd!"]


def test_map_function_with_numbers(env):
    ds = env.from_collection([1, 2, 3]).map(AddOffset(100))
    assert sorted(collect(ds)) == [101, 102, 103]


def test_flat_map_function_returning_a_list(env):
    class Twice(FlatMapFunction):
        def flat_map(self, value):
            return [value, value]

    ds = env.from_collection([1, 2]).flat_map(Twice())
    assert sorted(collect(ds)) == [1, 1, 2, 2]


# --------------------------------------------------------------------------------------------
# open / close lifecycle


class LifecycleMap(MapFunction):
    """Logs open / map / close into a list shared by every (shallow) copy of the instance."""

    def __init__(self, log):
        self.log = log
        self.index = None

    def open(self, runtime_context):
        self.index = runtime_context.get_index_of_this_subtask()
        self.log.append(("open", self.index))

    def map(self, value):
        self.log.append(("map", self.index))
        return (self.index, value)

    def close(self):
        self.log.append(("close", self.index))


def _check_lifecycle(log, parallelism):
    assert sorted(i for e, i in log if e == "open") == list(range(parallelism))
    assert sorted(i for e, i in log if e == "close") == list(range(parallelism))
    for subtask in range(parallelism):
        events = [e for e, i in log if i == subtask]
        # open before the first record, close after the last
        assert events[0] == "open"
        assert events[-1] == "close"
        assert events.count("open") == 1 and events.count("close") == 1


def test_open_and_close_called_once_per_subtask(env, parallelism):
    log: list[Any] = []
    ds = env.from_collection(list(range(100))).map(LifecycleMap(log))
    results = collect(ds)
    assert sorted(v for _, v in results) == list(range(100))
    _check_lifecycle(log, parallelism)
    assert sum(1 for e, _ in log if e == "map") == 100
    # every record was seen by the subtask that reported it
    assert Counter(i for i, _ in results) == Counter(i for e, i in log if e == "map")


def test_open_and_close_with_empty_input(env, parallelism):
    log: list[Any] = []
    ds = env.from_collection([]).map(LifecycleMap(log))
    assert collect(ds) == []
    _check_lifecycle(log, parallelism)
    assert not [e for e, _ in log if e == "map"]


def test_open_and_close_for_every_function_class_in_a_chain(env, parallelism):
    opened: list[str] = []
    closed: list[str] = []

    class Tracking:
        def open(self, runtime_context):
            opened.append(type(self).__name__)

        def close(self):
            closed.append(type(self).__name__)

    class M(Tracking, MapFunction):
        def map(self, value):
            return value + 1

    class F(Tracking, FilterFunction):
        def filter(self, value):
            return value > 1

    class FM(Tracking, FlatMapFunction):
        def flat_map(self, value):
            yield value

    class S(Tracking, SinkFunction):
        def __init__(self, out):
            self.out = out

        def invoke(self, value, context):
            self.out.append(value)

    out: list[int] = []
    env.from_collection([0, 1, 2, 3]).map(M()).filter(F()).flat_map(FM()).add_sink(S(out))
    env.execute()
    assert sorted(out) == [2, 3, 4]
    assert Counter(opened) == Counter({"M": parallelism, "F": parallelism, "FM": parallelism, "S": parallelism})
    assert Counter(closed) == Counter(opened)


def test_instance_state_set_in_open_is_per_subtask(env, parallelism):
    class CountingMap(MapFunction):
        def __init__(self, totals):
            self.totals = totals
            self.count = 0

        def open(self, runtime_context):
            self.count = 0
            self.index = runtime_context.get_index_of_this_subtask()

        def map(self, value):
            self.count += 1
            return value

        def close(self):
            self.totals[self.index] = self.count

    totals: dict = {}
    ds = env.from_collection(list(range(500))).rebalance().map(CountingMap(totals))
    assert len(collect(ds)) == 500
    assert sorted(totals) == list(range(parallelism))
    # no subtask counted another subtask's records
    assert sum(totals.values()) == 500
    if parallelism > 1:
        assert all(c > 0 for c in totals.values())


# --------------------------------------------------------------------------------------------
# RuntimeContext


class ContextProbe(MapFunction):
    def __init__(self, seen):
        self.seen = seen

    def open(self, runtime_context):
        assert isinstance(runtime_context, RuntimeContext)
        self.seen.append(
            {
                "index": runtime_context.get_index_of_this_subtask(),
                "n": runtime_context.get_number_of_parallel_subtasks(),
                "max": runtime_context.get_max_number_of_parallel_subtasks(),
                "task": runtime_context.get_task_name(),
                "task_with_subtasks": runtime_context.get_task_name_with_subtasks(),
                "param": runtime_context.get_job_parameter("mode", "default-mode"),
                "missing": runtime_context.get_job_parameter("nope", "fallback"),
                "missing_none": runtime_context.get_job_parameter("nope"),
            }
        )

    def map(self, value):
        return value


def test_runtime_context_getters(env, parallelism):
    env.get_config().set_global_job_parameters({"mode": "test-mode"})
    seen: list[dict] = []
    ds = env.from_collection([1, 2, 3]).map(ContextProbe(seen)).name("probe")
    assert sorted(collect(ds)) == [1, 2, 3]
    assert sorted(s["index"] for s in seen) == list(range(parallelism))
    for s in seen:
        assert s["n"] == parallelism
        assert s["max"] == 128
        assert "probe" in s["task"]
        assert s["task_with_subtasks"].startswith(f"{s['task']} ({s['index'] + 1}/{parallelism})")
        assert s["param"] == "test-mode"
        assert s["missing"] == "fallback"
        assert s["missing_none"] is None


def test_runtime_context_max_parallelism_and_default_job_parameter(env, parallelism):
    env.set_max_parallelism(64)
    seen: list[dict] = []
    ds = env.from_collection([1]).map(ContextProbe(seen))
    collect(ds)
    assert len(seen) == parallelism
    assert {s["max"] for s in seen} == {64}
    assert {s["param"] for s in seen} == {"default-mode"}


def test_runtime_context_of_operator_with_own_parallelism(env):
    seen: list[dict] = []
    ds = env.from_collection(list(range(10))).map(ContextProbe(seen)).set_parallelism(3)
    assert sorted(collect(ds)) == list(range(10))
    assert sorted(s["index"] for s in seen) == [0, 1, 2]
    assert {s["n"] for s in seen} == {3}


# --------------------------------------------------------------------------------------------
# project


def test_project_several_fields(env):
    ds = env.from_collection([(1, "a", 1.5, True), (2, "b", 2.5, False)]).project(2, 0)
    assert sorted(collect(ds)) == [(1.5, 1), (2.5, 2)]


def test_project_single_field_gives_one_tuple(env):
    ds = env.from_collection([(1, "a"), (2, "b")]).project(1)
    assert sorted(collect(ds)) == [("a",), ("b",)]


def test_project_repeated_field(env):
    ds = env.from_collection([("x", 7)]).project(1, 1, 0)
    assert collect(ds) == [(7, 7, "x")]


# --------------------------------------------------------------------------------------------
# union


def test_union_of_two_streams(env):
    a = env.from_collection([1, 2, 3])
    b = env.from_collection([10, 20])
    assert sorted(collect(a.union(b))) == [1, 2, 3, 10, 20]


def test_union_of_three_streams_then_map(env):
    a = env.from_collection(["a1", "a2"])
    b = env.from_collection(["b1"]).map(str.upper)
    c = numbers(env, 1, 3).map(lambda x: f"c{x}")
    ds = a.union(b, c).map(lambda s: s + "!")
    assert sorted(collect(ds)) == ["B1!", "a1!", "a2!", "c1!", "c2!", "c3!"]


def test_union_with_itself_duplicates(env):
    a = env.from_collection([1, 2])
    assert sorted(collect(a.union(a))) == [1, 1, 2, 2]


def test_union_keeps_each_input_in_order_at_parallelism_1(env, parallelism):
    a = env.from_collection(list(range(1000)))
    b = env.from_collection(list(range(1000, 2000)))
    results = collect(a.union(b).map(lambda x: x).set_parallelism(1))
    assert sorted(results) == list(range(2000))
    assert [x for x in results if x < 1000] == list(range(1000))
    assert [x for x in results if x >= 1000] == list(range(1000, 2000))


# --------------------------------------------------------------------------------------------
# execute_and_collect


def test_execute_and_collect_is_an_iterator(env):
    it = env.from_collection([3, 1, 2]).map(lambda x: x * 2).execute_and_collect()
    assert iter(it) is it
    results = list(it)  # iterates with __next__ until StopIteration
    assert sorted(results) == [2, 4, 6]
    with pytest.raises(StopIteration):
        next(it)
    it.close()


def test_execute_and_collect_keeps_order_at_parallelism_1(env, parallelism):
    values = list(range(5000))
    results = collect(env.from_collection(values).map(lambda x: x))
    if parallelism == 1:
        assert results == values
    else:
        assert sorted(results) == values


def test_execute_and_collect_next_method(env):
    it = env.from_collection([7]).execute_and_collect()
    assert it.next() == 7
    with pytest.raises(StopIteration):
        it.next()
    it.close()


def test_execute_and_collect_with_limit_returns_list(env):
    results = env.from_collection(list(range(100))).map(lambda x: x + 1).execute_and_collect(limit=10)
    assert isinstance(results, list)
    assert len(results) == 10
    assert len(set(results)) == 10
    assert set(results) <= set(range(1, 101))


def test_execute_and_collect_limit_larger_than_output(env):
    results = env.from_collection([1, 2, 3]).execute_and_collect(limit=10)
    assert sorted(results) == [1, 2, 3]


def test_execute_and_collect_limit_zero(env):
    assert env.from_collection([1, 2, 3]).execute_and_collect(limit=0) == []


def test_execute_and_collect_limit_stops_an_endless_job(env):
    results = env.from_iterable(itertools.count()).map(lambda x: x * 2).execute_and_collect(limit=7)
    assert len(results) == 7
    assert all(v % 2 == 0 for v in results)
    assert len(set(results)) == 7


def test_execute_and_collect_as_context_manager_stops_the_job(env):
    produced = []

    def endless():
        for i in itertools.count():
            produced.append(i)
            yield i

    with env.from_iterable(endless()).map(lambda x: -x).execute_and_collect() as results:
        first = [next(results) for _ in range(3)]
    assert len(first) == 3 and all(v <= 0 for v in first)
    # the job stopped: the source does not go on producing after the block
    stopped_at = len(produced)
    threading.Event().wait(0.3)
    assert len(produced) == stopped_at


def test_execute_and_collect_close_early(env):
    it = env.from_collection(list(range(100_000))).map(lambda x: x).execute_and_collect()
    assert next(it) in range(100_000)
    it.close()
    it.close()  # closing twice is harmless


# --------------------------------------------------------------------------------------------
# sources


def test_from_iterable_generator(env, parallelism):
    def gen():
        for i in range(50):
            yield ("item", i)

    results = collect(env.from_iterable(gen()).map(lambda x: x[1]))
    if parallelism == 1:
        assert results == list(range(50))
    else:
        assert sorted(results) == list(range(50))


def test_from_iterable_of_a_range_and_an_empty_iterator(env):
    assert sorted(collect(env.from_iterable(range(5)))) == [0, 1, 2, 3, 4]
    assert collect(env.from_iterable(iter([]))) == []


def test_from_collection_keeps_arbitrary_objects(env):
    class Point:
        def __init__(self, x):
            self.x = x

    points = [Point(1), Point(2)]
    results = collect(env.from_collection(points))
    assert sorted(p.x for p in results) == [1, 2]
    # objects travel as they are (no copy at parallelism 1 of the collect)
    assert all(isinstance(p, Point) for p in results)


def test_number_sequence_source_is_inclusive(env):
    assert sorted(collect(numbers(env, 5, 15))) == list(range(5, 16))


def test_number_sequence_source_single_and_negative(env):
    assert collect(numbers(env, 7, 7)) == [7]
    assert sorted(collect(numbers(env, -3, 2))) == [-3, -2, -1, 0, 1, 2]


def test_number_sequence_source_is_split_over_subtasks(env, parallelism):
    seen: list[Any] = []

    class Tag(MapFunction):
        def open(self, runtime_context):
            self.index = runtime_context.get_index_of_this_subtask()

        def map(self, value):
            seen.append((self.index, value))
            return value

    results = collect(numbers(env, 1, 1000).map(Tag()))
    assert sorted(results) == list(range(1, 1001))
    by_subtask = {}
    for index, value in seen:
        by_subtask.setdefault(index, []).append(value)
    # each subtask gets a part of the range, all of them some, in order
    assert sorted(by_subtask) == list(range(parallelism))
    for values in by_subtask.values():
        assert values == sorted(values)
        assert values == list(range(values[0], values[-1] + 1))


def test_number_sequence_source_large_values(env):
    big = 2**62
    assert sorted(collect(numbers(env, big, big + 3))) == [big, big + 1, big + 2, big + 3]


# --------------------------------------------------------------------------------------------
# sinks and execute


def test_add_sink_with_plain_callable(env):
    results: list[int] = []
    env.from_collection([1, 2, 3]).map(lambda x: x * x).add_sink(results.append)
    env.execute()
    assert sorted(results) == [1, 4, 9]


def test_add_sink_with_sink_function(env, parallelism):
    class Collecting(SinkFunction):
        def __init__(self, out):
            self.out = out

        def open(self, runtime_context):
            self.index = runtime_context.get_index_of_this_subtask()

        def invoke(self, value, context):
            self.out.append((self.index, value, context.timestamp()))

    out: list[Any] = []
    env.from_collection(list(range(20))).add_sink(Collecting(out))
    env.execute()
    assert sorted(v for _, v, _ in out) == list(range(20))
    assert {i for i, _, _ in out} <= set(range(parallelism))
    # records from a collection carry no timestamp
    assert {ts for _, _, ts in out} == {None}


def test_execute_runs_several_sinks(env):
    evens: list[int] = []
    odds: list[int] = []
    everything: list[int] = []
    source = env.from_collection(list(range(10)))
    source.filter(lambda x: x % 2 == 0).add_sink(evens.append)
    source.filter(lambda x: x % 2 == 1).add_sink(odds.append)
    env.from_collection(["other"]).add_sink(everything.append)
    result = env.execute("several sinks")
    assert sorted(evens) == [0, 2, 4, 6, 8]
    assert sorted(odds) == [1, 3, 5, 7, 9]
    assert everything == ["other"]
    assert result is not None


def test_execute_twice_on_the_same_env(env):
    first: list[int] = []
    second: list[int] = []
    env.from_collection([1, 2]).add_sink(first.append)
    env.execute("first job")
    assert sorted(first) == [1, 2]

    env.from_collection([3, 4]).add_sink(second.append)
    env.execute("second job")
    # the sinks of the first job were cleared: it did not run again
    assert sorted(first) == [1, 2]
    assert sorted(second) == [3, 4]


def test_execute_without_sinks_after_execute_raises(env):
    out: list[int] = []
    env.from_collection([1]).add_sink(out.append)
    env.execute()
    with pytest.raises(RuntimeError, match="No operators"):
        env.execute()
    assert out == [1]


def test_reuse_stream_in_a_second_job(env):
    first: list[int] = []
    second: list[int] = []
    ds = env.from_collection([1, 2, 3]).map(lambda x: x + 1)
    ds.add_sink(first.append)
    env.execute()
    ds.map(lambda x: x * 10).add_sink(second.append)
    env.execute()
    assert sorted(first) == [2, 3, 4]
    assert sorted(second) == [20, 30, 40]


def test_sink_parallelism(env):
    seen: list[Any] = []

    class IndexSink(SinkFunction):
        def open(self, runtime_context):
            self.index = runtime_context.get_index_of_this_subtask()
            self.n = runtime_context.get_number_of_parallel_subtasks()

        def invoke(self, value, context):
            seen.append((self.index, self.n, value))

    env.from_collection(list(range(10))).add_sink(IndexSink()).set_parallelism(1)
    env.execute()
    assert sorted(v for _, _, v in seen) == list(range(10))
    assert {(i, n) for i, n, _ in seen} == {(0, 1)}


# --------------------------------------------------------------------------------------------
# volume: long chains, long streams


def test_long_chain(env):
    ds = env.from_collection(list(range(100)))
    for _ in range(30):
        ds = ds.map(lambda x: x + 1)
    ds = ds.filter(lambda x: x % 2 == 0)
    assert sorted(collect(ds)) == [x + 30 for x in range(100) if (x + 30) % 2 == 0]


def test_long_stream(env):
    n = 200_000
    ds = numbers(env, 1, n).map(lambda x: x * 2).filter(lambda x: x % 3 != 0).flat_map(lambda x: (x,))
    total = 0
    count = 0
    with ds.execute_and_collect() as results:
        for v in results:
            total += v
            count += 1
    expected = [x * 2 for x in range(1, n + 1) if (x * 2) % 3 != 0]
    assert count == len(expected)
    assert total == sum(expected)


def test_long_stream_from_generator_in_order(env, parallelism):
    n = 200_000
    out: list[int] = []
    env.from_iterable(iter(range(n))).map(lambda x: x + 1).add_sink(out.append)
    env.execute()
    assert len(out) == n
    if parallelism == 1:
        assert out == list(range(1, n + 1))
    else:
        assert sorted(out) == list(range(1, n + 1))


def test_buffer_timeout_zero_still_delivers_everything(env):
    env.set_buffer_timeout(0)
    assert sorted(collect(env.from_collection(list(range(300))).map(lambda x: -x))) == [-x for x in range(299, -1, -1)]


def test_small_batch_size(parallelism):
    from ferroflow.common import Configuration

    conf = Configuration()
    conf.set_integer("python.fn-execution.bundle.size", 1)
    conf.set_integer("parallelism.default", parallelism)
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    assert env.get_parallelism() == parallelism
    assert sorted(collect(env.from_collection(list(range(50))).map(lambda x: x * 3))) == [x * 3 for x in range(50)]
