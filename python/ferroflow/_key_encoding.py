"""The stable encoding of keys that are not plain values (namedtuples, frozen dataclasses,
frozensets, ...): their pickle, made without the pickler's memo, so that equal keys encode
equally whether or not their parts are the same objects. A frozenset is rebuilt from its
elements in a fixed order first, since its pickle follows its iteration order (frozensets inside
other objects are pickled as they are).

Keys nest at most ``MAX_KEY_DEPTH`` levels (the engine's bound, ``MAX_KEY_DEPTH`` in
src/runtime/key.rs): a deeper key is refused with :class:`KeyTooDeepError` rather than
recursing without bound."""

from __future__ import annotations

import io
import pickle
from typing import Any

PROTOCOL = 4

MAX_KEY_DEPTH = 64


class KeyTooDeepError(ValueError):
    """A key nested deeper than ferroflow accepts."""


def _too_deep(detail: str = "") -> KeyTooDeepError:
    return KeyTooDeepError(
        f"a key nested deeper than {MAX_KEY_DEPTH} levels cannot be used as a key{detail}; use "
        "a flatter key (for example a tuple of the fields that identify the record)"
    )


def encode_key(value: Any, depth: int = MAX_KEY_DEPTH) -> bytes:
    if type(value) is frozenset:
        if depth <= 0:
            raise _too_deep()
        value = frozenset(sorted(value, key=lambda item: encode_key(item, depth - 1)))
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, PROTOCOL)
    pickler.fast = True  # no memo: a repeated part is written again, not referred back to
    try:
        pickler.dump(value)
    except RecursionError as e:
        raise _too_deep(" (pickling it exceeded Python's recursion limit)") from e
    return buffer.getvalue()
