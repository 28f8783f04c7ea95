"""Operator state: a CheckpointedFunction registers list states in ``initialize_state`` (before
``open``); snapshots of every subtask restore at another parallelism, list state split evenly,
union list state whole in every subtask."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ferroflow._engine import OperatorStateStore
from ferroflow.common import Time
from ferroflow.datastream import CheckpointedFunction, MapFunction, StreamExecutionEnvironment
from ferroflow.datastream.state import ListStateDescriptor, MapStateDescriptor, StateTtlConfig

ON_BOTH_BACKENDS = True


class CountingMap(MapFunction, CheckpointedFunction):
    """Counts records per subtask in operator state; remembers the order of its calls."""

    calls: ClassVar[list[tuple[int, str, Any]]] = []

    def initialize_state(self, context: Any) -> None:
        store = context.get_operator_state_store()
        self.counts = store.get_list_state(ListStateDescriptor("counts"))
        self.everywhere = store.get_union_list_state(ListStateDescriptor("everywhere"))
        self.calls.append((id(self), "initialize_state", context.is_restored()))

    def open(self, runtime_context: Any) -> None:
        self.calls.append((id(self), "open", list(self.counts.get())))
        self.n = 0

    def map(self, value: Any) -> Any:
        self.n += 1
        return value

    def snapshot_state(self, context: Any) -> None:
        self.counts.update([self.n])


def test_initialize_state_runs_before_open_in_each_subtask(env: StreamExecutionEnvironment, parallelism: int):
    CountingMap.calls = []
    out = env.from_collection(list(range(10))).map(CountingMap()).execute_and_collect()
    assert sorted(out) == list(range(10))
    by_instance: dict[int, list[str]] = {}
    for instance, call, arg in CountingMap.calls:
        by_instance.setdefault(instance, []).append(call)
        if call == "initialize_state":
            assert arg is False  # nothing restored
        if call == "open":
            assert arg == []
    assert len(by_instance) == parallelism
    assert all(calls == ["initialize_state", "open"] for calls in by_instance.values())


def snapshot_subtasks(tmp_path: Path, contents: list[tuple[list[Any], list[Any]]]) -> list[Path]:
    dirs = []
    for index, (split, union) in enumerate(contents):
        store = OperatorStateStore()
        store.get_list_state(ListStateDescriptor("offsets")).add_all(split)
        store.get_union_list_state(ListStateDescriptor("seen")).update(union)
        store.snapshot(tmp_path / f"old{index}")
        dirs.append(tmp_path / f"old{index}")
    return dirs


@pytest.mark.parametrize("new_parallelism", [1, 2, 3, 5])
def test_list_state_is_split_and_union_state_is_everywhere_after_a_restore(tmp_path: Path, new_parallelism: int):
    dirs = snapshot_subtasks(tmp_path, [([("p0", 1), ("p1", 7)], ["a"]), ([("p2", 3)], ["b", {"c": 1}])])
    split: list[Any] = []
    for index in range(new_parallelism):
        store = OperatorStateStore.restore(dirs, index, new_parallelism)
        assert store.is_restored()
        assert store.get_registered_state_names() == ["offsets", "seen"]
        mine = store.get_list_state(ListStateDescriptor("offsets")).get()
        assert len(mine) <= -(-3 // new_parallelism)
        split += mine
        assert store.get_union_list_state(ListStateDescriptor("seen")).get() == ["a", "b", {"c": 1}]
    assert split == [("p0", 1), ("p1", 7), ("p2", 3)]


def test_operator_list_state_operations():
    state = OperatorStateStore().get_list_state(ListStateDescriptor("l"))
    assert state.get() == []
    state.add(1)
    state.add_all([2, 3])
    assert list(state) == [1, 2, 3]
    got = state.get()
    got.append(99)  # a copy: the state is unchanged
    assert state.get() == [1, 2, 3]
    state.update([4])
    assert state.get() == [4]
    state.clear()
    assert state.get() == []


def test_operator_state_mistakes_are_clear_errors(tmp_path: Path):
    store = OperatorStateStore()
    store.get_list_state(ListStateDescriptor("l"))
    with pytest.raises(ValueError, match="already a list state, so it cannot also be a union list state"):
        store.get_union_list_state(ListStateDescriptor("l"))
    with pytest.raises(TypeError, match="must be a ListStateDescriptor"):
        store.get_list_state(MapStateDescriptor("m"))
    with pytest.raises(TypeError, match="expected a ListStateDescriptor, got a value of type 'str'"):
        store.get_list_state("l")
    d = ListStateDescriptor("t")
    d.enable_time_to_live(StateTtlConfig.new_builder(Time.seconds(1)).build())
    with pytest.raises(ValueError, match="time-to-live is for keyed state only"):
        store.get_list_state(d)
    with pytest.raises(ValueError, match="below the parallelism"):
        OperatorStateStore.restore([], 2, 2)
    with pytest.raises(OSError):
        OperatorStateStore.restore([tmp_path / "missing"], 0, 1)
    store.get_list_state(ListStateDescriptor("l")).add(threading.Lock())
    with pytest.raises(TypeError, match="operator state 'l': a value of type '.*lock' cannot be pickled"):
        store.snapshot(tmp_path / "s")


def test_a_subtask_snapshots_its_operator_state_and_a_new_one_restores_it(tmp_path: Path):
    """What checkpoints will do per subtask: ``snapshot_state`` brings the lists up to date and
    they are written; a restored subtask gets them in ``initialize_state``, restored."""
    from ferroflow.datastream._udf import UdfSpec

    CountingMap.calls = []
    spec = UdfSpec(CountingMap(), ["map"])
    calls, lifecycle = spec.instantiate(("job", "Map", "Map", 0, 1, 128, 0))
    lifecycle.open()
    for v in range(3):
        calls[0](v)
    assert lifecycle.snapshot_state(str(tmp_path / "cp1"), 1, 1000) > 0

    calls, restored = spec.instantiate(("job", "Map", "Map", 0, 1, 128, 1))
    restored.operator_state = OperatorStateStore.restore([tmp_path / "cp1"], 0, 1)
    restored.open()
    assert CountingMap.calls[-2][1:] == ("initialize_state", True)
    assert CountingMap.calls[-1][1:] == ("open", [3])
