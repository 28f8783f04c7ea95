"""Choosing a state backend (by object or configuration), the issue's Dedup example with the same
results on both, RocksDB files under the configured directory and gone after the job, and the
background cleanup of expired entries."""

from __future__ import annotations

import os
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from ferroflow._engine import KeyedStateStore
from ferroflow.common import Configuration, Time, Types
from ferroflow.datastream import (
    EmbeddedRocksDBStateBackend,
    HashMapStateBackend,
    KeyedProcessFunction,
    PredefinedOptions,
    StreamExecutionEnvironment,
)
from ferroflow.datastream.state import (
    ListStateDescriptor,
    MapStateDescriptor,
    StateTtlConfig,
    ValueStateDescriptor,
)
from ferroflow.datastream.state_backend import parse_memory_size

ON_BOTH_BACKENDS = True


class Dedup(KeyedProcessFunction):
    """The issue's example: each value once per hour."""

    def open(self, ctx: Any) -> None:
        ttl = StateTtlConfig.new_builder(Time.hours(1)).build()
        d = ValueStateDescriptor("seen", Types.BOOLEAN())
        d.enable_time_to_live(ttl)
        self.seen = ctx.get_state(d)

    def process_element(self, value: Any, ctx: Any) -> Any:
        if self.seen.value() is None:
            self.seen.update(True)
            yield value


def test_dedup_gives_the_same_results_on_both_backends(env: StreamExecutionEnvironment, state_backend: str):
    data = [i % 97 for i in range(2000)] + ["a", "b", "a", (1, 2), (1, 2)]
    out = sorted(env.from_collection(data).key_by(lambda v: v).process(Dedup()).execute_and_collect(), key=repr)
    assert out == sorted(set(data), key=repr)
    expected = EmbeddedRocksDBStateBackend if state_backend == "rocksdb" else HashMapStateBackend
    assert isinstance(env.get_state_backend(), expected)


def test_the_backend_is_chosen_by_configuration(tmp_path: Path):
    conf = Configuration()
    conf.set_string("state.backend.type", "rocksdb")
    conf.set_string("state.backend.rocksdb.localdir", str(tmp_path))
    conf.set_string("state.backend.rocksdb.memory.fixed-per-slot", "64mb")
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    backend = env.get_state_backend()
    assert isinstance(backend, EmbeddedRocksDBStateBackend)
    assert backend.get_db_storage_paths() == [str(tmp_path)]
    assert backend.get_memory_budget() == 64 << 20

    seen_dirs: list[list[str]] = []

    class LooksAtTheDirectory(KeyedProcessFunction):
        def open(self, ctx: Any) -> None:
            self.count = ctx.get_state(ValueStateDescriptor("count"))

        def process_element(self, value: Any, ctx: Any) -> Any:
            self.count.update((self.count.value() or 0) + 1)
            seen_dirs.append(os.listdir(tmp_path))
            yield value, self.count.value()

    out = env.from_collection(["x", "y", "x"]).key_by(lambda v: v).process(LooksAtTheDirectory()).execute_and_collect()
    assert sorted(out) == [("x", 1), ("x", 2), ("y", 1)]
    # While the job ran, its store lived under the configured directory; afterwards it is gone.
    assert seen_dirs and all(any(d.startswith("ferroflow-rocksdb-") for d in ds) for ds in seen_dirs)
    assert os.listdir(tmp_path) == []

    conf.set_string("state.backend.type", "hashmap")
    assert isinstance(StreamExecutionEnvironment.get_execution_environment(conf).get_state_backend(), HashMapStateBackend)


