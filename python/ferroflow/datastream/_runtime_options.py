"""Internal: how a job's tasks run, from its configuration: how long stopping tasks get
(``task.cancellation.timeout``), how much data may be in flight on each channel between two
tasks (``ferroflow.network.memory-per-channel``), and whether and how often metrics are kept
(``ferroflow.metrics.enabled``, ``ferroflow.metrics.history-interval``)."""

from __future__ import annotations

from dataclasses import dataclass

from ferroflow.common._durations import parse_millis
from ferroflow.common.configuration import Configuration
from ferroflow.datastream.state_backend import parse_memory_size

__all__ = [
    "CANCELLATION_TIMEOUT",
    "CHANNEL_MEMORY",
    "METRICS_ENABLED",
    "METRICS_HISTORY_INTERVAL",
    "RuntimeSpec",
    "runtime_spec",
]

#: Flink's key: how long a cancelled or failed job waits for tasks stuck in user code.
CANCELLATION_TIMEOUT = "task.cancellation.timeout"
#: ferroflow's key: the bytes of records in flight per channel between two tasks.
CHANNEL_MEMORY = "ferroflow.network.memory-per-channel"
#: ferroflow's key: whether tasks keep live metrics (default true).
METRICS_ENABLED = "ferroflow.metrics.enabled"
#: ferroflow's key: how often the metrics history is sampled (default 500 ms).
METRICS_HISTORY_INTERVAL = "ferroflow.metrics.history-interval"

DEFAULT_CANCELLATION_TIMEOUT_MS = 5_000
DEFAULT_CHANNEL_MEMORY = 4 << 20
DEFAULT_METRICS_INTERVAL_MS = 500


@dataclass(frozen=True)
class RuntimeSpec:
    """``cancellation_timeout_ms``: None to wait as long as stuck tasks take (Flink's 0).
    ``channel_bytes``: the budget of each channel in bytes. ``metrics_enabled``: whether tasks
    keep live metrics; ``metrics_interval_ms``: how often the history is sampled."""

    cancellation_timeout_ms: int | None
    channel_bytes: int
    metrics_enabled: bool = True
    metrics_interval_ms: int = DEFAULT_METRICS_INTERVAL_MS


def _duration_ms(conf: Configuration, key: str, default: int, minimum: int, meaning: str) -> int:
    """The duration under ``key`` in milliseconds (``default`` when unset), refused below
    ``minimum`` with ``meaning`` in the message."""
    if not conf.contains_key(key):
        return default
    text = conf.get_string(key, "") or ""
    millis = parse_millis(text, f"configuration key {key!r}")
    if millis < minimum:
        raise ValueError(f"configuration key {key!r} must be {meaning}, got {text!r}")
    return millis


def runtime_spec(conf: Configuration) -> RuntimeSpec:
    """The runtime settings of ``conf``; a value that cannot be read is refused here, naming
    its key."""
    timeout = (
        _duration_ms(
            conf,
            CANCELLATION_TIMEOUT,
            DEFAULT_CANCELLATION_TIMEOUT_MS,
            0,
            "a duration of at least 0 (0: wait as long as stuck tasks take)",
        )
        or None
    )
    channel_bytes = DEFAULT_CHANNEL_MEMORY
    if conf.contains_key(CHANNEL_MEMORY):
        text = conf.get_string(CHANNEL_MEMORY, "") or ""
        try:
            channel_bytes = parse_memory_size(text)
        except (TypeError, ValueError) as e:
            raise ValueError(f"configuration key {CHANNEL_MEMORY!r}: {e}") from None
    enabled = True
    if conf.contains_key(METRICS_ENABLED):
        text = (conf.get_string(METRICS_ENABLED, "") or "").strip().lower()
        if text not in ("true", "false"):
            raise ValueError(f"configuration key {METRICS_ENABLED!r} must be true or false, got {text!r}")
        enabled = text == "true"
    interval = _duration_ms(conf, METRICS_HISTORY_INTERVAL, DEFAULT_METRICS_INTERVAL_MS, 10, "at least 10 ms")
    return RuntimeSpec(timeout, channel_bytes, enabled, interval)
