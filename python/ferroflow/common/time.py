"""Time spans and instants: ``Time``, ``Duration`` and ``Instant`` as in ``pyflink.common.time``.

PyFlink 2.x takes ``Time`` for window sizes, TTL and async timeouts and ``Duration`` for
watermark strategies and idleness; ferroflow accepts either (and ``datetime.timedelta`` or int
milliseconds) wherever a time span is taken.
"""

from __future__ import annotations

import functools
import math
import numbers
from fractions import Fraction
from typing import Any

__all__ = ["Duration", "Instant", "Time"]

_NANOS_PER_MILLI = 1_000_000
_NANOS_PER_SECOND = 1_000_000_000
_MILLIS_PER_SECOND = 1_000
_SECONDS_PER_MINUTE = 60
_SECONDS_PER_HOUR = 3_600
_SECONDS_PER_DAY = 86_400


def _scaled(value: Any, factor: int, name: str) -> int:
    """``value * factor`` as an int; floats are accepted and rounded to the nearest unit."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be an int or a float, got {value!r} ({type(value).__name__})"
        )
    if isinstance(value, numbers.Integral):
        return int(value) * factor
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return round(Fraction(value) * factor)


def _trunc_div(numerator: int, denominator: int) -> int:
    """Integer division rounding toward zero, like Java's ``/`` on longs."""
    quotient = abs(numerator) // denominator
    return quotient if numerator >= 0 else -quotient


@functools.total_ordering
class Time:
    """A time interval with millisecond precision (``pyflink.common.Time``).

    ``str(Time.seconds(5))`` is ``"5000 ms"``. Floats are accepted by the factories and rounded
    to whole milliseconds (``Time.seconds(1.5)`` is 1500 ms).
    """

    __slots__ = ("_milliseconds",)

    def __init__(self, milliseconds: int) -> None:
        self._milliseconds = _scaled(milliseconds, 1, "milliseconds")

    def to_milliseconds(self) -> int:
        """Returns the interval in milliseconds."""
        return self._milliseconds

    @staticmethod
    def milliseconds(milliseconds: float) -> Time:
        return Time(_scaled(milliseconds, 1, "milliseconds"))

    @staticmethod
    def seconds(seconds: float) -> Time:
        return Time(_scaled(seconds, _MILLIS_PER_SECOND, "seconds"))

    @staticmethod
    def minutes(minutes: float) -> Time:
        return Time(_scaled(minutes, _SECONDS_PER_MINUTE * _MILLIS_PER_SECOND, "minutes"))

    @staticmethod
    def hours(hours: float) -> Time:
        return Time(_scaled(hours, _SECONDS_PER_HOUR * _MILLIS_PER_SECOND, "hours"))

    @staticmethod
    def days(days: float) -> Time:
        return Time(_scaled(days, _SECONDS_PER_DAY * _MILLIS_PER_SECOND, "days"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Time):
            return NotImplemented
        return self._milliseconds == other._milliseconds

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Time):
            return NotImplemented
        return self._milliseconds < other._milliseconds

    def __hash__(self) -> int:
        return hash((Time, self._milliseconds))

    def __repr__(self) -> str:
        return f"Time.milliseconds({self._milliseconds})"

    def __str__(self) -> str:
        return f"{self._milliseconds} ms"

    def __reduce__(self) -> tuple[Any, ...]:
        return Time, (self._milliseconds,)