def test_backend_mistakes_are_clear_errors():
    env = StreamExecutionEnvironment.get_execution_environment()
    with pytest.raises(TypeError, match="takes a HashMapStateBackend or an EmbeddedRocksDBStateBackend, got str"):
        env.set_state_backend("rocksdb")  # type: ignore[arg-type]
    conf = Configuration()
    conf.set_string("state.backend.type", "forst")
    with pytest.raises(ValueError, match="'hashmap' or 'rocksdb', got 'forst'"):
        StreamExecutionEnvironment.get_execution_environment(conf)
    with pytest.raises(ValueError, match="like '64mb'"):
        EmbeddedRocksDBStateBackend(memory_budget="lots")
    with pytest.raises(TypeError, match="bool or None"):
        EmbeddedRocksDBStateBackend("yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="backend must be 'hashmap' or 'rocksdb'"):
        KeyedStateStore(backend="memory")


def test_rocksdb_backend_settings_read_back():
    backend = EmbeddedRocksDBStateBackend(True)
    assert backend.is_incremental_checkpoints_enabled()
    assert not EmbeddedRocksDBStateBackend().is_incremental_checkpoints_enabled()
    backend.set_db_storage_paths("/a", Path("/b"))
    assert backend.get_db_storage_paths() == ["/a", "/b"]
    backend.set_predefined_options(PredefinedOptions.FLASH_SSD_OPTIMIZED)
    assert backend.get_predefined_options() is PredefinedOptions.FLASH_SSD_OPTIMIZED
    assert backend.set_memory_budget("1 gb").get_memory_budget() == 1 << 30
    assert [parse_memory_size(s) for s in (4096, "512k", "2MiB", "3 g")] == [4096, 512 << 10, 2 << 20, 3 << 30]


def expiring(ms: int, builder: Any = None) -> StateTtlConfig:
    b = builder or StateTtlConfig.new_builder(Time.milliseconds(ms))
    return b.build()


def store_on(state_backend: str, rocksdb_dir: Path, name: str) -> KeyedStateStore:
    directory = rocksdb_dir / name if state_backend == "rocksdb" else None
    return KeyedStateStore(processing_time=0, backend=state_backend, directory=directory)


def test_background_cleanup_drops_expired_entries_nobody_reads(state_backend: str, rocksdb_dir: Path):
    store = store_on(state_backend, rocksdb_dir, "s")
    view = store.view()
    ttl = expiring(100)
    v = ValueStateDescriptor("v")
    v.enable_time_to_live(ttl)
    lst = ListStateDescriptor("l")
    lst.enable_time_to_live(ttl)
    m = MapStateDescriptor("m")
    m.enable_time_to_live(ttl)
    value, items, table = view.get_state(v), view.get_list_state(lst), view.get_map_state(m)
    for k in range(40):
        store.set_current_key(k)
        value.update(k)
        items.add(k)
        table.put("k", k)
    assert len(store) == 120
    store.set_processing_time(1000)
    store.set_current_key("reader")
    if state_backend == "hashmap":
        # Each access checks 5 other keys of the state; a round over a state's keys starts at
        # most once per (entries of all states / 5) accesses: all 40 keys within 40 accesses.
        for _ in range(40):
            value.value()
            items.get()
            table.get("k")
    else:
        store.compact()
    assert len(store) == 0


def test_without_background_cleanup_expired_entries_wait_to_be_touched():
    store = KeyedStateStore(processing_time=0)
    d = ValueStateDescriptor("v")
    d.enable_time_to_live(expiring(100, StateTtlConfig.new_builder(Time.milliseconds(100)).disable_cleanup_in_background()))
    state = store.view().get_state(d)
    for k in range(10):
        store.set_current_key(k)
        state.update(k)
    store.set_processing_time(1000)
    store.set_current_key("reader")
    for _ in range(10):
        state.value()
    assert len(store) == 10
    store.set_current_key(3)
    assert state.value() is None
    assert len(store) == 9


def test_full_snapshot_cleanup_leaves_expired_entries_out(tmp_path: Path):
    store = KeyedStateStore(processing_time=0)
    d = ValueStateDescriptor("v")
    builder = StateTtlConfig.new_builder(Time.milliseconds(100)).disable_cleanup_in_background().cleanup_full_snapshot()
    d.enable_time_to_live(builder.build())
    state = store.view().get_state(d)
    for k in range(10):
        store.set_processing_time(k * 10)
        store.set_current_key(k)
        state.update(k)
    assert len(store) == 10
    # At 150, the keys written at 50 or before (0 to 5) expired.
    store.set_processing_time(150)
    assert store.snapshot(tmp_path / "s")["entries"] == 4
    restored = KeyedStateStore.restore([tmp_path / "s"], 0, 128, processing_time=150)
    assert len(restored) == 4


class Point(NamedTuple):
    x: int
    y: int


class Level(IntEnum):
    LOW = 1


class Colour(StrEnum):
    RED = "red"


class Real(float):
    pass


def test_map_keys_are_equal_when_type_and_value_are_on_both_backends(state_backend: str, rocksdb_dir: Path):
    store = store_on(state_backend, rocksdb_dir, "s")
    store.set_current_key("k")
    m = store.view().get_map_state(MapStateDescriptor("m"))
    # As keys of keyed streams (PyFlink compares keys in serialized form): another type is
    # another key, even where Python's dict would merge them.
    m.put(1, "one")
    assert m.get(1) == "one"
    assert m.get(True) is None and m.get(1.0) is None and m.get(Level.LOW) is None
    m.put(True, "true")
    m.put(1.0, "one point zero")
    m.put(Level.LOW, "low")
    assert [m.get(k) for k in (1, True, 1.0, Level.LOW)] == ["one", "true", "one point zero", "low"]
    m.put(Point(1, 2), "p")
    assert m.get(Point(1, 2)) == "p" and m.get((1, 2)) is None
    m.put(("a", Point(3, 4)), "nested")
    assert m.get(("a", Point(3, 4))) == "nested" and m.get(("a", (3, 4))) is None
    m.put(Colour.RED, "r")
    assert m.get(Colour.RED) == "r" and m.get("red") is None
    # Keys come back as they were put, with their own types.
    keys = list(m.keys())
    assert sorted(map(repr, keys)) == sorted(
        ["1", "True", "1.0", repr(Level.LOW), "Point(x=1, y=2)", "('a', Point(x=3, y=4))", repr(Colour.RED)]
    )
    assert sorted(type(k).__name__ for k in keys if k == 1) == ["Level", "bool", "float", "int"]
    m.remove(True)
    assert m.contains(1) and not m.contains(True) and m.contains(1.0)
    assert len(list(m.items())) == 6
    assert sorted(map(repr, m.values())) == sorted(map(repr, ["one", "one point zero", "low", "p", "nested", "r"]))
    m.put(Real(2.5), "real")
    m.put(2.5, "float")
    assert m.get(Real(2.5)) == "real" and m.get(2.5) == "float"


def test_a_rejected_time_to_live_changes_nothing(state_backend: str, rocksdb_dir: Path):
    store = store_on(state_backend, rocksdb_dir, "s")
    view = store.view()
    day = ValueStateDescriptor("v")
    day.enable_time_to_live(expiring(86_400_000))
    state = view.get_state(day)
    second = ValueStateDescriptor("v")
    second.enable_time_to_live(expiring(1000))
    with pytest.raises(ValueError, match="'v' is already used with a time-to-live of 86400000 ms"):
        view.get_state(second)
    for k in range(10):
        store.set_current_key(k)
        state.update(k)
    store.set_processing_time(60_000)
    store.compact()
    assert len(store) == 10


def test_state_restored_with_another_time_to_live_setting_is_a_clear_error(
    state_backend: str, rocksdb_dir: Path, tmp_path: Path
):
    store = store_on(state_backend, rocksdb_dir, "s")
    d = ValueStateDescriptor("v")
    d.enable_time_to_live(expiring(1000))
    store.set_current_key(1)
    store.view().get_state(d).update("x")
    store.snapshot(tmp_path / "snap")
    directory = rocksdb_dir / "r" if state_backend == "rocksdb" else None
    restored = KeyedStateStore.restore([tmp_path / "snap"], 0, 128, processing_time=0, directory=directory)
    with pytest.raises(ValueError, match="'v' was kept with a time-to-live, so it cannot be used without one"):
        restored.view().get_state(ValueStateDescriptor("v"))
    with pytest.raises(ValueError, match=r"key groups 5\.\.2 are not a range within 0\.\.128"):
        KeyedStateStore.restore([tmp_path / "snap"], 5, 2)


class SneakyKey:
    """A map key whose hash reads state."""

    state: Any = None

    def __hash__(self) -> int:
        SneakyKey.state.value()
        return 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SneakyKey)


