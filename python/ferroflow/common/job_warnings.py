"""Warnings a job gives when it ends: what a user should know although the job did not fail."""

from __future__ import annotations

__all__ = ["StuckTaskWarning"]


class StuckTaskWarning(RuntimeWarning):
    """A task of a cancelled or failed job was still in a user function (blocked on a queue, a
    socket, a sleep, ...) when the cancellation timeout (``task.cancellation.timeout``) passed.
    The job ended anyway; the task's thread ends on its own once that call returns. The
    message names the task and shows its Python stack."""
