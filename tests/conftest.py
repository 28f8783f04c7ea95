"""Shared fixtures: an environment at parallelism 1 and 2, and the "no thread left behind" check."""

from __future__ import annotations

import os
import threading
import time

import pytest

from ferroflow.datastream import StreamExecutionEnvironment

THREAD_PREFIX = "ferroflow"
THREAD_GRACE_SECONDS = 2.0


@pytest.fixture(params=[1, 2], ids=["p1", "p2"])
def parallelism(request: pytest.FixtureRequest) -> int:
    """The default parallelism the test's environment runs at."""
    return request.param


@pytest.fixture
def env(parallelism: int) -> StreamExecutionEnvironment:
    """A fresh environment with the default parallelism set to ``parallelism``."""
    environment = StreamExecutionEnvironment.get_execution_environment()
    environment.set_parallelism(parallelism)
    return environment


def _os_thread_names() -> list[str]:
    """Names of this process's OS threads (Linux): engine threads started from Rust are not in
    ``threading.enumerate()`` unless Python code happened to ask for their Thread object."""
    names = []
    try:
        task_ids = os.listdir("/proc/self/task")
    except OSError:
        return names
    for tid in task_ids:
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                names.append(f.read().strip())
        except OSError:
            pass  # the thread ended while we looked
    return names


def ferroflow_threads() -> list[str]:
    """Names of live ferroflow threads, as Python and as the OS see them."""
    python_threads = [t.name for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]
    os_threads = [n for n in _os_thread_names() if n.startswith(THREAD_PREFIX)]
    return python_threads + os_threads


@pytest.fixture(autouse=True)
def no_thread_left_behind():
    """After every test, no ferroflow thread may still be alive (a short grace period is given
    for threads that are finishing)."""
    yield
    deadline = time.monotonic() + THREAD_GRACE_SECONDS
    alive = ferroflow_threads()
    while alive and time.monotonic() < deadline:
        time.sleep(0.02)
        alive = ferroflow_threads()
    assert not alive, f"ferroflow threads still alive after the test: {alive}"
