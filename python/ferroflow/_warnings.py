"""The warnings ferroflow gives its users (all ``UserWarning``s, so they show by default)."""

from __future__ import annotations

__all__ = ["DamagedCheckpointWarning", "DroppedTimersWarning", "StuckTaskWarning"]


class DamagedCheckpointWarning(UserWarning):
    """A complete checkpoint cannot be restored from (a file of it is damaged or was written by
    another version of ferroflow), so ``latest_checkpoint`` passed over it."""


class StuckTaskWarning(UserWarning):
    """A task of a cancelled or failed job was still in a user function (blocked on a queue, a
    socket, a sleep, ...) when the cancellation timeout (``task.cancellation.timeout``) passed.
    The job ended anyway; the task's thread ends on its own once that call returns. The
    message names the task and shows its Python stack."""


class DroppedTimersWarning(UserWarning):
    """An operator still had processing-time windows or timers pending when its bounded input
    ended: as in Flink, they did not fire, so their results are not in the job's output."""
