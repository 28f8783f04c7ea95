"""Snapshots of keyed state on both backends: every kind of state and TTL stamps come back
exactly; snapshots of some subtasks restore into another number of subtasks by key group;
values that cannot be pickled are named. RocksDB snapshots share unchanged files."""

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

ON_BOTH_BACKENDS = True


@pytest.fixture
def new_store(state_backend: str, rocksdb_dir: Path):
    """Makes stores on the test's backend (RocksDB ones under ``rocksdb_dir``); ``restore``
    restores on it."""

    class Stores:
        count = 0

        def _directory(self) -> Path | None:
            self.count += 1
            return rocksdb_dir / f"store-{self.count}" if state_backend == "rocksdb" else None

        def __call__(self, **kwargs: Any) -> KeyedStateStore:
            return KeyedStateStore(backend=state_backend, directory=self._directory(), **kwargs)

        def restore(self, *args: Any, **kwargs: Any) -> KeyedStateStore:
            return KeyedStateStore.restore(*args, directory=self._directory(), **kwargs)

    return Stores()


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


def test_every_kind_of_state_restores_exactly(tmp_path: Path, new_store, state_backend: str):
    store = new_store(processing_time=0)
    assert store.backend == state_backend
    fill(store)
    before = read(store)
    written = store.snapshot(tmp_path / "s")
    if state_backend == "hashmap":
        assert written["entries"] == len(store) == 6 * len(KEYS)
        assert written["bytes"] == (tmp_path / "s" / "keyed-state.bin").stat().st_size
        assert written["key_groups"] <= len(KEYS)
    else:
        # A row per value and list, one per map entry.
        assert len(store) == 7 * len(KEYS)
        assert written["files"] >= 1 and written["bytes"] > 0
    restored = new_store.restore([tmp_path / "s"], 0, DEFAULT_MAX_PARALLELISM, processing_time=500)
    assert restored.backend == state_backend
    assert len(restored) == len(store)
    assert read(restored) == before
    assert before[1][0] == {"key": 1, "n": 0} and before[1][3] == 10 and before[1][5] == "soon 0"


def test_ttl_stamps_survive_a_snapshot(tmp_path: Path, new_store):
    store = new_store(processing_time=0)
    fill(store)
    store.snapshot(tmp_path / "s")
    restored = new_store.restore([tmp_path / "s"], 0, DEFAULT_MAX_PARALLELISM, processing_time=999)
    expiring = handles(restored)["expiring"]
    restored.set_current_key(1)
    assert expiring.value() == "soon 0"
    restored.set_processing_time(1000)
    assert expiring.value() is None


def test_snapshots_of_two_subtasks_restore_into_three(tmp_path: Path, new_store, state_backend: str):
    """Each old subtask holds the keys of its key groups; a key's group is its stable hash
    modulo max parallelism, so which subtask holds it is found by restoring each range."""
    keys = list(range(300))
    max_p = 16
    # Two "old subtasks": split the keys by the group ranges restore reports for them.
    whole = new_store(max_parallelism=max_p)
    h = handles(whole)
    for k in keys:
        whole.set_current_key(k)
        h["value"].update(k * 2 + 1)
    whole.snapshot(tmp_path / "whole", max_p)
    old_dirs = []
    for index, (start, end) in enumerate([(0, 8), (8, 16)]):
        part = new_store.restore([tmp_path / "whole"], start, end, max_parallelism=max_p)
        part.snapshot(tmp_path / f"old{index}", max_p)
        old_dirs.append(tmp_path / f"old{index}")
    restored_keys: list[int] = []
    for start, end in [(0, 6), (6, 11), (11, 16)]:
        new = new_store.restore(old_dirs, start, end, max_parallelism=max_p)
        got = read(new, keys)
        assert all(v[0] == k * 2 + 1 for k, v in got.items())
        restored_keys += got
        assert len(new) == len(got)
    assert sorted(restored_keys) == keys


def test_a_value_that_cannot_be_pickled_names_the_state_and_type(tmp_path: Path, new_store, state_backend: str):
    store = new_store()
    store.set_current_key("k")
    state = store.view().get_state(ValueStateDescriptor("lock"))
    if state_backend == "rocksdb":
        # RocksDB serializes on every write: the mistake shows where it is made.
        with pytest.raises(TypeError, match=r"state 'lock': a value of type '.*lock' cannot be pickled"):
            state.update(threading.Lock())
        return
    state.update(threading.Lock())
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
    with pytest.raises(ValueError, match="keyed-state.bin cannot be restored: .* the file is damaged"):
        KeyedStateStore.restore([tmp_path / "s"], 0, 128)
    with pytest.raises(ValueError, match="max parallelism"):
        store.snapshot(tmp_path / "t", 0)


def test_a_damaged_rocksdb_snapshot_is_an_error(tmp_path: Path, rocksdb_dir: Path):
    store = KeyedStateStore(backend="rocksdb", directory=rocksdb_dir / "live")
    fill(store)
    store.snapshot(tmp_path / "s")
    with pytest.raises(ValueError, match="mix RocksDB and heap"):
        KeyedStateStore.restore([tmp_path / "s", tmp_path / "nothing"], 0, 128)
    (tmp_path / "s" / "rocksdb-state.json").write_text("{")
    with pytest.raises(OSError, match="not a readable RocksDB snapshot"):
        KeyedStateStore.restore([tmp_path / "s"], 0, 128, directory=rocksdb_dir / "restored")
    del store


def test_rocksdb_snapshots_are_incremental(tmp_path: Path, rocksdb_dir: Path):
    store = KeyedStateStore(backend="rocksdb", directory=rocksdb_dir / "live")
    counter = store.view().get_state(ValueStateDescriptor("counter"))
    for k in range(50_000):
        store.set_current_key(k)
        counter.update(k)
    first = store.snapshot(tmp_path / "1")
    for k in range(100):
        store.set_current_key(k)
        counter.update(-k)
    second = store.snapshot(tmp_path / "2")
    assert first["new_bytes"] == first["bytes"] > 0
    # The second snapshot adds only the changed rows; the rest are the first one's files.
    assert second["new_files"] < second["files"]
    assert second["new_bytes"] < first["bytes"] / 10
    restored = KeyedStateStore.restore([tmp_path / "2"], 0, 128, directory=rocksdb_dir / "restored")
    view = restored.view().get_state(ValueStateDescriptor("counter"))
    for k in (0, 99, 100, 49_999):
        restored.set_current_key(k)
        assert view.value() == (-k if k < 100 else k)
    del store, restored
