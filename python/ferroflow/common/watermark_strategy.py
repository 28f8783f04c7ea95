"""Event time: ``WatermarkStrategy``, ``TimestampAssigner`` and ``WatermarkGenerator``, as in
``pyflink.common.watermark_strategy``.

A strategy says how each record gets its event timestamp (the timestamp assigner) and when
watermarks are emitted. Watermarks are emitted periodically (every auto-watermark interval of
wall-clock time, ``env.get_config().set_auto_watermark_interval(ms)``, default 200 ms) and, at the
end of a bounded input, ``MAX_LONG_VALUE``. ``with_per_record_emission()`` and
``for_generator(...)`` place watermarks exactly, for tests and examples.

Beyond PyFlink: any callable ``(value, record_timestamp) -> int`` is accepted as a timestamp
assigner; ``for_generator`` takes a Python watermark generator; ``with_idleness`` and
``with_watermark_alignment`` keep the timestamp assigner (PyFlink drops it); every time span is
accepted as ``Duration``, ``Time``, ``datetime.timedelta`` or int milliseconds.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from typing import Any, Callable

from ferroflow.common._durations import to_millis

__all__ = ["TimestampAssigner", "WatermarkGenerator", "WatermarkStrategy"]

_KINDS = ("monotonous", "bounded", "none", "generator")
_DEFAULT_ALIGNMENT_UPDATE_INTERVAL_MS = 1000


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} ({text})"


def _takes(call: Callable[..., Any], arguments: int) -> bool:
    """True when ``call`` accepts ``arguments`` positional arguments (or has no signature)."""
    try:
        signature = inspect.signature(call)
    except (TypeError, ValueError):
        return True
    try:
        signature.bind(*([None] * arguments))
    except TypeError:
        return False
    return True


class TimestampAssigner(ABC):
    """Gives each record its event timestamp, in milliseconds since the epoch.

    ``record_timestamp`` is the timestamp the record already carries, or
    ``MIN_LONG_VALUE`` (-9223372036854775808) when it has none, as in PyFlink.
    """

    @abstractmethod
    def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
        """The event timestamp of ``value`` (int milliseconds)."""


class WatermarkGenerator(ABC):
    """Decides when watermarks are emitted (beyond PyFlink, which only takes Java generators).

    One instance per parallel subtask is made by the factory given to
    ``WatermarkStrategy.for_generator``. A watermark that is not larger than the last one
    emitted is ignored.
    """

    @abstractmethod
    def on_event(self, value: Any, timestamp: int) -> int | None:
        """Called for every record after its timestamp is assigned; returns a watermark to emit
        right after this record, or None."""

    def on_periodic_emit(self) -> int | None:
        """Called every auto-watermark interval; returns a watermark to emit, or None."""
        return None


class WatermarkStrategy:
    """How records get event timestamps and how watermarks are generated.

    Create one with ``for_monotonous_timestamps()``, ``for_bounded_out_of_orderness(d)``,
    ``no_watermarks()`` or ``for_generator(factory)``, then refine it with
    ``with_timestamp_assigner``, ``with_idleness``, ``with_watermark_alignment`` and
    ``with_per_record_emission``.
    """

    __slots__ = (
        "_alignment",
        "_assigner",
        "_delay_ms",
        "_generator_factory",
        "_idleness_ms",
        "_kind",
        "_per_record",
        "_timestamp_assigner",
    )

    def __init__(self, kind: str, delay_ms: int = 0, generator_factory: Callable[[], Any] | None = None) -> None:
        """Use the factory methods (``for_monotonous_timestamps()`` and so on) instead."""
        if kind not in _KINDS:
            raise TypeError(
                "a WatermarkStrategy is made with WatermarkStrategy.for_monotonous_timestamps(), "
                "for_bounded_out_of_orderness(...), no_watermarks() or for_generator(...); "
                f"got WatermarkStrategy({_describe(kind)})"
            )
        self._kind = kind
        self._delay_ms = delay_ms
        self._generator_factory = generator_factory
        self._timestamp_assigner: Any = None
        self._assigner: Callable[[Any, int], int] | None = None
        self._idleness_ms: int | None = None
        self._per_record = False
        self._alignment: tuple[str, int, int] | None = None

    def _copy(self) -> WatermarkStrategy:
        other = WatermarkStrategy(self._kind, self._delay_ms, self._generator_factory)
        other._timestamp_assigner = self._timestamp_assigner
        other._assigner = self._assigner
        other._idleness_ms = self._idleness_ms
        other._per_record = self._per_record
        other._alignment = self._alignment
        return other

    # -- factories ------------------------------------------------------------------------------

    @staticmethod
    def for_monotonous_timestamps() -> WatermarkStrategy:
        """For ascending timestamps: the watermark is the largest timestamp seen minus 1 ms."""
        return WatermarkStrategy("monotonous", 0)

    @staticmethod
    def for_bounded_out_of_orderness(max_out_of_orderness: Any) -> WatermarkStrategy:
        """For records at most ``max_out_of_orderness`` late: the watermark is the largest
        timestamp seen minus ``max_out_of_orderness`` minus 1 ms. Takes a Duration, Time,
        timedelta or int milliseconds."""
        delay = to_millis(max_out_of_orderness, "max_out_of_orderness")
        if delay < 0:
            raise ValueError(f"max_out_of_orderness must not be negative, got {delay} ms")
        return WatermarkStrategy("bounded", delay)

    @staticmethod
    def no_watermarks() -> WatermarkStrategy:
        """Emits no watermarks (only the final one at the end of a bounded input)."""
        return WatermarkStrategy("none", 0)

    @staticmethod
    def for_generator(factory: Callable[[], WatermarkGenerator]) -> WatermarkStrategy:
        """Watermarks from a ``WatermarkGenerator``: ``factory()`` makes one per parallel subtask
        (a WatermarkGenerator subclass itself is a valid factory). Beyond PyFlink."""
        if isinstance(factory, WatermarkGenerator) and not callable(factory):
            raise TypeError(
                "for_generator() takes a factory that makes a WatermarkGenerator, not a generator "
                f"instance: pass lambda: {type(factory).__name__}(...) or the class itself"
            )
        if not callable(factory):
            raise TypeError(
                f"for_generator() takes a callable returning a WatermarkGenerator, got {_describe(factory)}"
            )
        if not _takes(factory, 0):
            raise TypeError(f"for_generator(): the factory {_describe(factory)} must be callable with no arguments")
        return WatermarkStrategy("generator", 0, factory)

    # -- refinements ----------------------------------------------------------------------------

    def with_timestamp_assigner(
        self, timestamp_assigner: TimestampAssigner | Callable[[Any, int], int]
    ) -> WatermarkStrategy:
        """Sets how records get their timestamps: a TimestampAssigner, or a callable
        ``(value, record_timestamp) -> int``. Changes this strategy and returns it (as PyFlink)."""
        if isinstance(timestamp_assigner, type):
            raise TypeError(
                "with_timestamp_assigner() expects a TimestampAssigner instance or a callable, but got "
                f"the class {timestamp_assigner.__name__}: pass an instance, {timestamp_assigner.__name__}()"
            )
        method = getattr(timestamp_assigner, "extract_timestamp", None)
        if callable(method):
            call = method
        elif callable(timestamp_assigner):
            call = timestamp_assigner
        else:
            raise TypeError(
                "with_timestamp_assigner() expects a TimestampAssigner instance or a callable "
                f"(value, record_timestamp) -> int, got {_describe(timestamp_assigner)}"
            )
        if not _takes(call, 2):
            raise TypeError(
                f"with_timestamp_assigner(): {_describe(timestamp_assigner)} must take two arguments "
                "(the value and its current record timestamp)"
            )
        self._timestamp_assigner = timestamp_assigner
        self._assigner = call
        return self

    def with_idleness(self, idle_timeout: Any) -> WatermarkStrategy:
        """A new strategy that marks the stream idle after ``idle_timeout`` (Duration, Time,
        timedelta or int ms) without records, so it does not hold back downstream watermarks.
        Unlike PyFlink, the timestamp assigner is kept."""
        millis = to_millis(idle_timeout, "idle_timeout")
        if millis <= 0:
            raise ValueError(f"idle_timeout must be greater than zero, got {millis} ms")
        other = self._copy()
        other._idleness_ms = millis
        return other

    def with_watermark_alignment(
        self, watermark_group: str, max_allowed_watermark_drift: Any, update_interval: Any = None
    ) -> WatermarkStrategy:
        """PyFlink's watermark alignment, accepted so that programs using it run: in Flink,
        sources in ``watermark_group`` pause when more than ``max_allowed_watermark_drift``
        ahead of the group, which bounds how much window state a fast source makes the others
        keep. ferroflow does not pause sources yet; results are the same either way (alignment
        only changes when records are read). Unlike PyFlink, the timestamp assigner is kept."""
        if not isinstance(watermark_group, str):
            raise TypeError(f"watermark_group must be a str, got {_describe(watermark_group)}")
        if not watermark_group:
            raise ValueError("watermark_group must not be empty")
        drift = to_millis(max_allowed_watermark_drift, "max_allowed_watermark_drift")
        if drift < 0:
            raise ValueError(f"max_allowed_watermark_drift must not be negative, got {drift} ms")
        if update_interval is None:
            interval = _DEFAULT_ALIGNMENT_UPDATE_INTERVAL_MS
        else:
            interval = to_millis(update_interval, "update_interval")
            if interval <= 0:
                raise ValueError(f"update_interval must be greater than zero, got {interval} ms")
        other = self._copy()
        other._alignment = (watermark_group, drift, interval)
        return other

    def with_per_record_emission(self) -> WatermarkStrategy:
        """A new strategy that emits its watermark after every record instead of every
        auto-watermark interval (a generator's ``on_periodic_emit`` is then called after every
        record). Beyond PyFlink: makes watermark placement exact, for tests and examples."""
        other = self._copy()
        other._per_record = True
        return other

    # -- for the engine -------------------------------------------------------------------------

    def _engine_spec(self) -> tuple[Any, ...]:
        """``(kind, delay_ms, assigner, idleness_ms, per_record, generator_factory)``.

        kind is "monotonous", "bounded", "none" or "generator"; the bounded (and monotonous,
        delay 0) watermark is ``max_timestamp - delay_ms - 1``; assigner is a callable
        ``(value, record_timestamp) -> int`` or None (keep the records' timestamps).
        """
        return (
            self._kind,
            self._delay_ms,
            self._assigner,
            self._idleness_ms,
            self._per_record,
            self._generator_factory,
        )

    def __repr__(self) -> str:
        if self._kind == "monotonous":
            text = "WatermarkStrategy.for_monotonous_timestamps()"
        elif self._kind == "bounded":
            text = f"WatermarkStrategy.for_bounded_out_of_orderness({self._delay_ms} ms)"
        elif self._kind == "none":
            text = "WatermarkStrategy.no_watermarks()"
        else:
            text = f"WatermarkStrategy.for_generator({self._generator_factory!r})"
        if self._timestamp_assigner is not None:
            text += f".with_timestamp_assigner({self._timestamp_assigner!r})"
        if self._idleness_ms is not None:
            text += f".with_idleness({self._idleness_ms} ms)"
        if self._alignment is not None:
            group, drift, interval = self._alignment
            text += f".with_watermark_alignment({group!r}, {drift} ms, {interval} ms)"
        if self._per_record:
            text += ".with_per_record_emission()"
        return text
