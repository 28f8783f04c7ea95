"""A ReduceFunction of a keyed stream may keep keyed state of its own, as in PyFlink: its
runtime context's ``get_state(...)`` gives the state of the record's key, on either backend."""

from __future__ import annotations

import pytest

from ferroflow.common import Types
from ferroflow.datastream import StreamExecutionEnvironment
from ferroflow.datastream.functions import ReduceFunction
from ferroflow.datastream.state import ValueStateDescriptor
from ferroflow.datastream.state_backend import EmbeddedRocksDBStateBackend, HashMapStateBackend


class CountingSum(ReduceFunction):
    """Sums the values of a key and counts, in its own state, how many reductions it made."""

    def open(self, runtime_context) -> None:
        self.reductions = runtime_context.get_state(ValueStateDescriptor("reductions", Types.INT()))

    def reduce(self, a: tuple[str, int, int], b: tuple[str, int, int]) -> tuple[str, int, int]:
        n = (self.reductions.value() or 0) + 1
        self.reductions.update(n)
        return (a[0], a[1] + b[1], n)


@pytest.mark.parametrize("backend", ["hashmap", "rocksdb"])
def test_a_reduce_function_keeps_state_per_key(backend: str, tmp_path) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    if backend == "rocksdb":
        rocksdb = EmbeddedRocksDBStateBackend()
        rocksdb.set_db_storage_path(str(tmp_path))
        env.set_state_backend(rocksdb)
    else:
        env.set_state_backend(HashMapStateBackend())
    data = [("a", 1, 0), ("b", 10, 0), ("a", 2, 0), ("a", 3, 0), ("b", 20, 0), ("c", 5, 0)]
    results = list(env.from_collection(data).key_by(lambda v: v[0]).reduce(CountingSum()).execute_and_collect())
    by_key: dict[str, list[tuple[str, int, int]]] = {}
    for r in results:
        by_key.setdefault(r[0], []).append(r)
    # The first record of a key passes as it is; each later one is a reduction counted for
    # that key alone.
    assert by_key["a"] == [("a", 1, 0), ("a", 3, 1), ("a", 6, 2)]
    assert by_key["b"] == [("b", 10, 0), ("b", 30, 1)]
    assert by_key["c"] == [("c", 5, 0)]


def test_a_plain_reduce_callable_still_works() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    data = [("a", 1), ("a", 2), ("b", 3)]
    results = env.from_collection(data).key_by(lambda v: v[0]).reduce(lambda a, b: (a[0], a[1] + b[1]))
    assert sorted(results.execute_and_collect()) == [("a", 1), ("a", 3), ("b", 3)]
