"""``Row`` and ``RowKind``, behaving as ``pyflink.common.types`` does in PyFlink 2.x."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import Enum
from typing import Any

__all__ = ["Row", "RowKind"]


class RowKind(Enum):
    """The change a row describes in a changelog; ``str()`` gives Flink's short form."""

    INSERT = 0
    UPDATE_BEFORE = 1
    UPDATE_AFTER = 2
    DELETE = 3

    def __str__(self) -> str:
        return _SHORT_STRINGS[self.value]


_SHORT_STRINGS = ("+I", "-U", "+U", "-D")


class _FieldNotFoundError(KeyError, ValueError):
    """A field name that a Row does not have.

    A KeyError for Python users, and a ValueError because that is what PyFlink raises.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _create_row(
    fields: list[str] | None, values: Iterable[Any], row_kind: RowKind | None = None
) -> Row:
    """Builds a Row without going through ``__init__`` (used by pickling and row classes)."""
    row = Row.__new__(Row)
    _set = object.__setattr__
    _set(row, "_values", list(values))
    _set(row, "_fields", None if fields is None else list(fields))
    _set(row, "_row_kind", RowKind.INSERT if row_kind is None else row_kind)
    return row


class Row:
    """A record with positional fields and, optionally, field names.

    - ``Row(1, "a")`` is unnamed; ``Row(id=1, name="a")`` is named, in keyword order.
    - ``Person = Row("name", "age")`` makes a row class: ``Person("Alice", 11)`` is
      ``Row(name='Alice', age=11)``.
    - Fields are read by index, slice, name (``row["name"]``) or attribute (``row.name``) and
      set by index or name (``row["name"] = ...``); setting attributes is not allowed.
    - ``x in row`` looks for ``x`` among the values, as PyFlink does.
    - Rows are equal when their kinds, field names (or lack of them) and values are equal; a
      Row never equals a tuple or list.
    """

    __slots__ = ("_fields", "_row_kind", "_values")

    _values: list[Any]
    _fields: list[str] | None
    _row_kind: RowKind

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _set = object.__setattr__
        if kwargs:
            if args:
                raise ValueError("Can not use both args and kwargs to create Row")
            _set(self, "_fields", list(kwargs))
            _set(self, "_values", list(kwargs.values()))
        else:
            _set(self, "_fields", None)
            _set(self, "_values", list(args))
        _set(self, "_row_kind", RowKind.INSERT)

    @staticmethod
    def of_kind(kind: RowKind, *args: Any) -> Row:
        """Creates an unnamed row of the given kind (Java's ``Row.ofKind``)."""
        if not isinstance(kind, RowKind):
            raise TypeError(f"kind must be a RowKind, got {kind!r} ({type(kind).__name__})")
        return _create_row(None, args, kind)

    def as_dict(self, recursive: bool = False) -> dict[str, Any]:
        """Returns the row as a dict of field name to value.

        With ``recursive=True`` nested rows (also inside lists and dicts) become dicts too.
        Raises TypeError for a row without field names.
        """
        if self._fields is None:
            raise TypeError("Cannot convert a Row class into dict")
        if not recursive:
            return dict(zip(self._fields, self._values))
        return {name: _as_plain(value) for name, value in zip(self._fields, self._values)}

    def get_row_kind(self) -> RowKind:
        return self._row_kind

    def set_row_kind(self, row_kind: RowKind) -> None:
        if not isinstance(row_kind, RowKind):
            raise TypeError(
                f"row_kind must be a RowKind, got {row_kind!r} ({type(row_kind).__name__})"
            )
        object.__setattr__(self, "_row_kind", row_kind)

    def set_field_names(self, field_names: Iterable[str] | None) -> None:
        """Names the fields (positionally); ``None`` makes the row unnamed again."""
        names = None if field_names is None else list(field_names)
        object.__setattr__(self, "_fields", names)

    def get_field_names(self) -> list[str] | None:
        """The field names, or None for an unnamed row."""
        return None if self._fields is None else list(self._fields)

    def get_fields_by_names(self, names: Iterable[str]) -> list[Any]:
        """The values of the named fields, in the order the names are given."""
        return [self._value_of(name) for name in names]

    def _index_of(self, name: str) -> int:
        fields = self._fields
        if fields is None:
            raise _FieldNotFoundError(
                f"Row has no field names, so field {name!r} cannot be looked up by name; "
                f"use an index"
            )
        try:
            return fields.index(name)
        except ValueError:
            raise _FieldNotFoundError(
                f"Row has no field {name!r}; its fields are {fields}"
            ) from None

    def _value_of(self, name: str) -> Any:
        return self._values[self._index_of(name)]

    def __call__(self, *args: Any) -> Row:
        """Creates a named row whose field names are this row's values (row-class usage)."""
        if len(args) > len(self._values):
            raise ValueError(
                f"Can not create Row with fields {self!r}, expected {len(self._values)} values "
                f"but got {args!r}"
            )
        return _create_row(self._values, args, self._row_kind)

    def __getitem__(self, item: int | slice | str) -> Any:
        if isinstance(item, (int, slice)):
            return self._values[item]
        return self._values[self._index_of(item)]

    def __setitem__(self, key: int | slice | str, value: Any) -> None:
        if isinstance(key, (int, slice)):
            self._values[key] = value
        else:
            self._values[self._index_of(key)] = value

    def __getattr__(self, item: str) -> Any:
        # Only reached when normal lookup fails, i.e. for field names.
        if not item.startswith("_"):
            fields = self._fields
            if fields is not None:
                try:
                    return self._values[fields.index(item)]
                except (ValueError, IndexError):
                    pass
        raise AttributeError(item)

    def __setattr__(self, key: str, value: Any) -> None:
        if key in Row.__slots__:
            object.__setattr__(self, key, value)
            return
        raise AttributeError(
            f"Row fields can not be set as attributes ({key!r}); use row[{key!r}] = value"
        )

    def __contains__(self, item: object) -> bool:
        return item in self._values

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Row):
            return NotImplemented
        return (
            self._row_kind == other._row_kind
            and self._fields == other._fields
            and self._values == other._values
        )

    def __hash__(self) -> int:
        return hash(tuple(self._values))

    def __repr__(self) -> str:
        if self._fields is not None:
            pairs = ", ".join(f"{k}={v!r}" for k, v in zip(self._fields, self._values))
            return f"Row({pairs})"
        return "<Row({})>".format(", ".join(repr(v) for v in self._values))

    def __reduce__(self) -> tuple[Any, ...]:
        return _create_row, (self._fields, tuple(self._values), self._row_kind)


def _as_plain(value: Any) -> Any:
    """Recursively turns named rows into dicts, descending into lists and dicts."""
    if isinstance(value, Row):
        return value.as_dict(True)
    if isinstance(value, list):
        return [_as_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_plain(v) for k, v in value.items()}
    return value
