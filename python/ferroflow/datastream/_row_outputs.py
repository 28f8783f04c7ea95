"""Outputs of a function whose stream is typed as a ROW become ``Row``s, as in PyFlink.

PyFlink carries a typed stream as Java values, so a ``map(f, output_type=Types.ROW_NAMED(...))``
whose ``f`` returns a tuple hands the next function a ``Row`` (with its field names). ferroflow
keeps Python objects, so it converts what such a function returns (``RowTypeInfo._round_trip``);
side outputs, ``(OutputTag, value)`` pairs, are left as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ferroflow.common.typeinfo import RowTypeInfo
from ferroflow.datastream.output_tag import OutputTag

Convert = Callable[[Any], Any]


def _mapped(call: Callable[..., Any], convert: Convert) -> Callable[..., Any]:
    def converted(*args: Any) -> Any:
        return convert(call(*args))

    return converted


def _each(results: Iterable[Any], convert: Convert) -> Iterator[Any]:
    for item in results:
        if type(item) is tuple and len(item) == 2 and isinstance(item[0], OutputTag):
            yield item
        else:
            yield convert(item)


def _yielding(call: Callable[..., Any], convert: Convert) -> Callable[..., Any]:
    def converted(*args: Any) -> Any:
        results = call(*args)
        if results is None or not hasattr(results, "__iter__"):
            return results  # the engine reports a result that is not iterable
        return _each(results, convert)

    return converted


def convert_outputs(style: str, calls: tuple[Any, ...], convert: Convert) -> tuple[Any, ...]:
    """``calls`` (a function's methods, in the engine's order) with their outputs converted:
    the returned value for ``map`` style, every yielded value for ``flat_map`` and ``process``."""
    if style == "map":
        wrap = _mapped
    elif style in ("flat_map", "process"):
        wrap = _yielding
    else:
        return calls
    return tuple(wrap(c, convert) if callable(c) else c for c in calls)


def row_conversion(style: str, output_type: Any) -> tuple[str, Convert] | None:
    """What ``UdfSpec.outputs`` gets for a function of ``style`` declared to output
    ``output_type``: a conversion to Row for a ROW type, else None (values stay as they are)."""
    if isinstance(output_type, RowTypeInfo) and style in ("map", "flat_map", "process"):
        return style, output_type._round_trip
    return None
