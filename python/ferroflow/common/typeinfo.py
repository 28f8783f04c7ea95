"""Type information (``Types.INT()``, ``Types.ROW([...])``, ...) as in ``pyflink.common.typeinfo``.

In ferroflow records stay the Python objects user code produced: a type information does not
convert values. It says what a stream carries and decides how ``print()`` shows each record,
via :meth:`TypeInformation.format_value`, so that output matches PyFlink's:

- no type / ``PICKLED_BYTE_ARRAY``: ``str(value)``;
- ``ROW`` / ``ROW_NAMED``: ``+I[a,1]`` -- Flink's row kind, then the fields joined by ``,`` with
  Python's ``str()``, each field first taken through its type the way PyFlink's serializers
  take it (ints wrap to the Java width, ``FLOAT`` becomes float32, a nested row becomes a named
  ``Row``), because PyFlink formats rows in Python after they came back from Java;
- every other type: the Java ``toString()`` of the Java value, e.g. ``(hi,0,5,4)`` for a tuple,
  ``true``, ``null``, ``1.0E-5``, ``[a, b]`` for lists and arrays, ``{k=v}`` for maps, and
  ``+I[a, 1]`` for a row nested in them.

Known differences from PyFlink's output:

- a top-level array stream prints ``[1, 2]``; Java's print sink prints the array's identity
  (``[I@1b6d3586``);
- maps print in the dict's insertion order; Java's ``HashMap`` order is hash order;
- a pickled value nested in a tuple, list or map prints as the Python value's Java-style text,
  not as the pickle's bytes;
- doubles and floats use the shortest round-trip digits (JDK 19+ ``toString``); older JDKs
  print a few values with more digits.
"""

from __future__ import annotations

import datetime
import numbers
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from enum import Enum
from typing import Any

from ferroflow.common import _java_format as jf
from ferroflow.common.time import Instant
from ferroflow.common.types import Row, RowKind, _create_row

__all__ = ["TypeInformation", "Types"]


class TypeInformation:
    """Base of all type informations: equality, hashing and ``print()`` formatting."""

    __slots__ = ()

    def format_value(self, value: Any) -> str:
        """The text PyFlink's ``print()`` shows for ``value`` in a stream of this type."""
        return self._java_string(value)

    def _java_string(self, value: Any) -> str:
        """Java ``toString()`` of the Java value PyFlink would hold for ``value``."""
        return jf.java_string(value)

    def _round_trip(self, value: Any) -> Any:
        """The Python value PyFlink hands back after ``value`` went through this type."""
        return value

    def _key(self) -> tuple[Any, ...]:
        return ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def __repr__(self) -> str:
        return type(self).__name__


class BasicType(Enum):
    """The basic (scalar) types; the values are PyFlink's type names."""

    STRING = "String"
    BYTE = "Byte"
    BOOLEAN = "Boolean"
    SHORT = "Short"
    INT = "Integer"
    LONG = "Long"
    FLOAT = "Float"
    DOUBLE = "Double"
    CHAR = "Char"
    BIG_INT = "BigInteger"
    BIG_DEC = "BigDecimal"
    INSTANT = "Instant"


_INT_BITS = {BasicType.BYTE: 8, BasicType.SHORT: 16, BasicType.INT: 32, BasicType.LONG: 64}


