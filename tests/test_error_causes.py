"""Errors say what failed and keep the user's own exception: a key's __hash__ or pickling, a
custom partitioner; and timestamps at the ends of the 64-bit range land in the right windows."""

from __future__ import annotations

import traceback
from typing import Any

import pytest

from ferroflow.common import Duration, WatermarkStrategy
from ferroflow.common.constants import MAX_LONG_VALUE, MIN_LONG_VALUE
from ferroflow.datastream import ProcessWindowFunction, StreamExecutionEnvironment
from ferroflow.datastream.functions import Partitioner
from ferroflow.datastream.window import SlidingEventTimeWindows, TumblingEventTimeWindows


class HashRaises:
    def __hash__(self) -> int:
        raise ValueError("no hash today")


class CannotPickle:
    def __hash__(self) -> int:
        return 1

    def __reduce__(self) -> Any:
        raise RuntimeError("not picklable on purpose")


def run_keyed_by(env: StreamExecutionEnvironment, key: Any) -> None:
    list(env.from_collection([1]).key_by(lambda v: key).reduce(lambda a, b: a + b).execute_and_collect())


def test_an_exception_in_a_keys_hash_is_the_cause_of_the_error(env):
    with pytest.raises(TypeError, match=r"its __hash__ raised ValueError: no hash today") as info:
        run_keyed_by(env, HashRaises())
    assert "HashRaises" in str(info.value) and "not hashable" not in str(info.value)
    assert isinstance(info.value.__cause__, ValueError)
    assert str(info.value.__cause__) == "no hash today"


def test_an_exception_while_pickling_a_key_is_the_cause_of_the_error(env):
    with pytest.raises(TypeError, match=r"pickling it raised RuntimeError: not picklable on purpose") as info:
        run_keyed_by(env, CannotPickle())
    assert isinstance(info.value.__cause__, RuntimeError)


def test_an_unhashable_key_is_still_said_to_be_unhashable(env):
    with pytest.raises(TypeError, match=r"the key \{'a': 1\} \(of type 'dict'\) is not hashable"):
        run_keyed_by(env, {"a": 1})


def failing_partitioner(key: Any, num_partitions: int) -> int:
    return key % num_partitions if key != 3 else key // (key - 3)


class FailingPartitioner(Partitioner):
    def partition(self, key: Any, num_partitions: int) -> int:
        raise LookupError(f"no partition for {key}")


def notes(e: BaseException) -> str:
    return "\n".join(getattr(e, "__notes__", []))


def test_an_error_in_a_custom_partitioner_names_the_partitioner(env):
    ds = env.from_collection([1, 2, 3, 4]).map(lambda v: v).name("Upstream")
    out = ds.partition_custom(failing_partitioner, lambda v: v).map(lambda v: v).set_parallelism(2)
    with pytest.raises(ZeroDivisionError) as info:
        list(out.execute_and_collect())
    assert "raised in operator 'partition_custom partitioner 'failing_partitioner''" in notes(info.value)
    assert "Upstream" not in notes(info.value)
    # The user's own traceback, down to the line that failed.
    assert "key // (key - 3)" in "".join(traceback.format_exception(info.value))


def test_an_error_in_a_partitioner_class_or_its_key_selector_names_it(env):
    out = env.from_collection([1, 2]).map(lambda v: v).partition_custom(FailingPartitioner(), lambda v: v)
    with pytest.raises(LookupError, match="no partition for [12]") as info:
        list(out.map(lambda v: v).set_parallelism(2).execute_and_collect())
    assert "partition_custom partitioner 'FailingPartitioner.partition'" in notes(info.value)

    def bad_selector(v: Any) -> Any:
        return v["missing"]

    out = env.from_collection([1, 2]).map(lambda v: v).partition_custom(failing_partitioner, bad_selector)
    with pytest.raises(TypeError) as info:
        list(out.map(lambda v: v).set_parallelism(2).execute_and_collect())
    assert "partition_custom key selector 'test_an_error_in_a_partitioner_class_or_its_key_selector_names_it.<locals>.bad_selector'" in notes(info.value)


def test_a_partition_out_of_range_names_the_partitioner(env):
    out = env.from_collection([1, 2]).map(lambda v: v).name("Upstream").partition_custom(lambda k, n: n, lambda v: v)
    with pytest.raises(RuntimeError, match=r"the partitioner returned 2, but there are 2 partitions") as info:
        list(out.map(lambda v: v).set_parallelism(2).execute_and_collect())
    assert "raised in operator 'partition_custom partitioner 'test_a_partition_out_of_range_names_the_partitioner.<locals>.<lambda>''" in notes(
        info.value
    )


class Bounds(ProcessWindowFunction):
    def process(self, key: Any, context: Any, elements: Any) -> Any:
        window = context.window()
        yield window.start, window.end, sorted(elements)


def windows_of(env: StreamExecutionEnvironment, timestamps: list[int], assigner: Any, strategy: Any) -> list[Any]:
    strategy = strategy.with_timestamp_assigner(lambda v, ts: v)
    ds = env.from_collection(timestamps).assign_timestamps_and_watermarks(strategy).key_by(lambda v: 0)
    return sorted(ds.window(assigner).process(Bounds()).execute_and_collect())


MIN = MIN_LONG_VALUE + 1  # the smallest timestamp a record may have (MIN_LONG_VALUE means none)
MAX = MAX_LONG_VALUE


@pytest.mark.parametrize(
    "strategy",
    [WatermarkStrategy.for_monotonous_timestamps(), WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_seconds(5))],
    ids=["monotonous", "out-of-orderness"],
)
def test_tumbling_windows_at_both_ends_of_the_range_are_cut_not_wrapped(env, strategy):
    # i64::MIN is 2 more than a multiple of 10 and i64::MAX 7 more: the first and last windows
    # of the range are cut at its ends.
    out = windows_of(env, [MIN + 4, MIN + 9, MAX - 9, MAX - 1], TumblingEventTimeWindows.of(Duration.of_millis(10)), strategy)
    assert out == [
        (MIN_LONG_VALUE, MIN_LONG_VALUE + 8, [MIN + 4]),
        (MIN_LONG_VALUE + 8, MIN_LONG_VALUE + 18, [MIN + 9]),
        (MAX - 17, MAX - 7, [MAX - 9]),
        (MAX - 7, MAX, [MAX - 1]),
    ]


def test_sliding_windows_at_both_ends_of_the_range_are_cut_not_wrapped(env):
    strategy = WatermarkStrategy.for_monotonous_timestamps()
    assigner = SlidingEventTimeWindows.of(Duration.of_millis(10), Duration.of_millis(5))
    out = windows_of(env, [MIN_LONG_VALUE + 5, MAX - 1], assigner, strategy)
    for start, end, _ in out:
        assert start < end
        assert end - start <= 10
    assert [elements for _, _, elements in out] == [[MIN_LONG_VALUE + 5]] * 2 + [[MAX - 1]] * 2
    # i64::MIN is 2 more than a multiple of 5, i64::MAX 2 more.
    assert [w[:2] for w in out] == [
        (MIN_LONG_VALUE, MIN_LONG_VALUE + 8),
        (MIN_LONG_VALUE + 3, MIN_LONG_VALUE + 13),
        (MAX - 7, MAX),
        (MAX - 2, MAX),
    ]
