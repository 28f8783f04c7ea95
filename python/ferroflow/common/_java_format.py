"""Internal: render Python values the way Java's ``toString()`` shows the matching Java value.

Used by ``TypeInformation.format_value`` so that ``print()`` output matches PyFlink's, where
typed records are printed by the JVM.
"""

from __future__ import annotations

import datetime
import math
import numbers
import struct
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ferroflow.common.time import Instant
from ferroflow.common.types import Row

__all__: list[str] = []

def wrap_int(value: int, bits: int) -> int:
    """Two's-complement wrap-around of ``value`` to a signed integer of ``bits`` bits."""
    mask = (1 << bits) - 1
    value &= mask
    return value - (1 << bits) if value >> (bits - 1) else value


def to_float32(value: float) -> float:
    """Rounds a double to the nearest float32 (as Java's ``(float)`` cast does)."""
    try:
        return struct.unpack(">f", struct.pack(">f", value))[0]
    except OverflowError:
        return math.copysign(math.inf, value)


def _digits_and_exponent(text: str) -> tuple[str, int]:
    """Decimal digits (no leading/trailing zeros) and the exponent of the first digit."""
    _, digit_tuple, exponent = Decimal(text).as_tuple()
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    stripped = digits.rstrip("0")
    exponent = int(exponent) + (len(digits) - len(stripped))
    return stripped, exponent + len(stripped) - 1


def _java_layout(negative: bool, digits: str, sci: int) -> str:
    """Lays out shortest digits as Java's Double/Float.toString: plain in [1e-3, 1e7)."""
    sign = "-" if negative else ""
    if -3 <= sci < 7:
        if sci >= 0:
            integer = digits[: sci + 1].ljust(sci + 1, "0")
            fraction = digits[sci + 1 :] or "0"
        else:
            integer = "0"
            fraction = "0" * (-sci - 1) + digits
        return f"{sign}{integer}.{fraction}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{sci}"


def _special(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"


def java_double(value: float) -> str:
    """``Double.toString``: ``1.0``, ``1.0E-5``, ``1.0E20``, ``Infinity``, ``NaN``."""
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return _special(value)
    digits, sci = _digits_and_exponent(repr(abs(value)))
    return _java_layout(value < 0, digits, sci)


def java_float(value: float) -> str:
    """``Float.toString`` of ``value`` rounded to float32 (shortest round-trip digits)."""
    single = to_float32(float(value))
    if single == 0 or not math.isfinite(single):
        return _special(single)
    magnitude = abs(single)
    for precision in range(9):
        text = f"{magnitude:.{precision}e}"
        if to_float32(float(text)) == magnitude:
            break
    digits, sci = _digits_and_exponent(text)
    return _java_layout(single < 0, digits, sci)


def _date_time(value: datetime.datetime, separator: str) -> str:
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}{separator}"
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    )


def java_time(value: datetime.time) -> str:
    """``java.sql.Time.toString``: ``HH:mm:ss`` (fractions are not shown)."""
    return f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"


def java_timestamp(value: datetime.datetime) -> str:
    """``java.sql.Timestamp.toString``: ``yyyy-mm-dd hh:mm:ss.f`` with trailing zeros cut."""
    fraction = f"{value.microsecond * 1000:09d}".rstrip("0") or "0"
    return f"{_date_time(value, ' ')}.{fraction}"


def java_instant(value: Instant) -> str:
    """``java.time.Instant.toString``: ISO-8601 in UTC with 0, 3, 6 or 9 fraction digits."""
    try:
        moment = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=value.seconds)
    except OverflowError:
        return repr(value)
    text = _date_time(moment, "T")
    nanos = value.nanos
    if nanos:
        if nanos % 1_000_000 == 0:
            text += f".{nanos // 1_000_000:03d}"
        elif nanos % 1_000 == 0:
            text += f".{nanos // 1_000:06d}"
        else:
            text += f".{nanos:09d}"
    return text + "Z"


def java_bytes(value: Iterable[int]) -> str:
    """``Arrays.toString(byte[])``: signed bytes."""
    return "[" + ", ".join(str(wrap_int(b, 8)) for b in value) + "]"


def java_string(value: Any) -> str:
    """Java ``toString()`` of the Java value a Python value maps to, chosen by Python type."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Row):
        fields = ", ".join(java_string(v) for v in value)
        return f"{value.get_row_kind()}[{fields}]"
    if isinstance(value, tuple):
        return "(" + ",".join(java_string(v) for v in value) + ")"
    if isinstance(value, (bytes, bytearray)):
        return java_bytes(value)
    if isinstance(value, (list, set, frozenset)):
        return "[" + ", ".join(java_string(v) for v in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{java_string(k)}={java_string(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    if isinstance(value, datetime.datetime):
        return java_timestamp(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.time):
        return java_time(value)
    if isinstance(value, Instant):
        return java_instant(value)
    if isinstance(value, numbers.Real):
        return java_double(float(value))
    return str(value)
