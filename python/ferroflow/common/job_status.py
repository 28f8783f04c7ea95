"""``JobStatus``: where a job is, with Flink's names (``pyflink.common.JobStatus``)."""

from __future__ import annotations

from enum import Enum

__all__ = ["JobStatus"]


class JobStatus(Enum):
    """The status of a job. ferroflow's jobs are RUNNING, RESTARTING (after a failure, before
    the next attempt), CANCELLING, and end FINISHED, FAILED or CANCELED; the other names are
    Flink's, kept so that code comparing against them runs unchanged."""

    INITIALIZING = 0
    CREATED = 1
    RUNNING = 2
    FAILING = 3
    FAILED = 4
    CANCELLING = 5
    CANCELED = 6
    FINISHED = 7
    RESTARTING = 8
    SUSPENDED = 9
    RECONCILING = 10

    def is_globally_terminal_state(self) -> bool:
        """Whether the job has ended for good (finished, failed or canceled)."""
        return self in (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELED)

    def is_terminal_state(self) -> bool:
        """Whether the job has ended (including SUSPENDED, as in Flink)."""
        return self.is_globally_terminal_state() or self is JobStatus.SUSPENDED
