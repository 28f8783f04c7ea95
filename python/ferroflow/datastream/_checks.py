"""Argument checks shared by the API classes: they raise where the user made the mistake."""

from __future__ import annotations

from typing import Any

from ferroflow.common.typeinfo import TypeInformation
from ferroflow.datastream._udf import describe


def check_parallelism(value: Any, what: str = "parallelism") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {describe(value)}")
    if value < 1:
        raise ValueError(f"{what} must be at least 1, got {value}")
    return value


# Flink's upper bound of max parallelism (key groups): 2^15.
UPPER_BOUND_MAX_PARALLELISM = 32768


def check_max_parallelism(value: Any) -> int:
    value = check_parallelism(value, "max_parallelism")
    if value > UPPER_BOUND_MAX_PARALLELISM:
        raise ValueError(f"max_parallelism must be at most {UPPER_BOUND_MAX_PARALLELISM}, got {value}")
    return value


def check_buffer_timeout(value: Any) -> int:
    """Milliseconds: -1 (send only full batches), 0 (send at once) or positive."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"buffer timeout must be an int (milliseconds), got {describe(value)}")
    if value < -1:
        raise ValueError(f"buffer timeout must be -1, 0 or positive, got {value}")
    return value


def effective_buffer_timeout(value: int) -> int:
    """The engine's flush interval (ms) for a buffer timeout: -1 (flush only full batches) still
    ends every job, as the end of input flushes everything."""
    return 2**62 if value == -1 else value


def check_str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, got {describe(value)}")
    return value


def check_type_info(value: Any, what: str = "output_type") -> TypeInformation | None:
    if value is not None and not isinstance(value, TypeInformation):
        raise TypeError(
            f"{what} must be a TypeInformation such as Types.INT() or Types.TUPLE([...]), "
            f"got {describe(value)}"
        )
    return value
