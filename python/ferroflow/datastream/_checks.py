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
