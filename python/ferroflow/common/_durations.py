"""Internal: normalise the time-span spellings users write into int milliseconds."""

from __future__ import annotations

import datetime
import numbers
import re
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


# Flink's duration units (``TimeUtils``): each unit's labels, singular and plural, and its length
# in nanoseconds.
_UNITS_NS: dict[str, int] = {}
for _labels, _ns in (
    (("d", "day", "days"), 86_400_000_000_000),
    (("h", "hour", "hours"), 3_600_000_000_000),
    (("min", "m", "minute", "minutes", "mins"), 60_000_000_000),
    (("s", "sec", "secs", "second", "seconds"), 1_000_000_000),
    (("ms", "milli", "millis", "millisecond", "milliseconds"), 1_000_000),
    (("us", "\u00b5s", "micro", "micros", "microsecond", "microseconds"), 1_000),
    (("ns", "nano", "nanos", "nanosecond", "nanoseconds"), 1),
):
    for _label in _labels:
        _UNITS_NS[_label] = _ns


def parse_millis(text: str, what: str) -> int:
    """A Flink duration string as int milliseconds: ``"10 s"``, ``"1 min"``, ``"500ms"``, ``"2h"``,
    or a plain number of milliseconds (``"100"``). ``what`` names the setting in error messages.

    Units are Flink's (``d``, ``h``, ``min``/``m``, ``s``, ``ms``, ``us``, ``ns`` and their long
    forms), in any case; sub-millisecond amounts are truncated. A leading minus sign is read (some
    settings take ``-1``); callers check the sign.
    """
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a duration string such as '10 s', got {text!r} ({type(text).__name__})")
    match = re.fullmatch(r"\s*(-?\d+)\s*([^\d\s]*)\s*", text)
    unit = match.group(2).lower() if match else ""
    if match is None or (unit and unit not in _UNITS_NS):
        raise ValueError(
            f"{what}: cannot read {text!r} as a duration; expected a number and a unit, "
            "such as '500 ms', '10 s', '1 min', '2 h', or a plain number of milliseconds"
        )
    nanos = int(match.group(1)) * _UNITS_NS.get(unit, 1_000_000)
    return nanos // 1_000_000 if nanos >= 0 else -(-nanos // 1_000_000)
