"""Progress bars for running jobs (tqdm), fed from the job's metrics.

The configuration key ``ferroflow.progress`` (``env.set_progress(...)``) is ``auto`` (the
default: a bar in a Jupyter kernel, none in pytest or a plain script), ``true`` or ``false``.
A bounded job whose sources know their size (``sourceRecordsTotal``) gets a bar that fills up
to it; other jobs show the records read and records/s. tqdm is optional: without it, ``auto``
shows nothing, and ``true`` raises an ImportError that says what to install.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["PROGRESS_KEY", "JobProgress", "ProgressIterator", "check_progress", "progress_for"]

PROGRESS_KEY = "ferroflow.progress"
_MODES = ("auto", "true", "false")
# The engine hands metrics every 0.5 s; a collecting iterator reads them no more often.
POLL_SECONDS = 0.5


def check_progress(value: Any) -> str:
    """``auto``, ``true`` or ``false`` from a bool or one of those strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.strip().lower() in _MODES:
        return value.strip().lower()
    raise ValueError(f"{PROGRESS_KEY} must be 'auto', 'true' or 'false' (or a bool), got {value!r}")


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel, outside pytest."""
    if "PYTEST_CURRENT_TEST" in os.environ or "ipykernel" not in sys.modules:
        return False
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None  # type: ignore[attr-defined]
    return shell is not None and getattr(shell, "kernel", None) is not None


def _tqdm_class(asked: bool) -> Any:
    try:
        from tqdm import std
    except ImportError as e:
        if asked:
            raise ImportError(
                f"{PROGRESS_KEY}=true needs tqdm, which is not installed: "
                "pip install 'ferroflow[notebook]' (or pip install tqdm)"
            ) from e
        return None
    try:  # a widget in notebooks that have ipywidgets, else text
        import ipywidgets  # noqa: F401
        from tqdm.notebook import tqdm as notebook_tqdm

        return notebook_tqdm if in_notebook() else std.tqdm
    except ImportError:
        return std.tqdm


def progress_for(mode: str, plan_json: Callable[[], str], description: str) -> JobProgress | None:
    """A progress bar for a job whose plan ``plan_json()`` gives, or None when ``mode`` says
    there is none."""
    if mode == "false" or (mode == "auto" and not in_notebook()):
        return None
    bar_class = _tqdm_class(asked=mode == "true")
    if bar_class is None:
        return None
    return JobProgress(bar_class, _source_tasks(plan_json()), description)


def _source_tasks(plan_json: str) -> set[str]:
    nodes = json.loads(plan_json).get("nodes", [])
    return {n.get("task", "") for n in nodes if n.get("pact") == "Data Source"}


class JobProgress:
    """One bar for one job: records read by its sources, out of ``sourceRecordsTotal`` when
    every source knows it. ``update(rows)`` takes the job's metrics rows; the bar appears with
    the first of them (so that it knows its total from the start)."""

    def __init__(self, bar_class: Any, source_tasks: set[str], description: str) -> None:
        self.source_tasks = source_tasks
        self.bar_class = bar_class
        self.description = description
        self.bar: Any = None
        self.started = time.time()

    def update(self, rows: list[dict[str, Any]]) -> None:
        sources = [r for r in rows if r.get("task") in self.source_tasks or r.get("sourceRecordsTotal") is not None]
        if not sources:
            return
        read = sum(int(r.get("numRecordsIn") or 0) for r in sources)
        if self.bar is None:
            totals = [r.get("sourceRecordsTotal") for r in sources]
            total = sum(int(t) for t in totals) if all(t is not None for t in totals) else None
            self.bar = self.bar_class(total=total, desc=self.description, unit=" records", unit_scale=True)
            # Times and rates from the job's start, not from the bar's.
            self.bar.start_t = self.bar.last_print_t = self.started
        if read > self.bar.n:
            self.bar.update(read - self.bar.n)
        elif read < self.bar.n:  # a restarted job reads again from its checkpoint
            self.bar.n = read
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class ProgressIterator:
    """The engine's collecting iterator with a bar: the job's metrics are read at most every
    ``POLL_SECONDS`` as results are taken, and once more at the end."""

    def __init__(self, inner: Any, progress: JobProgress) -> None:
        self._inner = inner
        self._progress: JobProgress | None = progress
        self._polled = time.monotonic()

    def __iter__(self) -> ProgressIterator:
        return self

    def __next__(self) -> Any:
        try:
            value = next(self._inner)
        except BaseException:
            self._finish()
            raise
        if self._progress is not None and time.monotonic() - self._polled >= POLL_SECONDS:
            self._polled = time.monotonic()
            self._progress.update(self._inner.metrics())
        return value

    def _finish(self) -> None:
        if self._progress is not None:
            progress, self._progress = self._progress, None
            progress.update(self._inner.metrics())
            progress.close()

    def metrics(self) -> list[dict[str, Any]]:
        return self._inner.metrics()

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._finish()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> bool:
        self.close()
        return False
