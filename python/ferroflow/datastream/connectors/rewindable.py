"""``RewindableSource``: a source of your own that takes part in checkpoints.

Reading an API, a database table or a log of your own? Say how to read from a position, and
ferroflow saves the position in every checkpoint and reads on from it after a crash, so the job's
results stay exactly once:

    class Pages(RewindableSource):
        def splits(self):                       # read in parallel, one split per subtask
            return ["orders", "refunds"]

        def read(self, split, position):        # position: None at first, else a saved one
            page, row = position or (0, 0)
            while rows := fetch(split, page):
                for i in range(row, len(rows)):
                    yield rows[i], (page, i + 1)    # where to go on after this record
                page, row = page + 1, 0

Each yielded ``(record, position)`` says: here is a record, and ``position`` is where reading
resumes *after* it. A position (and a split) is any picklable value: an offset, a page number, a
timestamp, a cursor string. A split whose generator ends is finished (a bounded source ends when
all are); a generator that never ends makes an unbounded source.
"""

from __future__ import annotations

import pickle
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["RewindableSource"]


class RewindableSource(ABC):
    """Base class of a user's source that can rewind to a saved position (not in PyFlink).

    Override ``read(split, position)``: a generator of ``(record, position_after_record)``
    pairs, starting at ``position`` (None: the beginning). Override ``splits()`` to read in
    parallel: the splits are dealt out to the source's subtasks (split ``i`` to subtask
    ``i % parallelism``); a job restored at another parallelism deals out the saved positions
    again. Use it with ``env.from_source(source, watermark_strategy, name)``.

    One instance serves every subtask (each split has its own generator): keep what a read
    needs in the generator's local variables, not in attributes of ``self``.
    """

    def splits(self) -> Sequence[Any]:
        """The parts the source is read in (picklable values); one part (``[None]``) unless
        overridden. Called once, when the job is built."""
        return [None]

    @abstractmethod
    def read(self, split: Any, position: Any) -> Iterator[tuple[Any, Any]]:
        """Yields ``(record, position)``: each record of ``split`` from ``position`` on, with
        the position to resume from after it."""

    def _engine_payload(self) -> tuple[RewindableSource, list[Any]]:
        splits = list(self.splits())
        try:
            pickle.dumps(splits)
        except Exception as e:  # any pickling failure is the user's to fix
            raise TypeError(
                f"{type(self).__name__}.splits() must return picklable values (they go into "
                f"checkpoints): {e}"
            ) from e
        return self, splits
