"""Snapshots of keyed state (in memory): every kind of state, TTL stamps and window namespaces
come back exactly; snapshots of some subtasks restore into another number of subtasks by key
group; values that cannot be pickled are named."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from ferroflow._engine import DEFAULT_MAX_PARALLELISM, KeyedStateStore
from ferroflow.common import Time
from ferroflow.datastream.functions import AggregateFunction
from ferroflow.datastream.state import (
    AggregatingStateDescriptor,
    ListStateDescriptor,
    MapStateDescriptor,
    ReducingStateDescriptor,
    StateTtlConfig,
    ValueStateDescriptor,
)


class Sum(AggregateFunction):
    def create_accumulator(self) -> Any:
        return 0

    def add(self, value: Any, accumulator: Any) -> Any:
        return accumulator + value

    def get_result(self, accumulator: Any) -> Any:
        return accumulator

    def merge(self, a: Any, b: Any) -> Any:
        return a + b


def handles(store: KeyedStateStore) -> dict[str, Any]:
    view = store.view()
    ttl = StateTtlConfig.new_builder(Time.milliseconds(1000)).build()
    expiring = ValueStateDescriptor("expiring")
    expiring.enable_time_to_live(ttl)
    return {
        "value": view.get_state(ValueStateDescriptor("value")),
        "list": view.get_list_state(ListStateDescriptor("list")),
        "map": view.get_map_state(MapStateDescriptor("map")),
        "reducing": view.get_reducing_state(ReducingStateDescriptor("reducing", lambda a, b: a + b)),
        "aggregating": view.get_aggregating_state(AggregatingStateDescriptor("aggregating", Sum())),
        "expiring": view.get_state(expiring),
    }


KEYS = [1, "two", (3, "three"), None, 2.5, 10**30]


def fill(store: KeyedStateStore) -> None:
    h = handles(store)
    for i, key in enumerate(KEYS):
        store.set_current_key(key)
        h["value"].update({"key": key, "n": i})
        h["list"].add_all([i, str(i)])
        h["map"].put_all({"a": i, (i,): [i] * 2})
        h["reducing"].add(i)
        h["reducing"].add(10)
        h["aggregating"].add(i)
        h["expiring"].update(f"soon {i}")


def read(store: KeyedStateStore, keys: list[Any] = KEYS) -> dict[Any, tuple[Any, ...]]:
    h = handles(store)
    seen = {}
    for key in keys:
        store.set_current_key(key)
        got = (
            h["value"].value(),
            h["list"].get(),
            sorted(h["map"].items(), key=repr),
            h["reducing"].get(),
            h["aggregating"].get(),
            h["expiring"].value(),
        )
        if any(v not in (None, [], 0) for v in got):
            seen[key] = got
    return seen


def test_every_kind_of_state_restores_exactly(tmp_path: Path):
    store = KeyedStateStore(processing_time=0)
    fill(store)
    before = read(store)
    entries, groups, size = store.snapshot(tmp_path / "s")
    assert entries == len(store) == 6 * len(KEYS)
    assert size == (tmp_path / "s" / "keyed-state.bin").stat().st_size
    assert groups <= len(KEYS)
    restored = KeyedStateStore.restore([tmp_path / "s"], 0, DEFAULT_MAX_PARALLELISM, processing_time=500)
    assert len(restored) == entries
    assert read(restored) == before
    assert before[1][0] == {"key": 1, "n": 0} and before[1][3] == 10 and before[1][5] == "soon 0"


def test_ttl_stamps_survive_a_snapshot(tmp_path: Path):
    store = KeyedStateStore(processing_time=0)
    fill(store)
    store.snapshot(tmp_path / "s")
    restored = KeyedStateStore.restore([tmp_path / "s"], 0, DEFAULT_MAX_PARALLELISM, processing_time=999)
    expiring = handles(restored)["expiring"]
    restored.set_current_key(1)
    assert expiring.value() == "soon 0"
    restored.set_processing_time(1000)
    assert expiring.value() is None


def test_snapshots_of_two_subtasks_restore_into_three(tmp_path: Path):
    """Each old subtask holds the keys of its key groups; a key's group is its stable hash
    modulo max parallelism, so which subtask holds it is found by restoring each range."""
    keys = list(range(300))
    max_p = 16
    # Two "old subtasks": split the keys by the group ranges restore reports for them.
    whole = KeyedStateStore()
    h = handles(whole)
    for k in keys:
        whole.set_current_key(k)
        h["value"].update(k * 2 + 1)
    whole.snapshot(tmp_path / "whole", max_p)
    old_dirs = []
    for index, (start, end) in enumerate([(0, 8), (8, 16)]):
        part = KeyedStateStore.restore([tmp_path / "whole"], start, end)
        part.snapshot(tmp_path / f"old{index}", max_p)
        old_dirs.append(tmp_path / f"old{index}")
    restored_keys: list[int] = []
    for start, end in [(0, 6), (6, 11), (11, 16)]:
        new = KeyedStateStore.restore(old_dirs, start, end)
        got = read(new, keys)
        assert all(v[0] == k * 2 + 1 for k, v in got.items())
        restored_keys += got
        assert len(new) == len(got)
    assert sorted(restored_keys) == keys


def test_a_value_that_cannot_be_pickled_names_the_state_and_type(tmp_path: Path):
    store = KeyedStateStore()
    store.set_current_key("k")
    store.view().get_state(ValueStateDescriptor("lock")).update(threading.Lock())
    with pytest.raises(TypeError, match=r"state 'lock': a value of type '.*lock' cannot be pickled"):
        store.snapshot(tmp_path / "s")
    assert not (tmp_path / "s" / "keyed-state.bin").exists()


def test_restoring_from_a_missing_or_damaged_snapshot_is_an_error(tmp_path: Path):
    with pytest.raises(OSError, match="keyed-state.bin"):
        KeyedStateStore.restore([tmp_path / "nothing"], 0, 128)
    store = KeyedStateStore()
    fill(store)
    store.snapshot(tmp_path / "s")
    file = tmp_path / "s" / "keyed-state.bin"
    file.write_bytes(file.read_bytes()[:-3])
    with pytest.raises(ValueError, match="not a readable keyed-state snapshot"):
        KeyedStateStore.restore([tmp_path / "s"], 0, 128)
    with pytest.raises(ValueError, match="max parallelism"):
        store.snapshot(tmp_path / "t", 0)
