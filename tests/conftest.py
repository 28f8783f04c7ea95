"""Shared fixtures: an environment at parallelism 1 and 2, on the heap and (in modules that set
``ON_BOTH_BACKENDS``) on RocksDB, and the "no thread left behind" check."""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import ferroflow
from ferroflow.datastream import EmbeddedRocksDBStateBackend, StreamExecutionEnvironment

THREAD_PREFIX = "ferroflow"
THREAD_GRACE_SECONDS = 2.0


def pytest_report_header() -> str:
    """Which ferroflow the tests run against: the checkout's editable build or an installed wheel."""
    return f"ferroflow: {Path(ferroflow.__file__).parent}"


@pytest.fixture(params=[1, 2], ids=["p1", "p2"])
def parallelism(request: pytest.FixtureRequest) -> int:
    """The default parallelism the test's environment runs at."""
    return request.param


BACKENDS = ["hashmap", "rocksdb"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests of a module with ``ON_BOTH_BACKENDS = True`` run once per state backend."""
    if getattr(metafunc.module, "ON_BOTH_BACKENDS", False) and "state_backend" in metafunc.fixturenames:
        metafunc.parametrize("state_backend", BACKENDS, indirect=True)


@pytest.fixture
def state_backend(request: pytest.FixtureRequest) -> str:
    """The state backend the test's environment keeps keyed state on."""
    return getattr(request, "param", "hashmap")


@pytest.fixture
def rocksdb_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A local directory for RocksDB stores; it must be empty again after the test (every store
    removes its files when its job, or the store, ends)."""
    directory = tmp_path_factory.mktemp("rocksdb")
    yield directory
    gc.collect()
    assert not list(directory.iterdir()), f"RocksDB files left behind: {list(directory.iterdir())}"


@pytest.fixture
def backend_dir(state_backend: str, request: pytest.FixtureRequest) -> Path | None:
    """``rocksdb_dir`` when the test runs on RocksDB."""
    return request.getfixturevalue("rocksdb_dir") if state_backend == "rocksdb" else None


def on_backend(environment: StreamExecutionEnvironment, directory: Path | None) -> StreamExecutionEnvironment:
    if directory is not None:
        environment.set_state_backend(EmbeddedRocksDBStateBackend(local_directory=directory, memory_budget="32mb"))
    return environment


@pytest.fixture
def env(parallelism: int, backend_dir: Path | None) -> Iterator[StreamExecutionEnvironment]:
    """A fresh environment with the default parallelism set to ``parallelism``, on the test's
    state backend."""
    environment = StreamExecutionEnvironment.get_execution_environment()
    environment.set_parallelism(parallelism)
    yield on_backend(environment, backend_dir)
    # The environment holds the pipeline's functions, and they their state: let both go before
    # the RocksDB directory is checked.
    environment._sinks.clear()


@pytest.fixture
def ff_env(backend_dir: Path | None) -> Iterator[StreamExecutionEnvironment]:
    """A fresh environment, parallelism 1, on the test's state backend."""
    environment = StreamExecutionEnvironment.get_execution_environment()
    yield on_backend(environment, backend_dir)
    environment._sinks.clear()


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
