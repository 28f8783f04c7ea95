"""``CheckpointingMode``: the consistency a checkpoint gives, as ``pyflink.datastream.CheckpointingMode``."""

from __future__ import annotations

from enum import Enum

__all__ = ["CheckpointingMode"]


class CheckpointingMode(Enum):
    """What a restored job has seen of each record.

    ``EXACTLY_ONCE`` (the default): a task with several input channels aligns the checkpoint
    barriers (it stops reading a channel that delivered barrier *n* until every channel has), so
    after a restore the state of each operator reflects every record exactly once.

    ``AT_LEAST_ONCE``: tasks do not align; a restore may replay records that the restored state
    already reflects, so counts can come out higher, never lower. Latency is lower under skew.

    Neither mode makes writes to external systems exactly-once by itself: that takes a sink that
    commits when a checkpoint completes.
    """

    EXACTLY_ONCE = 0
    AT_LEAST_ONCE = 1

    def _engine_name(self) -> str:
        """The name the engine's checkpoint plan uses: ``"exactly_once"`` or ``"at_least_once"``."""
        return self.name.lower()

    @staticmethod
    def _parse(text: str, key: str) -> CheckpointingMode:
        """The mode a configuration value names (``EXACTLY_ONCE``/``AT_LEAST_ONCE``, any case)."""
        name = text.strip().upper().replace("-", "_")
        if name not in CheckpointingMode.__members__:
            raise ValueError(
                f"configuration key {key!r}: {text!r} is not a checkpointing mode; "
                "expected EXACTLY_ONCE or AT_LEAST_ONCE"
            )
        return CheckpointingMode[name]
