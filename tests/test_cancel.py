"""Ctrl-C (KeyboardInterrupt) stops a running job cleanly, from execute() and while collecting."""

import _thread
import itertools
import threading
import time

import pytest


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
