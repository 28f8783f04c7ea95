"""Internal: how a job's tasks run, from its configuration: how long stopping tasks get
(``task.cancellation.timeout``) and how much data may be in flight on each channel between two
tasks (``ferroflow.network.memory-per-channel``)."""

from __future__ import annotations

from dataclasses import dataclass

from ferroflow.common._durations import parse_millis
from ferroflow.common.configuration import Configuration
from ferroflow.datastream.state_backend import parse_memory_size

__all__ = ["CANCELLATION_TIMEOUT", "CHANNEL_MEMORY", "RuntimeSpec", "runtime_spec"]

#: Flink's key: how long a cancelled or failed job waits for tasks stuck in user code.
CANCELLATION_TIMEOUT = "task.cancellation.timeout"
#: ferroflow's key: the bytes of records in flight per channel between two tasks.
CHANNEL_MEMORY = "ferroflow.network.memory-per-channel"

DEFAULT_CANCELLATION_TIMEOUT_MS = 5_000
DEFAULT_CHANNEL_MEMORY = 4 << 20


@dataclass(frozen=True)
class RuntimeSpec:
    """``cancellation_timeout_ms``: None to wait as long as stuck tasks take (Flink's 0).
    ``channel_bytes``: the budget of each channel in bytes."""

    cancellation_timeout_ms: int | None
    channel_bytes: int


def runtime_spec(conf: Configuration) -> RuntimeSpec:
    """The runtime settings of ``conf``; a value that cannot be read is refused here, naming
    its key."""
    timeout: int | None = DEFAULT_CANCELLATION_TIMEOUT_MS
    if conf.contains_key(CANCELLATION_TIMEOUT):
        text = conf.get_string(CANCELLATION_TIMEOUT, "") or ""
        millis = parse_millis(text, f"configuration key {CANCELLATION_TIMEOUT!r}")
        if millis < 0:
            raise ValueError(
                f"configuration key {CANCELLATION_TIMEOUT!r} must be a duration of at least 0 "
                f"(0: wait as long as stuck tasks take), got {text!r}"
            )
        timeout = millis or None
    channel_bytes = DEFAULT_CHANNEL_MEMORY
    if conf.contains_key(CHANNEL_MEMORY):
        text = conf.get_string(CHANNEL_MEMORY, "") or ""
        try:
            channel_bytes = parse_memory_size(text)
        except (TypeError, ValueError) as e:
            raise ValueError(f"configuration key {CHANNEL_MEMORY!r}: {e}") from None
    return RuntimeSpec(timeout, channel_bytes)
