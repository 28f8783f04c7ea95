"""RuntimeExecutionMode: STREAMING (the default), BATCH or AUTOMATIC, as in Flink.

In BATCH mode a bounded job runs with batch semantics: a keyed ``reduce`` or ``sum``/``min``/
``max``/``min_by``/``max_by`` emits only each key's final value, when the input ends (in the
order the keys first arrived); no periodic watermarks are emitted, so event-time windows and
timers fire at the end of the input; checkpointing is off. AUTOMATIC is BATCH when every
source of the job is bounded, else STREAMING.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ferroflow.datastream._transformations import Transformation

__all__ = ["RuntimeExecutionMode"]


class RuntimeExecutionMode(Enum):
    STREAMING = 0
    BATCH = 1
    AUTOMATIC = 2


def parse_mode(value: Any, where: str) -> RuntimeExecutionMode:
    """``value`` (a RuntimeExecutionMode or its name, any case) as a RuntimeExecutionMode."""
    if isinstance(value, RuntimeExecutionMode):
        return value
    if isinstance(value, str) and value.strip().upper() in RuntimeExecutionMode.__members__:
        return RuntimeExecutionMode[value.strip().upper()]
    raise ValueError(
        f"{where} takes RuntimeExecutionMode.STREAMING, BATCH or AUTOMATIC "
        f"(or 'streaming', 'batch', 'automatic'), got {value!r}"
    )


def _is_bounded(t: Transformation) -> bool:
    if t.kind == "file_source":
        return t.payload.monitor_interval_ms is None
    if t.kind == "source":
        return t.source_kind in ("collection", "sequence")
    return True


def runs_as_batch(mode: RuntimeExecutionMode, plan: list[Transformation]) -> bool:
    """Whether a job of the transformations ``plan`` runs with batch semantics in ``mode``."""
    if mode is RuntimeExecutionMode.AUTOMATIC:
        return all(_is_bounded(t) for t in plan)
    return mode is RuntimeExecutionMode.BATCH
