"""Keys are equal when they have the same type and the same value, recursively in tuples
(PyFlink compares keys in serialized form): True, 1 and 1.0 are three keys, 0.0 and -0.0 two,
a NaN finds its own state again; keys come back with their own types; the same holds for
MapState's keys and survives a snapshot, on both backends."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ferroflow._engine import KeyedStateStore
from ferroflow.datastream import KeyedProcessFunction
from ferroflow.datastream.state import MapStateDescriptor, ValueStateDescriptor

ON_BOTH_BACKENDS = True

NAN = float("nan")

# Each of these is its own key; every key appears twice in the input.
KEYS: list[Any] = [True, 1, 1.0, False, 0, 0.0, -0.0, NAN, "1", b"1", (1, (True, 2.0)), (1, (1, 2)), (True, (1, 2.0))]


def shown(key: Any) -> str:
    """A key with its type, recursively (``1`` and ``1.0`` differ, NaN equals itself)."""
    if isinstance(key, tuple):
        return "(" + ", ".join(shown(k) for k in key) + ")"
    return f"{type(key).__name__}:{key!r}"


class CountPerKey(KeyedProcessFunction):
    def open(self, ctx: Any) -> None:
        self.count = ctx.get_state(ValueStateDescriptor("count"))

    def process_element(self, value: Any, ctx: Any) -> Any:
        n = (self.count.value() or 0) + 1
        self.count.update(n)
        yield ctx.get_current_key(), n


def test_keys_of_other_types_or_signs_are_other_keys_with_their_own_state(env):
    data = [k for k in KEYS for _ in range(2)]
    out = list(env.from_collection(data).key_by(lambda v: v).process(CountPerKey()).execute_and_collect())
    final: dict[str, int] = {}
    for key, n in out:
        final[shown(key)] = max(final.get(shown(key), 0), n)
    assert final == {shown(k): 2 for k in KEYS}
    assert len(final) == len(KEYS) == 13
    # 1.0 stays a float, True a bool, -0.0 keeps its sign, NaN is still NaN.
    assert {type(k) for k, _ in out if k == 1 and not isinstance(k, tuple)} == {bool, int, float}
    assert any(isinstance(k, float) and k == 0 and math.copysign(1, k) < 0 for k, _ in out)
    assert any(isinstance(k, float) and math.isnan(k) for k, _ in out)


def test_rolling_reduce_keeps_true_one_and_one_point_zero_apart(env):
    data = [(True, 1), (1, 10), (1.0, 100), (True, 1), (1, 10), (1.0, 100)]
    out = list(env.from_collection(data).key_by(lambda v: v[0]).reduce(lambda a, b: (a[0], a[1] + b[1])).execute_and_collect())
    assert sorted(map(shown, out)) == sorted(
        map(shown, [(True, 1), (True, 2), (1, 10), (1, 20), (1.0, 100), (1.0, 200)])
    )


def fill(store: KeyedStateStore) -> None:
    value = store.view().get_state(ValueStateDescriptor("v"))
    entries = store.view().get_map_state(MapStateDescriptor("m"))
    for i, key in enumerate(KEYS):
        store.set_current_key(key)
        value.update(i)
        for j, map_key in enumerate(KEYS):
            entries.put(map_key, (i, j))


def read(store: KeyedStateStore) -> dict[str, Any]:
    value = store.view().get_state(ValueStateDescriptor("v"))
    entries = store.view().get_map_state(MapStateDescriptor("m"))
    seen = {}
    for key in KEYS:
        store.set_current_key(key)
        seen[shown(key)] = (
            value.value(),
            sorted((shown(k), v) for k, v in entries.items()),
            [entries.get(k) for k in KEYS],
        )
    return seen


def test_state_and_map_keys_stay_apart_through_a_snapshot(tmp_path: Path, rocksdb_dir: Path, state_backend: str):
    def directory(name: str) -> Path | None:
        return rocksdb_dir / name if state_backend == "rocksdb" else None

    store = KeyedStateStore(backend=state_backend, directory=directory("live"))
    fill(store)
    before = read(store)
    for i, key in enumerate(KEYS):
        assert before[shown(key)][0] == i
        assert before[shown(key)][2] == [(i, j) for j in range(len(KEYS))]
        assert len(before[shown(key)][1]) == len(KEYS)
    store.snapshot(tmp_path / "s")
    restored = KeyedStateStore.restore([tmp_path / "s"], 0, 128, directory=directory("restored"))
    assert read(restored) == before
    # Two halves of the key groups, as two subtasks of a rescaled job restore them.
    low = KeyedStateStore.restore([tmp_path / "s"], 0, 64, directory=directory("low"))
    high = KeyedStateStore.restore([tmp_path / "s"], 64, 128, directory=directory("high"))
    assert len(low) + len(high) == len(restored)
    del store, restored, low, high
