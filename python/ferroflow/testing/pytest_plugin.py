"""pytest fixtures for ferroflow pipelines. Installed with ferroflow and loaded by pytest
automatically (entry point ``pytest11``); or list ``"ferroflow.testing.pytest_plugin"`` in
``pytest_plugins``.

- ``ff_env``: a fresh StreamExecutionEnvironment per test (parallelism 1).
- ``ff_harness``: a fresh TestHarness per test, closed afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ferroflow.datastream import StreamExecutionEnvironment
from ferroflow.testing.harness import TestHarness


@pytest.fixture
def ff_env() -> StreamExecutionEnvironment:
    """A fresh environment, parallelism 1."""
    return StreamExecutionEnvironment.get_execution_environment()


@pytest.fixture
def ff_harness(ff_env: StreamExecutionEnvironment) -> Iterator[TestHarness]:
    """A TestHarness on a fresh environment; its operators are closed after the test."""
    harness = TestHarness(ff_env)
    yield harness
    harness.close()
