"""Programs that used to kill the process (a stack overflow, an allocation failure) end with a
clear Python error instead, or run: each case runs in a child process, which must exit with a
traceback, not a signal."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from ferroflow.common import Time
from ferroflow.datastream import StreamExecutionEnvironment
from ferroflow.datastream.window import (
    CountSlidingWindowAssigner,
    SlidingEventTimeWindows,
    SlidingProcessingTimeWindows,
)

PRELUDE = """
from ferroflow.common import Duration, Time, WatermarkStrategy
from ferroflow.datastream import StreamExecutionEnvironment
env = StreamExecutionEnvironment.get_execution_environment()
"""


def run_child(body: str) -> subprocess.CompletedProcess[str]:
    script = PRELUDE + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)


def assert_clean_error(done: subprocess.CompletedProcess[str], error: str) -> None:
    """The child ended by a Python exception (exit status 1), not by a signal."""
    assert done.returncode == 1, f"exit status {done.returncode}\n{done.stderr[-3000:]}"
    assert error in done.stderr, done.stderr[-3000:]


def test_a_key_nested_thousands_deep_is_a_clear_error():
    done = run_child(
        """
        key = ()
        for _ in range(2500):
            key = (key,)
        env.from_collection([1, 2]).key_by(lambda v: key).map(lambda v: v).add_sink(print)
        env.execute()
        """
    )
    assert_clean_error(done, "ValueError: a key nested deeper than 64 levels of tuples cannot be used as a key")


def test_user_code_gets_the_stack_a_python_thread_has():
    # Hashing a tuple 100 000 deep recurses in C: a plain Python thread (8 MiB on Linux) does it.
    done = run_child(
        """
        def deep_hash(v):
            t = ()
            for _ in range(100_000):
                t = (t,)
            return hash(t) is not None and v

        print(sorted(env.from_collection([1, 2, 3]).map(deep_hash).execute_and_collect()))
        """
    )
    assert done.returncode == 0, f"exit status {done.returncode}\n{done.stderr[-3000:]}"
    assert done.stdout.strip() == "[1, 2, 3]"


def test_a_sliding_window_with_millions_of_windows_per_element_is_refused():
    done = run_child(
        """
        from ferroflow.datastream.window import SlidingEventTimeWindows
        strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(lambda v, ts: v)
        (env.from_collection([1, 2]).assign_timestamps_and_watermarks(strategy).key_by(lambda v: 0)
            .window(SlidingEventTimeWindows.of(Time.days(1), Time.milliseconds(1)))
            .reduce(lambda a, b: a + b).add_sink(print))
        env.execute()
        """
    )
    assert_clean_error(done, "puts every element into 86400000 windows")


def test_a_parallelism_in_the_thousands_is_refused_when_the_job_is_built():
    done = run_child(
        """
        env.set_max_parallelism(4096)
        env.set_parallelism(2048)
        env.from_collection([1, 2]).map(lambda v: v).key_by(lambda v: v).reduce(lambda a, b: a + b).add_sink(print)
        env.execute()
        """
    )
    assert_clean_error(done, "ValueError: operator")
    assert "Lower the parallelism" in done.stderr


@pytest.mark.parametrize(
    "make",
    [
        lambda: SlidingEventTimeWindows.of(Time.days(1), Time.milliseconds(1)),
        lambda: SlidingProcessingTimeWindows.of(Time.seconds(101), Time.milliseconds(1)),
        lambda: CountSlidingWindowAssigner.of(1_000_000, 2),
    ],
    ids=["event-time", "processing-time", "count"],
)
def test_windows_per_element_are_bounded(make):
    with pytest.raises(ValueError, match="at most 100,000 windows per element"):
        make()


def test_windows_per_element_up_to_the_bound_are_accepted():
    assert repr(SlidingEventTimeWindows.of(Time.days(1), Time.seconds(1))) == "SlidingEventTimeWindows(86400000, 1000, 0)"
    SlidingProcessingTimeWindows.of(Time.seconds(100), Time.milliseconds(1))
    CountSlidingWindowAssigner.of(100_000, 1)


def test_keys_up_to_64_levels_deep_are_accepted_and_deeper_ones_refused():
    env = StreamExecutionEnvironment.get_execution_environment()

    def nested(depth: int, inner=()):
        key = inner
        for _ in range(depth - 1):
            key = (key,)
        return key

    ok = nested(64)
    out = list(env.from_collection([1, 2]).key_by(lambda v: ok).reduce(lambda a, b: a + b).execute_and_collect())
    assert out == [1, 3]
    too_deep = nested(65)
    ds = env.from_collection([1]).key_by(lambda v: too_deep).reduce(lambda a, b: a + b)
    with pytest.raises(ValueError, match="deeper than 64 levels"):
        list(ds.execute_and_collect())
    # frozensets nest as deeply as tuples, and are checked the same way.
    deep_set = frozenset()
    for _ in range(70):
        deep_set = frozenset([deep_set])
    ds = env.from_collection([1]).key_by(lambda v: deep_set).reduce(lambda a, b: a + b)
    with pytest.raises(ValueError, match="deeper than 64 levels"):
        list(ds.execute_and_collect())
