"""NumberSequenceSource: the integers of a range, split over parallel subtasks."""

from __future__ import annotations

from ferroflow.datastream._udf import describe


class NumberSequenceSource:
    """The integers ``start`` to ``end``, both included. Each parallel subtask produces a
    contiguous part of the range, in order. Use with ``env.from_source(source, strategy, name)``."""

    def __init__(self, start: int, end: int) -> None:
        for what, v in (("start", start), ("end", end)):
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"NumberSequenceSource {what} must be an int, got {describe(v)}")
            if not -(2**63) <= v < 2**63:
                raise ValueError(f"NumberSequenceSource {what} must fit in 64 bits, got {v}")
        if start > end:
            raise ValueError(f"NumberSequenceSource start ({start}) must not be larger than end ({end})")
        self._start = start
        self._end = end

    def get_from(self) -> int:
        return self._start

    def get_to(self) -> int:
        return self._end

    def __repr__(self) -> str:
        return f"NumberSequenceSource({self._start}, {self._end})"
