"""Flink's list settings as Python lists (``Configuration.parse_list_value``).

Flink writes a list setting as a YAML flow sequence (``[a, b, 'c;d']``) or, in its older form,
as values separated by ``;``. PyFlink reads the first with a YAML parser; this reads the same
flow sequences without one: quoted and plain scalars (``1`` is an int, ``0.5`` a float,
``true`` a bool, ``null`` None, as in YAML) and nested sequences. A mapping inside the list is
refused with a ValueError.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["parse_list_value"]

_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_SCALARS = {
    "true": True, "True": True, "TRUE": True,
    "false": False, "False": False, "FALSE": False,
    "null": None, "Null": None, "NULL": None, "~": None, "": None,
}


def parse_list_value(value: str | None) -> list[Any]:
    """``[a, b]`` as ``['a', 'b']``; ``a;b`` (anything that is not a flow sequence) as
    ``value.split(';')``; an empty value as ``[]``."""
    if not value:
        return []
    if not isinstance(value, str):
        raise TypeError(f"parse_list_value() takes a str, got {type(value).__name__} ({value!r})")
    text = value.strip()
    if not text.startswith("["):
        return value.split(";")
    parser = _Parser(text)
    result = parser.sequence()
    parser.skip_space()
    if parser.pos != len(text):
        parser.fail("unexpected text after the closing ']'")
    return result


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, why: str) -> None:
        raise ValueError(f"not a list setting ferroflow can read ({why} at offset {self.pos}): {self.text!r}")

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def sequence(self) -> list[Any]:
        self.pos += 1  # the opening '['
        items: list[Any] = []
        self.skip_space()
        if self.text.startswith("]", self.pos):
            self.pos += 1
            return items
        while True:
            items.append(self.item())
            self.skip_space()
            if self.pos >= len(self.text):
                self.fail("missing ']'")
            ch = self.text[self.pos]
            self.pos += 1
            if ch == "]":
                return items
            if ch != ",":
                self.fail(f"expected ',' or ']', found {ch!r}")
            self.skip_space()
            if self.text.startswith("]", self.pos):  # a trailing comma, as YAML allows
                self.pos += 1
                return items

    def item(self) -> Any:
        self.skip_space()
        if self.pos >= len(self.text):
            self.fail("missing ']'")
        ch = self.text[self.pos]
        if ch == "[":
            return self.sequence()
        if ch == "{":
            self.fail("a mapping inside the list")
        if ch in "'\"":
            return self.quoted(ch)
        return self.plain()

    def quoted(self, quote: str) -> str:
        self.pos += 1
        out = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            self.pos += 1
            if ch == quote:
                if quote == "'" and self.text.startswith("'", self.pos):  # '' is a quote in '...'
                    out.append("'")
                    self.pos += 1
                    continue
                return "".join(out)
            if ch == "\\" and quote == '"' and self.pos < len(self.text):
                escaped = self.text[self.pos]
                self.pos += 1
                out.append({"n": "\n", "t": "\t"}.get(escaped, escaped))
                continue
            out.append(ch)
        self.fail(f"missing closing {quote}")
        return ""

    def plain(self) -> Any:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ",]":
            self.pos += 1
        word = self.text[start : self.pos].strip()
        if word in _SCALARS:
            return _SCALARS[word]
        if _INT.match(word):
            return int(word)
        if _FLOAT.match(word):
            return float(word)
        return word
