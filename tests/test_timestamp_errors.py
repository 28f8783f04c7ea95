"""A timestamp assigner that returns something other than an int of epoch milliseconds gets an
error that says what it returned, what a timestamp must be, and which assigner it was."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ferroflow.common import WatermarkStrategy
from ferroflow.common.watermark_strategy import TimestampAssigner
from ferroflow.datastream import StreamExecutionEnvironment


class IntLike:
    """An int-like object (as numpy's integers are): it has ``__index__``."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __index__(self) -> int:
        return self.n


class WallClock(TimestampAssigner):
    def extract_timestamp(self, value: Any, record_timestamp: int) -> Any:
        return time.time() * 1000


def run(assigner: Any) -> list[int]:
    env = StreamExecutionEnvironment.get_execution_environment()
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(assigner)
    stamped = env.from_collection([1, 2, 3]).assign_timestamps_and_watermarks(strategy)
    return list(stamped.execute_and_collect())


@pytest.mark.parametrize(
    ("returned", "error", "message"),
    [
        (1.5e12, TypeError, r"must be an int of epoch milliseconds .* got float 1500000000000.0 from \S*<lambda>"),
        ("5", TypeError, r"got str '5' from \S*<lambda>"),
        (True, TypeError, r"got bool True from \S*<lambda>"),
        (None, TypeError, r"got NoneType None from \S*<lambda>"),
        (2**63, ValueError, r"the timestamp 9223372036854775808 returned by \S*<lambda> is out of range"),
        (-(2**63), ValueError, r"the timestamp -9223372036854775808 returned by \S*<lambda> is out of range"),
    ],
)
def test_a_bad_timestamp_names_itself_and_the_rule(returned: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message) as info:
        run(lambda e, t: returned)
    assert "-2**63 + 1 and 2**63 - 1" in str(info.value)


def test_a_float_from_the_wall_clock_says_how_to_make_it_an_int() -> None:
    with pytest.raises(TypeError, match=r"from WallClock.extract_timestamp \(for time.time\(\) \* 1000, return int"):
        run(WallClock())


@pytest.mark.parametrize("stamp", [0, -(2**63) + 1, 2**63 - 1, IntLike(1234), IntLike(-5)])
def test_ints_over_the_whole_range_and_int_like_objects_are_timestamps(stamp: Any) -> None:
    assert run(lambda e, t: stamp) == [1, 2, 3]
