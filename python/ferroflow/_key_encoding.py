"""The stable encoding of keys that are not plain values (namedtuples, frozen dataclasses, ...):
their pickle, made without the pickler's memo, so that equal keys encode equally whether or not
their parts are the same objects."""

from __future__ import annotations

import io
import pickle
from typing import Any

PROTOCOL = 4


def encode_key(value: Any) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, PROTOCOL)
    pickler.fast = True  # no memo: a repeated part is written again, not referred back to
    pickler.dump(value)
    return buffer.getvalue()