class BasicTypeInfo(TypeInformation):
    """Strings, booleans, numbers, chars, big numbers and instants."""

    __slots__ = ("_basic_type",)

    def __init__(self, basic_type: BasicType) -> None:
        if not isinstance(basic_type, BasicType):
            raise TypeError(f"basic_type must be a BasicType, got {basic_type!r}")
        self._basic_type = basic_type

    def get_basic_type(self) -> BasicType:
        return self._basic_type

    def _key(self) -> tuple[Any, ...]:
        return (self._basic_type,)

    def __repr__(self) -> str:
        return self._basic_type.value

    def _java_string(self, value: Any) -> str:
        if value is None:
            return "null"
        kind = self._basic_type
        bits = _INT_BITS.get(kind)
        if bits is not None and isinstance(value, numbers.Integral):
            return str(jf.wrap_int(int(value), bits))
        if kind is BasicType.DOUBLE and isinstance(value, numbers.Real):
            return jf.java_double(float(value))
        if kind is BasicType.FLOAT and isinstance(value, numbers.Real):
            return jf.java_float(float(value))
        if kind is BasicType.BOOLEAN and isinstance(value, numbers.Integral):
            return "true" if value else "false"
        if kind is BasicType.BIG_INT and isinstance(value, numbers.Integral):
            return str(int(value))
        if kind is BasicType.BIG_DEC and isinstance(value, (numbers.Real, Decimal)):
            return str(_to_decimal(value))
        if kind is BasicType.INSTANT and isinstance(value, Instant):
            return jf.java_instant(value)
        return jf.java_string(value)

    def _round_trip(self, value: Any) -> Any:
        kind = self._basic_type
        bits = _INT_BITS.get(kind)
        if bits is not None and isinstance(value, numbers.Integral):
            return jf.wrap_int(int(value), bits)
        if kind is BasicType.DOUBLE and isinstance(value, numbers.Real):
            return float(value)
        if kind is BasicType.FLOAT and isinstance(value, numbers.Real):
            return jf.to_float32(float(value))
        if kind is BasicType.BOOLEAN and isinstance(value, numbers.Integral):
            return bool(value)
        if kind is BasicType.BIG_INT and isinstance(value, numbers.Integral):
            return int(value)
        if kind is BasicType.BIG_DEC and isinstance(value, (numbers.Real, Decimal)):
            return _to_decimal(value)
        if kind is BasicType.INSTANT and isinstance(value, Instant):
            # PyFlink carries instants with millisecond precision.
            return Instant.of_epoch_milli(value.to_epoch_milli())
        return value


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, numbers.Integral):
        return Decimal(int(value))
    return Decimal(repr(float(value)))


class DateTypeInfo(TypeInformation):
    """``SQL_DATE``: ``datetime.date`` values, printed ``yyyy-mm-dd``."""

    __slots__ = ()

    def _java_string(self, value: Any) -> str:
        if isinstance(value, datetime.datetime):
            return value.date().isoformat()
        if isinstance(value, datetime.date):
            return value.isoformat()
        return jf.java_string(value)

    def _round_trip(self, value: Any) -> Any:
        return value.date() if isinstance(value, datetime.datetime) else value


class TimeTypeInfo(TypeInformation):
    """``SQL_TIME``: ``datetime.time`` values, printed ``hh:mm:ss`` like ``java.sql.Time``."""

    __slots__ = ()

    def _java_string(self, value: Any) -> str:
        if isinstance(value, datetime.time):
            return jf.java_time(value)
        return jf.java_string(value)


class TimestampTypeInfo(TypeInformation):
    """``SQL_TIMESTAMP``: ``datetime.datetime`` values, printed like ``java.sql.Timestamp``."""

    __slots__ = ()

    def _java_string(self, value: Any) -> str:
        if isinstance(value, datetime.datetime):
            return jf.java_timestamp(value)
        return jf.java_string(value)


class PickledBytesTypeInfo(TypeInformation):
    """Arbitrary Python objects (PyFlink pickles them; ferroflow passes them as they are)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "PickledByteArrayTypeInfo"

    def format_value(self, value: Any) -> str:
        return str(value)


class _ElementTypeInfo(TypeInformation):
    """Arrays and lists: one element type, printed as Java's ``[a, b]``."""

    __slots__ = ("_element_type",)

    def __init__(self, element_type: TypeInformation) -> None:
        self._element_type = element_type

    def get_element_type(self) -> TypeInformation:
        return self._element_type

    def _key(self) -> tuple[Any, ...]:
        return (self._element_type,)

    def __repr__(self) -> str:
        return f"{type(self).__name__}<{self._element_type!r}>"

    def _java_string(self, value: Any) -> str:
        if value is None:
            return "null"
        if not isinstance(value, Iterable):
            return jf.java_string(value)
        element = self._element_type
        return "[" + ", ".join(element._java_string(v) for v in value) + "]"

    def _round_trip(self, value: Any) -> Any:
        if value is None or not isinstance(value, Iterable):
            return value
        element = self._element_type
        return [element._round_trip(v) for v in value]


class PrimitiveArrayTypeInfo(_ElementTypeInfo):
    """Arrays of primitive types (``int[]``, ``double[]``, ...)."""

    __slots__ = ()


class BasicArrayTypeInfo(_ElementTypeInfo):
    """Arrays of boxed basic types (``Integer[]``, ``String[]``, ...)."""

    __slots__ = ()


class ObjectArrayTypeInfo(_ElementTypeInfo):
    """Arrays of any other type."""

    __slots__ = ()


class ListTypeInfo(_ElementTypeInfo):
    """Python lists (Java ``List``)."""

    __slots__ = ()

    @property
    def elem_type(self) -> TypeInformation:
        """The element type (PyFlink's attribute name)."""
        return self._element_type


