"""Errors: bad arguments are refused where the pipeline is built, with messages naming what was
given and what is expected; exceptions in user code come out of execute() as themselves, promptly,
with the user's frames and a note naming the operator, and leave no thread behind."""

from __future__ import annotations

import gc
import itertools
import sys
import time
import traceback
from typing import Any

import pytest

from conftest import ferroflow_threads
from ferroflow.datastream import MapFunction, ProcessFunction
from ferroflow.datastream.connectors import NumberSequenceSource

HANG_GUARD_SECONDS = 30


class MyMapFunction(MapFunction):
    def map(self, value):
        return value


class Boom(Exception):
    """An exception type of the user's own."""


def numbers(env, start, end, name="numbers"):
    return env.from_source(NumberSequenceSource(start, end), None, name)


def frame_names(exc: BaseException) -> list[str]:
    return [frame.name for frame in traceback.extract_tb(exc.__traceback__)]


def notes(exc: BaseException) -> str:
    return "\n".join(getattr(exc, "__notes__", []))


# --------------------------------------------------------------------------------------------
# build-time argument errors


def test_map_of_a_non_callable(env):
    with pytest.raises(TypeError) as info:
        env.from_collection([1]).map(42)
    message = str(info.value)
    assert "42" in message and "int" in message
    assert "MapFunction" in message and "callable" in message


def test_map_of_a_function_class_instead_of_an_instance(env):
    with pytest.raises(TypeError) as info:
        env.from_collection([1]).map(MyMapFunction)
    message = str(info.value)
    assert "MyMapFunction" in message
    assert "instance" in message


def test_flat_map_of_none(env):
    with pytest.raises(TypeError) as info:
        env.from_collection([1]).flat_map(None)
    message = str(info.value)
    assert "None" in message and "FlatMapFunction" in message


def test_filter_of_a_string(env):
    with pytest.raises(TypeError) as info:
        env.from_collection([1]).filter("x > 1")
    assert "x > 1" in str(info.value) and "FilterFunction" in str(info.value)


def test_key_by_of_an_int(env):
    with pytest.raises(TypeError) as info:
        env.from_collection([1]).key_by(123)
    message = str(info.value)
    assert "123" in message and "KeySelector" in message


def test_reduce_of_a_non_callable(env):
    with pytest.raises(TypeError) as info:
        env.from_collection([1]).key_by(lambda x: x).reduce("sum")
    assert "'sum'" in str(info.value) and "ReduceFunction" in str(info.value)


@pytest.mark.parametrize("bad", [0, -3])
def test_set_parallelism_not_positive(env, bad):
    ds = env.from_collection([1]).map(lambda x: x)
    with pytest.raises(ValueError) as info:
        ds.set_parallelism(bad)
    assert str(bad) in str(info.value) and "parallelism" in str(info.value)


@pytest.mark.parametrize("bad", ["2", 2.0, None, True])
def test_set_parallelism_not_an_int(env, bad):
    ds = env.from_collection([1]).map(lambda x: x)
    with pytest.raises(TypeError) as info:
        ds.set_parallelism(bad)
    message = str(info.value)
    assert repr(bad) in message and "int" in message


def test_env_set_parallelism_negative(env):
    with pytest.raises(ValueError) as info:
        env.set_parallelism(-1)
    assert "-1" in str(info.value) and "parallelism" in str(info.value)
    assert env.get_parallelism() in (1, 2)  # unchanged


def test_env_set_parallelism_string(env):
    with pytest.raises(TypeError) as info:
        env.set_parallelism("4")
    assert "'4'" in str(info.value)


def test_source_parallelism_cannot_change(env):
    with pytest.raises(ValueError) as info:
        env.from_collection([1]).set_parallelism(2)
    assert "2" in str(info.value)


def test_union_with_a_non_stream(env):
    with pytest.raises(TypeError) as info:
        env.from_collection([1]).union(42)
    message = str(info.value)
    assert "42" in message and "DataStream" in message


def test_connect_with_a_non_stream(env):
    with pytest.raises(TypeError) as info:
        env.from_collection([1]).connect([1, 2])
    assert "[1, 2]" in str(info.value) and "DataStream" in str(info.value)


