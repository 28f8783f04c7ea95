"""The warnings ferroflow gives its users (all ``UserWarning``s, so they show by default)."""

from __future__ import annotations

__all__ = ["DamagedCheckpointWarning"]


class DamagedCheckpointWarning(UserWarning):
    """A complete checkpoint cannot be restored from (a file of it is damaged or was written by
    another version of ferroflow), so ``latest_checkpoint`` passed over it."""

