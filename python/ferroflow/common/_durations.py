"""Internal: normalise the time-span spellings users write into int milliseconds."""

from __future__ import annotations

import datetime
import numbers
from typing import Any

from ferroflow.common.time import Duration, Time

__all__: list[str] = []

_ACCEPTED = "Time, Duration, datetime.timedelta or int (milliseconds)"


def to_millis(value: Any, what: str) -> int:
    """Returns ``value`` as int milliseconds; ``what`` names the argument in error messages.

    Accepts ``Time``, ``Duration`` (truncated toward zero to whole ms), ``datetime.timedelta``
    (likewise) and ints, including numpy integers, but not bools. Sign is not checked: callers
    decide whether zero or negative spans make sense.
    """
    if isinstance(value, Time):
        return value.to_milliseconds()
    if isinstance(value, Duration):
        return value.to_milliseconds()
    if isinstance(value, datetime.timedelta):
        micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
        millis = abs(micros) // 1_000
        return millis if micros >= 0 else -millis
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    raise TypeError(
        f"{what} must be a {_ACCEPTED}, got {value!r} of type {type(value).__name__}"
    )