def test_add_sink_of_an_int(env):
    with pytest.raises(TypeError) as info:
        env.from_collection([1]).add_sink(5)
    message = str(info.value)
    assert "5" in message and "SinkFunction" in message


def test_process_of_an_int(env):
    with pytest.raises(TypeError) as info:
        env.from_collection([1]).process(42)
    message = str(info.value)
    assert "42" in message and "ProcessFunction" in message


def test_from_collection_of_an_int(env):
    with pytest.raises(TypeError) as info:
        env.from_collection(5)
    message = str(info.value)
    assert "5" in message and "int" in message


def test_from_collection_of_a_string(env):
    with pytest.raises(TypeError) as info:
        env.from_collection("abc")
    assert "'abc'" in str(info.value)


def test_number_sequence_source_reversed():
    with pytest.raises(ValueError) as info:
        NumberSequenceSource(5, 1)
    message = str(info.value)
    assert "5" in message and "1" in message


def test_number_sequence_source_not_ints():
    with pytest.raises(TypeError) as info:
        NumberSequenceSource("1", 5)
    assert "'1'" in str(info.value)


def test_from_source_of_a_non_source(env):
    with pytest.raises(TypeError) as info:
        env.from_source([1, 2], None, "list")
    assert "[1, 2]" in str(info.value)


def test_print_with_a_non_string_identifier(env):
    with pytest.raises(TypeError) as info:
        env.from_collection([1]).print(42)
    message = str(info.value)
    assert "42" in message and "str" in message


def test_output_type_not_a_type_information(env):
    with pytest.raises(TypeError) as info:
        env.from_collection([1]).map(lambda x: x, output_type=int)
    assert "TypeInformation" in str(info.value)


def test_execute_and_collect_negative_limit(env):
    with pytest.raises(ValueError) as info:
        env.from_collection([1]).execute_and_collect(limit=-1)
    assert "-1" in str(info.value)


def test_get_side_output_of_a_non_tag(env):
    ds = env.from_collection([1]).process(lambda v, ctx: [v])
    with pytest.raises(TypeError) as info:
        ds.get_side_output("tag")
    assert "OutputTag" in str(info.value) and "'tag'" in str(info.value)


def test_build_errors_do_not_leave_sinks_behind(env):
    out: list[int] = []
    with pytest.raises(TypeError):
        env.from_collection([1]).map(42)
    env.from_collection([1]).add_sink(out.append)
    env.execute()
    assert out == [1]


# --------------------------------------------------------------------------------------------
# exceptions in user code, at run time


def explode_at_50k(value):
    if value == 50_000:
        raise Boom(f"bad record {value}")
    return value


def assert_user_failure(exc: BaseException, function_name: str, operator_name: str, message: str):
    assert type(exc) is Boom
    assert str(exc) == message
    assert function_name in frame_names(exc), f"{function_name} not in traceback {frame_names(exc)}"
    assert operator_name in notes(exc), f"no note naming {operator_name!r}: {getattr(exc, '__notes__', None)}"


def test_exception_in_map_in_the_middle_of_a_long_stream(env):
    out: list[int] = []
    numbers(env, 1, 200_000).map(explode_at_50k).name("exploding map").add_sink(out.append)
    started = time.monotonic()
    with pytest.raises(Boom) as info:
        env.execute()
    assert time.monotonic() - started < HANG_GUARD_SECONDS
    assert_user_failure(info.value, "explode_at_50k", "exploding map", "bad record 50000")
    assert 50_000 not in out
    assert _threads_end_soon(), f"threads left: {ferroflow_threads()}"


def test_exception_in_map_from_a_generator_source(env):
    env.from_iterable(iter(range(200_000))).map(explode_at_50k).name("exploding map").add_sink(lambda v: None)
    started = time.monotonic()
    with pytest.raises(Boom) as info:
        env.execute()
    assert time.monotonic() - started < HANG_GUARD_SECONDS
    assert_user_failure(info.value, "explode_at_50k", "exploding map", "bad record 50000")


def test_exception_in_a_function_class_method(env):
    class Exploding(MapFunction):
        def map(self, value):
            if value == 3:
                raise Boom("three")
            return value

    env.from_collection([1, 2, 3, 4]).map(Exploding()).name("class map").add_sink(lambda v: None)
    with pytest.raises(Boom) as info:
        env.execute()
    assert_user_failure(info.value, "map", "class map", "three")