class MapTypeInfo(TypeInformation):
    """Python dicts (Java ``Map``), printed ``{k=v, k2=v2}``."""

    __slots__ = ("_key_type_info", "_value_type_info")

    def __init__(self, key_type_info: TypeInformation, value_type_info: TypeInformation) -> None:
        self._key_type_info = key_type_info
        self._value_type_info = value_type_info

    def get_key_type(self) -> TypeInformation:
        return self._key_type_info

    def get_value_type(self) -> TypeInformation:
        return self._value_type_info

    def _key(self) -> tuple[Any, ...]:
        return (self._key_type_info, self._value_type_info)

    def __repr__(self) -> str:
        return f"MapTypeInfo<{self._key_type_info!r}, {self._value_type_info!r}>"

    def _java_string(self, value: Any) -> str:
        if not isinstance(value, Mapping):
            return jf.java_string(value)
        k_type, v_type = self._key_type_info, self._value_type_info
        pairs = (f"{k_type._java_string(k)}={v_type._java_string(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"

    def _round_trip(self, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        k_type, v_type = self._key_type_info, self._value_type_info
        return {k_type._round_trip(k): v_type._round_trip(v) for k, v in value.items()}


def _typed_fields(
    types: Sequence[TypeInformation], values: Sequence[Any]
) -> Iterable[tuple[TypeInformation | None, Any]]:
    """Pairs each value with its field type (None for values beyond the declared fields)."""
    count = len(types)
    return ((types[i] if i < count else None, v) for i, v in enumerate(values))


class TupleTypeInfo(TypeInformation):
    """Python tuples (Java ``TupleN``), printed ``(hi,0,5,4)``."""

    __slots__ = ("_field_types",)

    def __init__(self, field_types: list[TypeInformation]) -> None:
        self._field_types = list(field_types)

    def get_field_types(self) -> list[TypeInformation]:
        return list(self._field_types)

    def _key(self) -> tuple[Any, ...]:
        return tuple(self._field_types)

    def __repr__(self) -> str:
        return "TupleTypeInfo({})".format(", ".join(repr(t) for t in self._field_types))

    def _java_string(self, value: Any) -> str:
        if not isinstance(value, (tuple, list, Row)):
            return jf.java_string(value)
        parts = (
            t._java_string(v) if t is not None else jf.java_string(v)
            for t, v in _typed_fields(self._field_types, list(value))
        )
        return "(" + ",".join(parts) + ")"

    def _round_trip(self, value: Any) -> Any:
        if not isinstance(value, (tuple, list, Row)):
            return value
        return tuple(
            t._round_trip(v) if t is not None else v
            for t, v in _typed_fields(self._field_types, list(value))
        )


class RowTypeInfo(TypeInformation):
    """Rows with typed fields, optionally named (``f0``, ``f1``, ... when not named).

    Besides ``Row``, a value of a row stream may be a tuple or list (fields by position), a dict
    or an object with attributes (fields by name), as PyFlink accepts.
    """

    __slots__ = ("_field_names", "_field_types")

    def __init__(
        self, field_types: list[TypeInformation], field_names: list[str] | None = None
    ) -> None:
        self._field_types = list(field_types)
        self._field_names = None if field_names is None else list(field_names)

    def get_field_names(self) -> list[str]:
        if self._field_names is not None:
            return list(self._field_names)
        return [f"f{i}" for i in range(len(self._field_types))]

    def get_field_index(self, field_name: str) -> int:
        """The position of the named field, or -1 when there is none."""
        names = self.get_field_names()
        return names.index(field_name) if field_name in names else -1

    def get_field_types(self) -> list[TypeInformation]:
        return list(self._field_types)

    def _key(self) -> tuple[Any, ...]:
        return (tuple(self._field_types), tuple(self.get_field_names()))

    def __repr__(self) -> str:
        if self._field_names is not None:
            fields = ", ".join(
                f"{name}: {t!r}" for name, t in zip(self._field_names, self._field_types)
            )
        else:
            fields = ", ".join(repr(t) for t in self._field_types)
        return f"RowTypeInfo({fields})"

    def _kind_and_values(self, value: Any) -> tuple[RowKind, list[Any]]:
        names = self.get_field_names()
        if isinstance(value, Row):
            row_names = value.get_field_names()
            if (
                self._field_names is not None
                and row_names is not None
                and all(n in row_names for n in names)
            ):
                return value.get_row_kind(), value.get_fields_by_names(names)
            return value.get_row_kind(), list(value)
        if isinstance(value, (tuple, list)):
            return RowKind.INSERT, list(value)
        if isinstance(value, Mapping):
            return RowKind.INSERT, [value.get(n) for n in names]
        if hasattr(value, "__dict__") and not isinstance(value, type):
            attributes: dict[str, Any] = vars(value)
            return RowKind.INSERT, [attributes.get(n) for n in names]
        raise TypeError(
            f"A record of a {self!r} stream must be a Row, tuple, list or dict, "
            f"got {value!r} ({type(value).__name__})"
        )

    def _converted_fields(self, values: list[Any]) -> list[Any]:
        return [
            t._round_trip(v) if t is not None and v is not None else v
            for t, v in _typed_fields(self._field_types, values)
        ]

    def _round_trip(self, value: Any) -> Any:
        if value is None:
            return None
        kind, values = self._kind_and_values(value)
        converted = self._converted_fields(values)
        names: list[str] | None = self.get_field_names()
        if len(names) != len(converted):
            names = None
        return _create_row(names, converted, kind)

    def format_value(self, value: Any) -> str:
        if value is None:
            return "null"
        kind, values = self._kind_and_values(value)
        return "{}[{}]".format(kind, ",".join(str(v) for v in self._converted_fields(values)))

    def _java_string(self, value: Any) -> str:
        if value is None:
            return "null"
        kind, values = self._kind_and_values(value)
        parts = (
            t._java_string(v) if t is not None else jf.java_string(v)
            for t, v in _typed_fields(self._field_types, values)
        )
        return "{}[{}]".format(kind, ", ".join(parts))


_PRIMITIVE_ELEMENTS = (
    BasicType.BOOLEAN,
    BasicType.BYTE,
    BasicType.SHORT,
    BasicType.INT,
    BasicType.LONG,
    BasicType.FLOAT,
    BasicType.DOUBLE,
    BasicType.CHAR,
)
_BASIC_ARRAY_ELEMENTS = (*_PRIMITIVE_ELEMENTS, BasicType.STRING)


def _describe(value: Any) -> str:
    hint = ""
    name = getattr(value, "__name__", None)
    if callable(value) and isinstance(name, str) and name.isupper() and hasattr(Types, name):
        hint = f" (did you mean Types.{name}()?)"
    return f"{value!r} ({type(value).__name__}){hint}"


def _check_type(value: Any, what: str) -> TypeInformation:
    if not isinstance(value, TypeInformation):
        raise TypeError(
            f"{what} must be a TypeInformation such as Types.INT(), got {_describe(value)}"
        )
    return value


def _check_type_list(values: Any, what: str) -> list[TypeInformation]:
    if not isinstance(values, (list, tuple)):
        raise TypeError(
            f"{what} must be a list of TypeInformation such as [Types.STRING(), Types.INT()], "
            f"got {_describe(values)}"
        )
    return [_check_type(v, f"{what}[{i}]") for i, v in enumerate(values)]


def _check_basic_element(element_type: Any, allowed: tuple[BasicType, ...], what: str) -> None:
    _check_type(element_type, f"{what} element_type")
    if not (
        isinstance(element_type, BasicTypeInfo) and element_type.get_basic_type() in allowed
    ):
        names = ", ".join(f"Types.{t.name}()" for t in allowed)
        raise TypeError(
            f"Invalid element type for {what}: {element_type!r}; expected one of {names}"
        )


class Types:
    """Factories for the type informations Flink has built-in serializers for."""

    @staticmethod
    def STRING() -> TypeInformation:
        """Python ``str``; supports None."""
        return BasicTypeInfo(BasicType.STRING)

    @staticmethod
    def BYTE() -> TypeInformation:
        """A signed 8-bit int."""
        return BasicTypeInfo(BasicType.BYTE)

    @staticmethod
    def BOOLEAN() -> TypeInformation:
        return BasicTypeInfo(BasicType.BOOLEAN)

    @staticmethod
    def SHORT() -> TypeInformation:
        """A signed 16-bit int."""
        return BasicTypeInfo(BasicType.SHORT)

    @staticmethod
    def INT() -> TypeInformation:
        """A signed 32-bit int."""
        return BasicTypeInfo(BasicType.INT)

    @staticmethod
    def LONG() -> TypeInformation:
        """A signed 64-bit int."""
        return BasicTypeInfo(BasicType.LONG)

    @staticmethod
    def FLOAT() -> TypeInformation:
        """A 32-bit float."""
        return BasicTypeInfo(BasicType.FLOAT)

    @staticmethod
    def DOUBLE() -> TypeInformation:
        """A 64-bit float (Python ``float``)."""
        return BasicTypeInfo(BasicType.DOUBLE)

    @staticmethod
    def CHAR() -> TypeInformation:
        """A one-character ``str``."""
        return BasicTypeInfo(BasicType.CHAR)

    @staticmethod
    def BIG_INT() -> TypeInformation:
        """An int of any size."""
        return BasicTypeInfo(BasicType.BIG_INT)

    @staticmethod
    def BIG_DEC() -> TypeInformation:
        """A ``decimal.Decimal``."""
        return BasicTypeInfo(BasicType.BIG_DEC)

    @staticmethod
    def INSTANT() -> TypeInformation:
        """A ``ferroflow.common.Instant``."""
        return BasicTypeInfo(BasicType.INSTANT)

    @staticmethod
    def SQL_DATE() -> TypeInformation:
        """A ``datetime.date``."""
        return DateTypeInfo()

    @staticmethod
    def SQL_TIME() -> TypeInformation:
        """A ``datetime.time``."""
        return TimeTypeInfo()

    @staticmethod
    def SQL_TIMESTAMP() -> TypeInformation:
        """A ``datetime.datetime``."""
        return TimestampTypeInfo()

    @staticmethod
    def PICKLED_BYTE_ARRAY() -> TypeInformation:
        """Any Python object; the type of streams whose type is not given."""
        return PickledBytesTypeInfo()

    @staticmethod
    def ROW(field_types: list[TypeInformation]) -> TypeInformation:
        """A row whose fields have the given types and are named ``f0``, ``f1``, ..."""
        return RowTypeInfo(_check_type_list(field_types, "ROW field_types"))

    @staticmethod
    def ROW_NAMED(field_names: list[str], field_types: list[TypeInformation]) -> TypeInformation:
        """A row with the given field names and types."""
        if not isinstance(field_names, (list, tuple)):
            raise TypeError(
                f"ROW_NAMED field_names must be a list of str, got {_describe(field_names)}"
            )
        for i, name in enumerate(field_names):
            if not isinstance(name, str):
                raise TypeError(
                    f"ROW_NAMED field_names[{i}] must be a str, got {_describe(name)}"
                )
        types = _check_type_list(field_types, "ROW_NAMED field_types")
        if len(field_names) != len(types):
            raise ValueError(
                f"ROW_NAMED got {len(field_names)} field names {list(field_names)} but "
                f"{len(types)} field types; they must have the same length"
            )
        if len(set(field_names)) != len(field_names):
            raise ValueError(f"ROW_NAMED field names are not unique: {list(field_names)}")
        return RowTypeInfo(types, list(field_names))

    @staticmethod
    def TUPLE(field_types: list[TypeInformation]) -> TypeInformation:
        """A tuple whose fields have the given types."""
        return TupleTypeInfo(_check_type_list(field_types, "TUPLE field_types"))

    @staticmethod
    def PRIMITIVE_ARRAY(element_type: TypeInformation) -> TypeInformation:
        """An array of BOOLEAN, BYTE, SHORT, INT, LONG, FLOAT, DOUBLE or CHAR."""
        _check_basic_element(element_type, _PRIMITIVE_ELEMENTS, "PRIMITIVE_ARRAY")
        return PrimitiveArrayTypeInfo(element_type)

    @staticmethod
    def BASIC_ARRAY(element_type: TypeInformation) -> TypeInformation:
        """An array of boxed BOOLEAN, BYTE, SHORT, INT, LONG, FLOAT, DOUBLE, CHAR or STRING."""
        _check_basic_element(element_type, _BASIC_ARRAY_ELEMENTS, "BASIC_ARRAY")
        return BasicArrayTypeInfo(element_type)

    @staticmethod
    def OBJECT_ARRAY(element_type: TypeInformation) -> TypeInformation:
        """An array of any type; elements may be None."""
        return ObjectArrayTypeInfo(_check_type(element_type, "OBJECT_ARRAY element_type"))

    @staticmethod
    def MAP(key_type_info: TypeInformation, value_type_info: TypeInformation) -> TypeInformation:
        """A dict with keys and values of the given types."""
        return MapTypeInfo(
            _check_type(key_type_info, "MAP key_type_info"),
            _check_type(value_type_info, "MAP value_type_info"),
        )

    @staticmethod
    def LIST(element_type_info: TypeInformation) -> TypeInformation:
        """A list with elements of the given type."""
        return ListTypeInfo(_check_type(element_type_info, "LIST element_type_info"))
