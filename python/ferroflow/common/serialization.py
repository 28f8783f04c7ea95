"""Serialization for connectors, mirroring ``pyflink.common.serialization``: ``Encoder``, how a
row-format ``FileSink`` turns each record into bytes."""

from __future__ import annotations

from ferroflow import _engine

__all__ = ["Encoder"]


class Encoder:
    """How a row-format ``FileSink`` writes each record. Make one with
    :meth:`simple_string_encoder`."""

    __slots__ = ("_charset",)

    def __init__(self, charset: str) -> None:
        self._charset = charset

    @staticmethod
    def simple_string_encoder(charset_name: str = "UTF-8") -> Encoder:
        """Writes the text of each record and a newline (``\\n``), in ``charset_name``
        (``"UTF-8"``, ``"US-ASCII"`` or ``"ISO-8859-1"``). The text is ``str(value)``, or, for a
        stream with an output type (``Types.TUPLE(...)``, ...), the value as ``print()`` shows it,
        as PyFlink writes Java's ``toString()``."""
        if not isinstance(charset_name, str):
            raise TypeError(f"charset_name must be a str such as 'UTF-8', got {type(charset_name).__name__}")
        return Encoder(_engine.file_connector_charset(charset_name))

    def get_charset(self) -> str:
        return self._charset

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Encoder) and other._charset == self._charset

    def __hash__(self) -> int:
        return hash(("Encoder", self._charset))

    def __repr__(self) -> str:
        return f"Encoder.simple_string_encoder({self._charset!r})"
