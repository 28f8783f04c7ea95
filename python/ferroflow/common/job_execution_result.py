"""``JobExecutionResult``: what ``env.execute()`` returns once a job has finished."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["JobExecutionResult"]


class JobExecutionResult:
    """The id, name, run time and accumulator values of a finished job.

    The job id is a 32-digit hex string (PyFlink returns a ``JobID`` object whose ``str()``
    is that string).
    """

    __slots__ = (
        "_accumulators",
        "_checkpoints",
        "_job_id",
        "_job_name",
        "_metrics",
        "_metrics_history",
        "_net_runtime_ms",
        "_restarts",
        "_task_metrics",
    )

    def __init__(
        self,
        job_id: str,
        job_name: str,
        net_runtime_ms: int,
        accumulators: Mapping[str, Any] | None = None,
        task_metrics: list[dict[str, Any]] | None = None,
        checkpoints: list[dict[str, Any]] | None = None,
        restarts: int = 0,
        metrics: list[dict[str, Any]] | None = None,
        metrics_history: list[dict[str, Any]] | None = None,
    ) -> None:
        if not isinstance(job_id, str):
            raise TypeError(f"job_id must be a str, got {job_id!r} ({type(job_id).__name__})")
        if not isinstance(job_name, str):
            raise TypeError(
                f"job_name must be a str, got {job_name!r} ({type(job_name).__name__})"
            )
        if isinstance(net_runtime_ms, bool) or not isinstance(net_runtime_ms, numbers.Integral):
            raise TypeError(
                f"net_runtime_ms must be an int, got {net_runtime_ms!r} "
                f"({type(net_runtime_ms).__name__})"
            )
        if net_runtime_ms < 0:
            raise ValueError(f"net_runtime_ms must not be negative, got {net_runtime_ms}")
        self._job_id = job_id
        self._job_name = job_name
        self._net_runtime_ms = int(net_runtime_ms)
        self._accumulators: dict[str, Any] = dict(accumulators or {})
        self._task_metrics: list[dict[str, Any]] = list(task_metrics or [])
        self._checkpoints: list[dict[str, Any]] = list(checkpoints or [])
        self._restarts = int(restarts)
        self._metrics: list[dict[str, Any]] = list(metrics or [])
        self._metrics_history: list[dict[str, Any]] = list(metrics_history or [])

    @classmethod
    def from_summary(cls, job_name: str, summary: Mapping[str, Any]) -> JobExecutionResult:
        """The result of a job from the engine's summary of it."""
        return cls(
            summary["job_id"],
            job_name,
            int(summary["net_runtime_ms"]),
            task_metrics=summary["tasks"],
            checkpoints=summary.get("checkpoints") or [],
            restarts=int(summary.get("restarts", 0)),
            metrics=summary.get("metrics") or [],
            metrics_history=summary.get("metrics_history") or [],
        )

    @classmethod
    def attach_to(cls, error: BaseException, job_name: str) -> BaseException:
        """Gives the error a failed job raised its ``job_result``: the job's figures up to the
        failure (its metrics and their history, its checkpoints), from the engine's summary
        that the error carries. Returns the error."""
        summary = getattr(error, "_ferroflow_summary", None)
        if summary is not None and getattr(error, "job_result", None) is None:
            try:
                error.job_result = cls.from_summary(job_name, summary)  # type: ignore[attr-defined]
            except (AttributeError, TypeError):
                pass  # an exception that takes no attributes
        return error

    def get_job_id(self) -> str:
        return self._job_id

    def get_job_name(self) -> str:
        return self._job_name

    def get_net_runtime(self) -> int:
        """The job's run time in milliseconds."""
        return self._net_runtime_ms

    def get_accumulator_result(self, accumulator_name: str) -> Any:
        """The final value of the named accumulator, or None if there is none."""
        return self._accumulators.get(accumulator_name)

    def get_all_accumulator_results(self) -> dict[str, Any]:
        """All accumulator values by name (a copy)."""
        return dict(self._accumulators)

    def get_task_metrics(self) -> list[dict[str, Any]]:
        """What each parallel task did: ``task``, ``subtask``, ``records_in``, ``records_out``,
        ``batches_out``, ``backpressured_ms`` (time spent waiting for a slower downstream task)
        ``counters`` (its operators' counters by name, e.g. ``numLateRecordsDropped``) and
        ``dropped_at_end`` (by operator name, the ``windows`` and ``timers`` of processing time
        still pending when the bounded input ended, which never fired)."""
        return [dict(m) for m in self._task_metrics]

    def get_counter(self, name: str) -> int:
        """An operator counter (e.g. ``numLateRecordsDropped``) summed over every task."""
        return sum(int(m.get("counters", {}).get(name, 0)) for m in self._task_metrics)

    def get_metrics(self) -> list[dict[str, Any]]:
        """The job's live metrics as last read, one dict per task and subtask (the rows of
        ``JobClient.metrics()``; empty with ``ferroflow.metrics.enabled: false``)."""
        return [dict(m) for m in self._metrics]

    def get_metrics_history(self) -> list[dict[str, Any]]:
        """The job's metrics over time: the rows of ``get_metrics()`` at every sample, each with
        its ``time`` (Unix seconds) and ``run`` (0, then one more per restart)."""
        return [dict(m) for m in self._metrics_history]

    def metrics_history(self) -> pd.DataFrame:
        """``get_metrics_history()`` as a pandas DataFrame, as ``JobClient.metrics_history()``
        gives it (``time`` as datetimes). Needs pandas."""
        from ferroflow._pandas import metrics_to_frame

        return metrics_to_frame(self._metrics_history, "JobExecutionResult.metrics_history()")

    def get_checkpoints(self) -> list[dict[str, Any]]:
        """Statistics of the job's completed checkpoints, oldest first (Flink's checkpoint
        statistics): ``id``, ``trigger_timestamp`` (ms since the epoch),
        ``end_to_end_duration_ms``, ``state_size`` (bytes the checkpoint holds),
        ``checkpointed_size`` (bytes it added: less than ``state_size`` when incremental),
        ``alignment_duration_ms`` and ``external_path`` (its directory, None once removed).
        Empty when the job did not checkpoint."""
        return [dict(c) for c in self._checkpoints]

    def get_restarts(self) -> int:
        """How many times the job restarted after a failure (its restart strategy)."""
        return self._restarts

    def is_job_execution_result(self) -> bool:
        return True

    def get_job_execution_result(self) -> JobExecutionResult:
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JobExecutionResult):
            return NotImplemented
        return (
            self._job_id == other._job_id
            and self._job_name == other._job_name
            and self._net_runtime_ms == other._net_runtime_ms
            and self._accumulators == other._accumulators
        )

    def __repr__(self) -> str:
        return (
            f"JobExecutionResult(job_id={self._job_id!r}, job_name={self._job_name!r}, "
            f"net_runtime={self._net_runtime_ms} ms, accumulators={self._accumulators!r})"
        )
