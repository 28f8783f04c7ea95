"""The stable encoding of keys that are not plain values (namedtuples, frozen dataclasses,
frozensets, ...): their pickle, made without the pickler's memo, so that equal keys encode
equally whether or not their parts are the same objects. A frozenset is rebuilt from its
elements in a fixed order first, since its pickle follows its iteration order (frozensets inside
other objects are pickled as they are)."""

from __future__ import annotations

import io
import pickle
from typing import Any

PROTOCOL = 4


def encode_key(value: Any) -> bytes:
    if type(value) is frozenset:
        value = frozenset(sorted(value, key=encode_key))
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, PROTOCOL)
    pickler.fast = True  # no memo: a repeated part is written again, not referred back to
    pickler.dump(value)
    return buffer.getvalue()
