"""Internal: iterators that a job stopped reading before their end.

``from_iterable`` reads its iterator ahead of the job (a bounded queue). When the job stops
early (``execute_and_collect(limit=...)``, a cancel, a failure), the items read ahead were never
delivered, so the iterator is not where the user would think: it is marked spent here, and a
later ``from_iterable`` of it is refused with a message that says why."""

from __future__ import annotations

import weakref
from typing import Any

__all__ = ["check_not_spent", "is_spent", "mark_spent"]

_spent: weakref.WeakSet[Any] = weakref.WeakSet()
# Iterators that cannot be weakly referenced, kept alive by id (only ever ones a job stopped
# reading early).
_spent_by_id: dict[int, Any] = {}


def mark_spent(iterator: Any) -> None:
    """Called by the engine when a job stopped reading ``iterator`` before its end."""
    try:
        _spent.add(iterator)
    except TypeError:
        _spent_by_id[id(iterator)] = iterator


def is_spent(iterator: Any) -> bool:
    # A WeakSet says False for what it cannot reference weakly.
    return _spent_by_id.get(id(iterator)) is iterator or iterator in _spent


def check_not_spent(iterator: Any) -> None:
    """Refuses an iterator that an earlier job stopped reading before its end."""
    if is_spent(iterator):
        raise ValueError(
            "from_iterable(): this iterator was read by an earlier job that stopped before its "
            "end (a limit, a cancel or a failure); the items that job had read ahead were not "
            "delivered, so the iterator cannot be continued where its results stopped. Pass a new "
            "iterator, or a function that returns one (from_iterable(lambda: ...)) so that each "
            "job reads its own."
        )
