"""``Configuration``: string key/value settings, as ``pyflink.common.Configuration``."""

from __future__ import annotations

import base64
import binascii
import numbers
from collections.abc import Mapping
from typing import Any

from ferroflow.common._java_format import java_double
from ferroflow.common._list_values import parse_list_value

__all__ = ["Configuration"]


def _check_key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(
            f"Configuration keys must be str, got {key!r} ({type(key).__name__})"
        )
    return key


def _to_config_string(key: str, value: Any) -> str:
    """Flink's string form of a setting: ``true``/``false``, ``1``, ``0.5``, ``1.0E-5``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return java_double(float(value))
    raise TypeError(
        f"The value of configuration key {key!r} must be a str, bool, int or float, "
        f"got {value!r} ({type(value).__name__})"
    )


class Configuration:
    """Key/value settings. Values are stored as strings, as Flink writes them.

    ``set_boolean(k, True)`` stores ``"true"``, ``set_float(k, 0.5)`` stores ``"0.5"`` and
    ``set_bytearray`` stores base64 text; the typed getters parse the string back and raise
    ValueError when it does not parse.
    """

    __slots__ = ("_data",)

    def __init__(self, other: Configuration | None = None) -> None:
        if other is not None and not isinstance(other, Configuration):
            hint = " (use Configuration.from_dict for a dict)" if isinstance(other, Mapping) else ""
            raise TypeError(
                f"other must be a Configuration or None, got {other!r} "
                f"({type(other).__name__}){hint}"
            )
        self._data: dict[str, str] = {} if other is None else dict(other._data)

    @staticmethod
    def from_dict(conf_dict: Mapping[str, Any]) -> Configuration:
        """A configuration holding the dict's entries (bool/int/float values become strings)."""
        if not isinstance(conf_dict, Mapping):
            raise TypeError(
                f"conf_dict must be a dict, got {conf_dict!r} ({type(conf_dict).__name__})"
            )
        config = Configuration()
        for key, value in conf_dict.items():
            config._data[_check_key(key)] = _to_config_string(key, value)
        return config

    @staticmethod
    def parse_list_value(value: str) -> list[Any]:
        """A list setting's value as a list: ``"[a, b]"`` (Flink's YAML form) gives
        ``['a', 'b']``, ``"a;b"`` gives ``['a', 'b']`` too, an empty value ``[]``."""
        return parse_list_value(value)

    def get(self, key: str, default: str | None = None) -> str | None:
        """The stored string for ``key``, or ``default``."""
        return self._data.get(_check_key(key), default)

    def get_string(self, key: str, default_value: str | None) -> str | None:
        return self._data.get(_check_key(key), default_value)

    def set_string(self, key: str, value: str) -> Configuration:
        if not isinstance(value, str):
            raise TypeError(
                f"set_string value for {key!r} must be a str, got {value!r} "
                f"({type(value).__name__})"
            )
        self._data[_check_key(key)] = value
        return self

    def get_integer(self, key: str, default_value: int) -> int:
        raw = self._data.get(_check_key(key))
        if raw is None:
            return default_value
        try:
            return int(raw.strip())
        except ValueError:
            raise ValueError(
                f"Configuration key {key!r} holds {raw!r}, which is not an integer"
            ) from None

    def set_integer(self, key: str, value: int) -> Configuration:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(
                f"set_integer value for {key!r} must be an int, got {value!r} "
                f"({type(value).__name__})"
            )
        self._data[_check_key(key)] = str(int(value))
        return self

    def get_boolean(self, key: str, default_value: bool) -> bool:
        raw = self._data.get(_check_key(key))
        if raw is None:
            return default_value
        lowered = raw.strip().lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        raise ValueError(
            f"Configuration key {key!r} holds {raw!r}, which is not a boolean (true or false)"
        )

    def set_boolean(self, key: str, value: bool) -> Configuration:
        if not isinstance(value, bool):
            raise TypeError(
                f"set_boolean value for {key!r} must be a bool, got {value!r} "
                f"({type(value).__name__})"
            )
        self._data[_check_key(key)] = "true" if value else "false"
        return self

    def get_float(self, key: str, default_value: float) -> float:
        raw = self._data.get(_check_key(key))
        if raw is None:
            return float(default_value)
        try:
            return float(raw.strip())
        except ValueError:
            raise ValueError(
                f"Configuration key {key!r} holds {raw!r}, which is not a number"
            ) from None

    def set_float(self, key: str, value: float) -> Configuration:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(
                f"set_float value for {key!r} must be a float, got {value!r} "
                f"({type(value).__name__})"
            )
        self._data[_check_key(key)] = java_double(float(value))
        return self

    def get_bytearray(self, key: str, default_value: bytearray) -> bytearray:
        raw = self._data.get(_check_key(key))
        if raw is None:
            return default_value
        try:
            return bytearray(base64.b64decode(raw.encode("ascii"), validate=True))
        except (binascii.Error, UnicodeEncodeError):
            raise ValueError(
                f"Configuration key {key!r} holds {raw!r}, which is not base64-encoded bytes"
            ) from None

    def set_bytearray(self, key: str, value: bytes | bytearray) -> Configuration:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"set_bytearray value for {key!r} must be bytes or a bytearray, got {value!r} "
                f"({type(value).__name__})"
            )
        self._data[_check_key(key)] = base64.b64encode(bytes(value)).decode("ascii")
        return self

    def key_set(self) -> set[str]:
        return set(self._data)

    def add_all_to_dict(self, target_dict: dict[str, Any]) -> None:
        """Copies every entry (as strings) into ``target_dict``."""
        target_dict.update(self._data)

    def add_all(self, other: Configuration, prefix: str | None = None) -> Configuration:
        """Copies ``other``'s entries into this one, with ``prefix`` put before each key."""
        if not isinstance(other, Configuration):
            raise TypeError(
                f"other must be a Configuration, got {other!r} ({type(other).__name__})"
            )
        if prefix is None:
            self._data.update(other._data)
        else:
            for key, value in other._data.items():
                self._data[prefix + key] = value
        return self

    def contains_key(self, key: str) -> bool:
        return _check_key(key) in self._data

    def to_dict(self) -> dict[str, str]:
        return dict(self._data)

    def remove_config(self, key: str) -> bool:
        """Removes ``key``; returns whether it was there."""
        return self._data.pop(_check_key(key), None) is not None

    def __copy__(self) -> Configuration:
        return Configuration(self)

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Configuration:
        return Configuration(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Configuration):
            return NotImplemented
        return self._data == other._data

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"Configuration({self._data!r})"

    def __str__(self) -> str:
        return "{" + ", ".join(f"{k}={v}" for k, v in self._data.items()) + "}"

    def __reduce__(self) -> tuple[Any, ...]:
        return Configuration.from_dict, (dict(self._data),)
