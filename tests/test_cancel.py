"""Ctrl-C (KeyboardInterrupt) stops a running job cleanly, from execute() and while collecting."""

import _thread
import itertools
import threading
import time

import pytest

from ferroflow.datastream import MapFunction, StreamExecutionEnvironment


def _interrupt_after(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, _thread.interrupt_main)
    timer.start()
    return timer


def test_ctrl_c_stops_execute(env):
    seen = []
    env.from_iterable(itertools.count()).rebalance().map(lambda x: x + 1).add_sink(seen.append)
    timer = _interrupt_after(0.3)
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            env.execute()
    finally:
        timer.cancel()
        timer.join()
    assert time.monotonic() - started < 30
    assert seen, "the job ran before it was interrupted"


def test_ctrl_c_stops_collect(env):
    stream = env.from_iterable(itertools.count()).map(lambda x: x * 2)
    timer = _interrupt_after(0.3)
    received = 0
    with pytest.raises(KeyboardInterrupt), stream.execute_and_collect() as results:
        for value in results:
            assert value % 2 == 0
            received += 1
            # Slow consumer: the job is backpressured, and the interrupt arrives while
            # the iterator waits or while this loop runs.
            if received % 1000 == 0:
                time.sleep(0.001)
    timer.join()
    assert received > 0


def test_closing_the_iterator_of_an_endless_job_stops_it(env):
    results = env.from_iterable(itertools.count()).map(lambda x: x).execute_and_collect()
    first = [next(results) for _ in range(10)]
    results.close()
    assert len(set(first)) == 10 and all(v >= 0 for v in first)
    if env.get_parallelism() == 1:
        assert first == list(range(10))


def _slow(x):
    time.sleep(0.05)
    return x


class FailsInFirstSubtask(MapFunction):
    """Subtask 0 fails at its first record; the others are slow."""

    def open(self, runtime_context):
        self.index = runtime_context.get_index_of_this_subtask()

    def map(self, value):
        if self.index == 0:
            raise ValueError("subtask 0 failed")
        return _slow(value)


def _env_p2() -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    return env


def test_ctrl_c_stops_a_slow_function_within_its_batch(env):
    """A batch of 1000 records of a 50 ms function takes 50 s: Ctrl-C must not wait for it."""
    env.from_collection(list(range(1000))).map(_slow).add_sink(lambda v: None)
    timer = _interrupt_after(0.5)
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            env.execute()
    finally:
        timer.cancel()
        timer.join()
    assert time.monotonic() - started < 25  # half of what finishing the batch takes


def test_a_failure_stops_a_slow_function_in_another_subtask():
    """Subtask 0 fails at once; subtask 1 is in a 50 s batch of a slow function and stops too."""
    env_p2 = _env_p2()
    env_p2.from_collection(list(range(2000))).rebalance().map(FailsInFirstSubtask()).add_sink(lambda v: None)
    started = time.monotonic()
    with pytest.raises(ValueError, match="subtask 0 failed"):
        env_p2.execute()
    assert time.monotonic() - started < 25  # half of what finishing the batch takes


def test_closing_the_iterator_stops_a_slow_function_within_its_batch(env):
    results = env.from_collection(list(range(1000))).map(_slow).execute_and_collect()
    time.sleep(0.3)  # the job is in its batch
    started = time.monotonic()
    results.close()
    assert time.monotonic() - started < 25  # half of what finishing the batch takes


def test_close_runs_in_full_when_a_failure_stops_the_job():
    """Stopping a job interrupts user functions in progress, never their close()."""
    closed: list[int] = []

    class SlowClose(FailsInFirstSubtask):
        def close(self):
            time.sleep(0.3)
            for _ in range(100_000):  # bytecode for an interrupt to land on
                pass
            closed.append(self.index)

    env = _env_p2()
    env.from_collection(list(range(2000))).rebalance().map(SlowClose()).add_sink(lambda v: None)
    with pytest.raises(ValueError, match="subtask 0 failed"):
        env.execute()
    assert sorted(closed) == [0, 1]


def test_a_failure_while_collecting_stops_a_slow_function_in_another_subtask():
    env = _env_p2()
    started = time.monotonic()
    with pytest.raises(ValueError, match="subtask 0 failed"):
        list(env.from_collection(list(range(2000))).rebalance().map(FailsInFirstSubtask()).execute_and_collect())
    assert time.monotonic() - started < 25  # half of what finishing the batch takes
