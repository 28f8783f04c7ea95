"""``ExternalizedCheckpointRetention``: what happens to a job's checkpoints when it ends.

The Flink 1.x name ``ExternalizedCheckpointCleanup`` is the same class.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["ExternalizedCheckpointCleanup", "ExternalizedCheckpointRetention"]


class ExternalizedCheckpointRetention(Enum):
    """Whether a job's checkpoint files are kept after the job stops (Flink's rules).

    ``NO_EXTERNALIZED_CHECKPOINTS`` (the default, as in Flink 2.x): checkpoints only serve the
    restarts of the running job; they are deleted when the job stops, however it stops.

    ``DELETE_ON_CANCELLATION``: kept when the job fails (so it can be resumed from the last one
    with ``execution.state-recovery.path``), deleted when it finishes or is cancelled.

    ``RETAIN_ON_CANCELLATION``: kept whenever the job stops, also when it is cancelled (Ctrl-C) or
    finishes. Delete them yourself when no longer needed.

    In every case only the newest ``execution.checkpointing.num-retained`` completed checkpoints
    (default 1) are kept while the job runs.
    """

    DELETE_ON_CANCELLATION = 0
    RETAIN_ON_CANCELLATION = 1
    NO_EXTERNALIZED_CHECKPOINTS = 2

    def _engine_name(self) -> str:
        """The name the engine's checkpoint plan uses, e.g. ``"retain_on_cancellation"``."""
        return self.name.lower()

    @staticmethod
    def _parse(text: str, key: str) -> ExternalizedCheckpointRetention:
        """The retention a configuration value names (the member names, any case)."""
        name = text.strip().upper().replace("-", "_")
        if name not in ExternalizedCheckpointRetention.__members__:
            raise ValueError(
                f"configuration key {key!r}: {text!r} is not a retention; expected "
                "DELETE_ON_CANCELLATION, RETAIN_ON_CANCELLATION or NO_EXTERNALIZED_CHECKPOINTS"
            )
        return ExternalizedCheckpointRetention[name]


#: The Flink 1.x name of :class:`ExternalizedCheckpointRetention`.
ExternalizedCheckpointCleanup = ExternalizedCheckpointRetention
