"""The warnings ferroflow gives its users (all ``UserWarning``s, so they show by default)."""

from __future__ import annotations

__all__ = ["DamagedCheckpointWarning", "DroppedTimersWarning"]


class DamagedCheckpointWarning(UserWarning):
    """A complete checkpoint cannot be restored from (a file of it is damaged or was written by
    another version of ferroflow), so ``latest_checkpoint`` passed over it."""


class DroppedTimersWarning(UserWarning):
    """An operator still had processing-time windows or timers pending when its bounded input
    ended: as in Flink, they did not fire, so their results are not in the job's output."""