def test_state_used_from_a_map_keys_hash_is_a_clear_error(state_backend: str, rocksdb_dir: Path):
    store = store_on(state_backend, rocksdb_dir, "s")
    store.set_current_key("k")
    view = store.view()
    m = view.get_map_state(MapStateDescriptor("m"))
    SneakyKey.state = view.get_state(ValueStateDescriptor("c"))
    m.put("x", 1)
    try:
        # Both backends check the key is hashable while they make its byte form: the error
        # names the key's __hash__, with the store's own error as its cause.
        for use in (m.get, lambda k: m.put(k, 2)):
            with pytest.raises(TypeError, match="its __hash__ raised RuntimeError") as info:
                use(SneakyKey())
            assert isinstance(info.value.__cause__, RuntimeError)
            assert "must not use state" in str(info.value.__cause__)
        assert m.get("x") == 1
    finally:
        SneakyKey.state = None


def test_rolling_aggregations_give_the_same_results_on_both_backends(
    env: StreamExecutionEnvironment, backend_dir: Path | None
):
    data = [("a", 1, 5), ("b", 2, 1), ("a", 3, 2), ("c", 4, 9), ("b", 5, 7), ("a", 6, 1)]
    seen_dirs: list[list[str]] = []

    def look(v: Any) -> Any:
        if backend_dir is not None:
            seen_dirs.append(os.listdir(backend_dir))
        return v

    keyed = env.from_collection(data).key_by(lambda t: t[0])
    reduced = keyed.reduce(lambda a, b: (a[0], a[1] + b[1], max(a[2], b[2]))).map(look)
    summed = keyed.sum(1)
    smallest = keyed.min_by(2)
    got = sorted(reduced.execute_and_collect())
    assert got == sorted(
        [("a", 1, 5), ("b", 2, 1), ("a", 4, 5), ("c", 4, 9), ("b", 7, 7), ("a", 10, 5)]
    )
    assert sorted(summed.execute_and_collect()) == sorted(
        [("a", 1, 5), ("b", 2, 1), ("a", 4, 5), ("c", 4, 9), ("b", 7, 1), ("a", 10, 5)]
    )
    assert sorted(smallest.execute_and_collect()) == sorted(
        [("a", 1, 5), ("b", 2, 1), ("a", 3, 2), ("c", 4, 9), ("b", 2, 1), ("a", 6, 1)]
    )
    if backend_dir is not None:
        # The reduce kept its accumulators in a RocksDB store of its own while it ran.
        assert seen_dirs and all(any("Reduce" in d for d in ds) for ds in seen_dirs)
