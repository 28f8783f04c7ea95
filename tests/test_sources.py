"""Sources as a user sees their timing: records of a slow iterator go on as they come."""

from __future__ import annotations

import threading
import time
from typing import Any


def test_a_slow_iterators_records_go_on_as_they_come(env):
    """The iterator waits (up to 10 s) for its first record to reach the consumer before it
    makes the second; held back in a batch, the first would only arrive after the wait."""
    first_arrived = threading.Event()
    waited: list[bool] = []

    def slow() -> Any:
        time.sleep(0.01)
        yield "first"
        waited.append(first_arrived.wait(10))
        yield "second"

    with env.from_iterable(slow()).map(lambda v: v.upper()).execute_and_collect() as results:
        got = []
        for value in results:
            got.append(value)
            first_arrived.set()
    assert got == ["FIRST", "SECOND"]
    assert waited == [True], "the first record was held back until the iterator's next one"