@functools.total_ordering
class Duration:
    """A time-based amount of time with nanosecond precision, like ``java.time.Duration``.

    ``str()`` gives the ISO-8601 form Java prints (``PT1M30S``); ``repr()`` gives a factory call.
    The factories also accept floats (``Duration.of_seconds(1.5)``), which PyFlink does not.
    """

    __slots__ = ("_nanos",)

    def __init__(self, nanos: int = 0) -> None:
        self._nanos = _scaled(nanos, 1, "nanos")

    @staticmethod
    def of_days(days: float) -> Duration:
        return Duration(_scaled(days, _SECONDS_PER_DAY * _NANOS_PER_SECOND, "days"))

    @staticmethod
    def of_hours(hours: float) -> Duration:
        return Duration(_scaled(hours, _SECONDS_PER_HOUR * _NANOS_PER_SECOND, "hours"))

    @staticmethod
    def of_minutes(minutes: float) -> Duration:
        return Duration(_scaled(minutes, _SECONDS_PER_MINUTE * _NANOS_PER_SECOND, "minutes"))

    @staticmethod
    def of_seconds(seconds: float) -> Duration:
        return Duration(_scaled(seconds, _NANOS_PER_SECOND, "seconds"))

    @staticmethod
    def of_millis(millis: float) -> Duration:
        return Duration(_scaled(millis, _NANOS_PER_MILLI, "millis"))

    @staticmethod
    def of_nanos(nanos: int) -> Duration:
        return Duration(_scaled(nanos, 1, "nanos"))

    def to_milliseconds(self) -> int:
        """Whole milliseconds, truncated toward zero (Java's ``Duration.toMillis()``)."""
        return _trunc_div(self._nanos, _NANOS_PER_MILLI)

    def to_nanos(self) -> int:
        """The exact length in nanoseconds."""
        return self._nanos

    def get_seconds(self) -> int:
        """Whole seconds, rounded toward negative infinity (Java's ``getSeconds()``)."""
        return self._nanos // _NANOS_PER_SECOND

    def get_nano(self) -> int:
        """Nanoseconds within the second, 0..999,999,999 (Java's ``getNano()``)."""
        return self._nanos % _NANOS_PER_SECOND

    def is_negative(self) -> bool:
        return self._nanos < 0

    def is_zero(self) -> bool:
        return self._nanos == 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Duration):
            return NotImplemented
        return self._nanos == other._nanos

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Duration):
            return NotImplemented
        return self._nanos < other._nanos

    def __hash__(self) -> int:
        return hash((Duration, self._nanos))

    def __repr__(self) -> str:
        if self._nanos % _NANOS_PER_MILLI == 0:
            return f"Duration.of_millis({self._nanos // _NANOS_PER_MILLI})"
        return f"Duration.of_nanos({self._nanos})"

    def __str__(self) -> str:
        if self._nanos == 0:
            return "PT0S"
        sign = "-" if self._nanos < 0 else ""
        total_seconds, nanos = divmod(abs(self._nanos), _NANOS_PER_SECOND)
        hours, rest = divmod(total_seconds, _SECONDS_PER_HOUR)
        minutes, seconds = divmod(rest, _SECONDS_PER_MINUTE)
        parts = ["PT"]
        if hours:
            parts.append(f"{sign}{hours}H")
        if minutes:
            parts.append(f"{sign}{minutes}M")
        if seconds or nanos or len(parts) == 1:
            text = f"{sign}{seconds}"
            if nanos:
                text += "." + f"{nanos:09d}".rstrip("0")
            parts.append(text + "S")
        return "".join(parts)

    def __reduce__(self) -> tuple[Any, ...]:
        return Duration, (self._nanos,)


class Instant:
    """A point on the time line as seconds and nanoseconds since the epoch (like Java's Instant).

    ``nanos`` is normalised into 0..999,999,999 (a negative or overflowing value moves
    ``seconds``), as ``Instant.ofEpochSecond(seconds, nanos)`` does in Java.
    """

    __slots__ = ("nanos", "seconds")

    def __init__(self, seconds: int, nanos: int) -> None:
        for name, value in (("seconds", seconds), ("nanos", nanos)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(
                    f"Instant {name} must be an int, got {value!r} ({type(value).__name__})"
                )
        extra_seconds, self.nanos = divmod(int(nanos), _NANOS_PER_SECOND)
        self.seconds = int(seconds) + extra_seconds

    def to_epoch_milli(self) -> int:
        """Milliseconds since the epoch, rounded toward negative infinity (Java semantics)."""
        return self.seconds * _MILLIS_PER_SECOND + self.nanos // _NANOS_PER_MILLI

    @staticmethod
    def of_epoch_milli(epoch_milli: int) -> Instant:
        if isinstance(epoch_milli, bool) or not isinstance(epoch_milli, numbers.Integral):
            raise TypeError(
                f"epoch_milli must be an int, got {epoch_milli!r} ({type(epoch_milli).__name__})"
            )
        seconds, millis = divmod(int(epoch_milli), _MILLIS_PER_SECOND)
        return Instant(seconds, millis * _NANOS_PER_MILLI)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Instant):
            return NotImplemented
        return self.seconds == other.seconds and self.nanos == other.nanos

    def __hash__(self) -> int:
        return hash((Instant, self.seconds, self.nanos))

    def __repr__(self) -> str:
        return f"Instant<{self.seconds}, {self.nanos}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return Instant, (self.seconds, self.nanos)
