"""Testing helpers for pipelines: ``TestHarness`` runs a pipeline by hand with manual time; the
pytest plugin provides fresh-environment fixtures (``ff_env``, ``ff_harness``)."""

from ferroflow.testing.harness import TestHarness, TestOutput, TestSource

__all__ = ["TestHarness", "TestOutput", "TestSource"]