def test_builtin_exception_type_is_kept(env):
    env.from_collection([1, 0, 2]).map(lambda x: 10 // x).name("divide").add_sink(lambda v: None)
    with pytest.raises(ZeroDivisionError) as info:
        env.execute()
    assert "division" in str(info.value)
    assert "<lambda>" in frame_names(info.value)
    assert "divide" in notes(info.value)


def test_exception_in_filter_flat_map_process_and_sink(env):
    def bad_filter(x):
        raise Boom("filter")

    def bad_flat_map(x):
        yield x
        raise Boom("flat_map")

    class BadProcess(ProcessFunction):
        def process_element(self, value, ctx):
            raise Boom("process")

    def bad_sink(x):
        raise Boom("sink")

    cases = [
        (lambda ds: ds.filter(bad_filter).name("op").add_sink(lambda v: None), "bad_filter", "filter"),
        (lambda ds: ds.flat_map(bad_flat_map).name("op").add_sink(lambda v: None), "bad_flat_map", "flat_map"),
        (lambda ds: ds.process(BadProcess()).name("op").add_sink(lambda v: None), "process_element", "process"),
        (lambda ds: ds.add_sink(bad_sink).name("op"), "bad_sink", "sink"),
    ]
    for build, function_name, message in cases:
        build(env.from_collection([1, 2, 3]))
        with pytest.raises(Boom) as info:
            env.execute()
        assert_user_failure(info.value, function_name, "op", message)


def test_exception_in_key_selector_and_reduce(env):
    def bad_key(x):
        raise Boom("key")

    def bad_reduce(a, b):
        raise Boom("reduce")

    env.from_collection([1, 2]).key_by(bad_key).reduce(lambda a, b: a).add_sink(lambda v: None)
    with pytest.raises(Boom) as info:
        env.execute()
    assert "bad_key" in frame_names(info.value)

    env.from_collection([1, 1]).key_by(lambda x: x).reduce(bad_reduce).add_sink(lambda v: None)
    with pytest.raises(Boom) as info:
        env.execute()
    assert "bad_reduce" in frame_names(info.value)


def test_exception_while_iterating_execute_and_collect(env):
    ds = numbers(env, 1, 200_000).map(explode_at_50k).name("exploding map")
    received = 0
    started = time.monotonic()
    with pytest.raises(Boom) as info, ds.execute_and_collect() as results:
        for _ in results:
            received += 1
    assert time.monotonic() - started < HANG_GUARD_SECONDS
    assert_user_failure(info.value, "explode_at_50k", "exploding map", "bad record 50000")
    assert received < 200_000


def test_exception_with_execute_and_collect_limit(env):
    ds = env.from_collection([1, 2, 3]).map(lambda x: 1 // (x - 1)).name("div")
    with pytest.raises(ZeroDivisionError) as info:
        ds.execute_and_collect(limit=10)
    assert "div" in notes(info.value)


def test_exception_in_open(env):
    class BadOpen(MapFunction):
        def open(self, runtime_context):
            raise Boom("cannot open")

        def map(self, value):
            return value

    env.from_collection([1, 2]).map(BadOpen()).name("opening map").add_sink(lambda v: None)
    started = time.monotonic()
    with pytest.raises(Boom) as info:
        env.execute()
    assert time.monotonic() - started < HANG_GUARD_SECONDS
    assert_user_failure(info.value, "open", "opening map", "cannot open")


def test_exception_in_close(env):
    out: list[int] = []

    class BadClose(MapFunction):
        def map(self, value):
            return value

        def close(self):
            raise Boom("cannot close")

    env.from_collection([1, 2]).map(BadClose()).name("closing map").add_sink(out.append)
    with pytest.raises(Boom) as info:
        env.execute()
    assert_user_failure(info.value, "close", "closing map", "cannot close")


def test_close_is_called_after_a_failure(env, parallelism):
    closed: list[int] = []

    class Closing(MapFunction):
        def open(self, runtime_context):
            self.index = runtime_context.get_index_of_this_subtask()

        def map(self, value):
            if value == 500:
                raise Boom("stop")
            return value

        def close(self):
            closed.append(self.index)

    env.from_collection(list(range(1000))).map(Closing()).add_sink(lambda v: None)
    with pytest.raises(Boom):
        env.execute()
    # resources are released even when the job fails
    assert sorted(closed) == list(range(parallelism))


def test_exception_in_a_generator_source(env):
    def failing_source():
        yield 1
        yield 2
        raise Boom("source broke")

    out: list[int] = []
    env.from_iterable(failing_source()).map(lambda x: x).add_sink(out.append)
    started = time.monotonic()
    with pytest.raises(Boom) as info:
        env.execute()
    assert time.monotonic() - started < HANG_GUARD_SECONDS
    assert str(info.value) == "source broke"
    assert "failing_source" in frame_names(info.value)
    assert "Source" in notes(info.value)


def test_exception_in_a_long_generator_source(env):
    def failing_source():
        for i in range(200_000):
            if i == 50_000:
                raise Boom(f"source broke at {i}")
            yield i

    env.from_iterable(failing_source()).map(lambda x: x + 1).add_sink(lambda v: None)
    with pytest.raises(Boom, match="source broke at 50000"):
        env.execute()


def test_env_usable_after_a_failed_job(env):
    env.from_collection([0]).map(lambda x: 1 // x).add_sink(lambda v: None)
    with pytest.raises(ZeroDivisionError):
        env.execute()
    out: list[int] = []
    env.from_collection([1, 2]).map(lambda x: x * 2).add_sink(out.append)
    env.execute()
    assert sorted(out) == [2, 4]


def test_only_one_exception_when_every_subtask_fails(env):
    env.from_collection(list(range(100))).rebalance().map(explode_everything).add_sink(lambda v: None)
    with pytest.raises(Boom) as info:
        env.execute()
    assert str(info.value).startswith("boom ")


def explode_everything(value):
    raise Boom(f"boom {value}")


# --------------------------------------------------------------------------------------------
# stopping early


def test_limit_over_an_endless_generator_stops_the_job(env, parallelism):
    produced = itertools.count()

    def endless():
        for i in itertools.count():
            next(produced)
            yield i

    started = time.monotonic()
    results = env.from_iterable(endless()).execute_and_collect(limit=5)
    assert time.monotonic() - started < HANG_GUARD_SECONDS
    assert results == [0, 1, 2, 3, 4]


def test_limit_over_an_endless_generator_with_a_parallel_map(env):
    def endless():
        yield from itertools.count()

    results = env.from_iterable(endless()).map(lambda x: x * 10).execute_and_collect(limit=5)
    assert len(results) == 5 and len(set(results)) == 5
    assert all(v % 10 == 0 for v in results)


def test_closing_the_iterator_of_an_endless_job(env):
    def endless():
        yield from itertools.count()

    it = env.from_iterable(endless()).map(lambda x: x).execute_and_collect()
    first = next(it)
    assert first >= 0
    started = time.monotonic()
    it.close()
    assert time.monotonic() - started < HANG_GUARD_SECONDS


# --------------------------------------------------------------------------------------------
# a failed job's objects can be collected later on any thread


def test_garbage_collection_of_a_failed_job_during_the_next_job(env):
    env.from_collection([1]).map(explode_everything).add_sink(lambda v: None)
    try:
        env.execute()
    except Boom as e:
        # keep the exception (and the frames of its traceback) in a reference cycle, as
        # notebooks and error handlers often do
        cycle: Any = {"error": e}
        cycle["self"] = cycle
    del cycle

    unraisable: list[str] = []
    previous_hook = sys.unraisablehook
    sys.unraisablehook = lambda u: unraisable.append(f"{u.exc_type.__name__}: {u.exc_value}")
    gc.disable()
    try:
        out: list[int] = []
        # the next job's user code triggers a garbage collection on an engine thread
        env.from_collection([1, 2, 3]).map(lambda x: (gc.collect(), x)[1]).add_sink(out.append)
        env.execute()
    finally:
        gc.enable()
        sys.unraisablehook = previous_hook
    assert sorted(out) == [1, 2, 3]
    assert unraisable == []


def _threads_end_soon() -> bool:
    deadline = time.monotonic() + 2
    while ferroflow_threads() and time.monotonic() < deadline:
        time.sleep(0.02)
    return not ferroflow_threads()
