"""Broadcast state: a dict per MapStateDescriptor that every parallel instance of a broadcast
process function keeps for itself, changed by the broadcast side and read by the other side.
Each instance sees every broadcast record, so each keeps the same contents when the function
changes them the same way for the same records (as Flink requires)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["BroadcastState", "ReadOnlyBroadcastState"]


class ReadOnlyBroadcastState:
    """The broadcast state as ``process_element`` sees it: read-only."""

    __slots__ = ("_entries", "_name")

    def __init__(self, name: str, entries: dict[Any, Any]) -> None:
        self._name = name
        self._entries = entries

    def get(self, key: Any) -> Any:
        """The value of ``key``, or None."""
        return self._entries.get(key)

    def contains(self, key: Any) -> bool:
        return key in self._entries

    def items(self) -> list[tuple[Any, Any]]:
        return list(self._entries.items())

    def keys(self) -> list[Any]:
        return list(self._entries)

    def values(self) -> list[Any]:
        return list(self._entries.values())

    def is_empty(self) -> bool:
        return not self._entries

    def __getitem__(self, key: Any) -> Any:
        return self._entries[key]

    def __contains__(self, key: Any) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def _read_only(self, method: str) -> TypeError:
        return TypeError(
            f"the broadcast state '{self._name}' is read-only in process_element(): {method}() it in "
            "process_broadcast_element(), which every parallel instance runs for every broadcast record"
        )

    def put(self, key: Any, value: Any) -> None:
        raise self._read_only("put")

    def put_all(self, entries: Any) -> None:
        raise self._read_only("put_all")

    def remove(self, key: Any) -> None:
        raise self._read_only("remove")

    def clear(self) -> None:
        raise self._read_only("clear")

    def __setitem__(self, key: Any, value: Any) -> None:
        raise self._read_only("put")

    def __delitem__(self, key: Any) -> None:
        raise self._read_only("remove")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name!r}, {self._entries!r})"


class BroadcastState(ReadOnlyBroadcastState):
    """The broadcast state as ``process_broadcast_element`` sees it: read and write."""

    __slots__ = ()

    def put(self, key: Any, value: Any) -> None:
        self._entries[key] = value

    def put_all(self, entries: Any) -> None:
        self._entries.update(entries.items() if hasattr(entries, "items") else entries)

    def remove(self, key: Any) -> None:
        """Removes ``key`` (nothing happens when it is not there)."""
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __setitem__(self, key: Any, value: Any) -> None:
        self._entries[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._entries[key]
