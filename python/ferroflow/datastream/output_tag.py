"""OutputTag: names a side output of a process-style function."""

from __future__ import annotations

from typing import Any

from ferroflow.common.typeinfo import TypeInformation, Types


class OutputTag:
    """A side output. Emit to it by yielding ``(tag, value)`` from a process-style function, and
    read it with ``stream.get_side_output(tag)``. Tags with the same id are the same side output.
    """

    def __init__(self, tag_id: str, type_info: Any | None = None) -> None:
        if not isinstance(tag_id, str):
            raise TypeError(f"OutputTag id must be a str, got {type(tag_id).__name__} ({tag_id!r})")
        if not tag_id:
            raise ValueError("OutputTag id cannot be empty")
        if isinstance(type_info, list):
            type_info = Types.ROW(type_info)
        elif type_info is not None and not isinstance(type_info, TypeInformation):
            raise TypeError(
                f"OutputTag type_info must be a TypeInformation (or a list of them for a Row), "
                f"got {type(type_info).__name__}"
            )
        self.tag_id = tag_id
        self.type_info = type_info

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OutputTag) and other.tag_id == self.tag_id

    def __hash__(self) -> int:
        return hash(self.tag_id)

    def __repr__(self) -> str:
        return f"OutputTag({self.tag_id!r})"
