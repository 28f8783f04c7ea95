"""``CloseableIterator``: what ``execute_and_collect()`` returns without a ``limit``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ferroflow import _engine

if TYPE_CHECKING:
    from typing_extensions import Self


class CloseableIterator:
    """The results of ``execute_and_collect()``, as they arrive. Closing it (or leaving a ``with``
    block) stops the job if it is still running."""

    def __init__(self, inner: _engine.CollectIterator) -> None:
        self._inner = inner

    def __iter__(self) -> CloseableIterator:
        return self

    def __next__(self) -> Any:
        return next(self._inner)

    def next(self) -> Any:
        return next(self._inner)

    def close(self) -> None:
        self._inner.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
