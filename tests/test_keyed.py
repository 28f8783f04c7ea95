"""Keyed streams: key_by, rolling reduce and aggregations, keys of many types, keyed functions,
keyed process functions, and what a KeyedStream refuses."""

from __future__ import annotations

import dataclasses
from collections import defaultdict, namedtuple
from typing import Any

import pytest

from ferroflow.common import Row
from ferroflow.datastream import (
    FilterFunction,
    FlatMapFunction,
    KeyedProcessFunction,
    KeySelector,
    MapFunction,
    ReduceFunction,
)


def collect(ds) -> list[Any]:
    with ds.execute_and_collect() as results:
        return list(results)


def per_key(values, key) -> dict[Any, list[Any]]:
    """The values grouped by ``key(value)``, each group in arrival order."""
    groups: dict[Any, list[Any]] = defaultdict(list)
    for v in values:
        groups[key(v)].append(v)
    return dict(groups)


# --------------------------------------------------------------------------------------------
# reduce


def test_reduce_pyflink_oracle(env):
    data = [("a", 0), ("c", 1), ("d", 1), ("b", 0), ("e", 1)]
    ds = env.from_collection(data).key_by(lambda x: x[1]).reduce(lambda a, b: (a[0] + b[0], b[1]))
    results = collect(ds)
    assert sorted(results) == sorted([("a", 0), ("ab", 0), ("c", 1), ("cd", 1), ("cde", 1)])
    # rolling: one output per input, in input order within a key
    assert per_key(results, lambda v: v[1]) == {0: [("a", 0), ("ab", 0)], 1: [("c", 1), ("cd", 1), ("cde", 1)]}


def test_reduce_with_reduce_function(env):
    class Concat(ReduceFunction):
        def reduce(self, value1, value2):
            return (value1[0], value1[1] + value2[1])

    data = [("x", "1"), ("y", "a"), ("x", "2"), ("x", "3"), ("y", "b")]
    results = collect(env.from_collection(data).key_by(lambda v: v[0]).reduce(Concat()))
    assert per_key(results, lambda v: v[0]) == {
        "x": [("x", "1"), ("x", "12"), ("x", "123")],
        "y": [("y", "a"), ("y", "ab")],
    }


def test_reduce_first_value_is_emitted_as_is(env):
    calls: list[Any] = []

    def add(a, b):
        calls.append((a, b))
        return a + b

    results = collect(env.from_collection([5, 7, 9]).key_by(lambda x: "same").reduce(add))
    assert results == [5, 12, 21]
    assert calls == [(5, 7), (12, 9)]


def test_reduce_function_open_close(env, parallelism):
    log: list[str] = []

    class Summing(ReduceFunction):
        def open(self, runtime_context):
            log.append("open")

        def reduce(self, value1, value2):
            return value1 + value2

        def close(self):
            log.append("close")

    results = collect(env.from_collection([1, 2, 3, 4]).key_by(lambda x: x % 2).reduce(Summing()))
    assert sorted(results) == sorted([1, 4, 2, 6])
    assert log.count("open") == parallelism
    assert log.count("close") == parallelism


# --------------------------------------------------------------------------------------------
# sum / min / max / min_by / max_by


def test_sum_on_tuples_by_position(env):
    data = [("a", 1), ("b", 2), ("a", 3), ("a", 5), ("b", 4)]
    results = collect(env.from_collection(data).key_by(lambda x: x[0]).sum(1))
    assert per_key(results, lambda v: v[0]) == {"a": [("a", 1), ("a", 4), ("a", 9)], "b": [("b", 2), ("b", 6)]}
    assert all(isinstance(v, tuple) for v in results)


def test_sum_keeps_other_fields_of_the_first_element(env):
    data = [("k", 1, "first"), ("k", 2, "second"), ("k", 3, "third")]
    results = collect(env.from_collection(data).key_by(lambda x: x[0]).sum(1))
    assert results == [("k", 1, "first"), ("k", 3, "first"), ("k", 6, "first")]


def test_sum_of_floats(env):
    data = [("k", 0.5), ("k", 0.25), ("j", 1.5)]
    results = collect(env.from_collection(data).key_by(lambda x: x[0]).sum(1))
    assert per_key(results, lambda v: v[0]) == {"k": [("k", 0.5), ("k", 0.75)], "j": [("j", 1.5)]}


def test_sum_default_position_on_plain_numbers(env):
    results = collect(env.from_collection([1, 2, 3, 4, 5]).key_by(lambda x: x % 2).sum())
    assert sorted(results) == sorted([1, 4, 9, 2, 6])
    # per key: odd 1, 4, 9 and even 2, 6, each in order
    odd = [v for v in results if v in (1, 4, 9)]
    even = [v for v in results if v in (2, 6)]
    assert odd == [1, 4, 9] and even == [2, 6]


def test_min_max_on_plain_numbers(env):
    data = [5, 3, 8, 1, 9]
    mins = collect(env.from_collection(data).key_by(lambda x: 0).min(0))
    maxs = collect(env.from_collection(data).key_by(lambda x: 0).max())
    assert mins == [5, 3, 3, 1, 1]
    assert maxs == [5, 5, 8, 8, 9]


def test_sum_on_rows_by_field_name(env):
    data = [Row(name="a", value=1), Row(name="b", value=10), Row(name="a", value=2), Row(name="a", value=3)]
    results = collect(env.from_collection(data).key_by(lambda r: r.name).sum("value"))
    groups = per_key(results, lambda r: r.name)
    # every emitted row is a separate value: later records must not change rows already emitted
    assert [r.value for r in groups["a"]] == [1, 3, 6]
    assert [r.value for r in groups["b"]] == [10]
    assert all(isinstance(r, Row) for r in results)
    assert groups["a"][-1] == Row(name="a", value=6)


def test_sum_on_rows_by_position(env):
    data = [Row("a", 1), Row("a", 2)]
    results = collect(env.from_collection(data).key_by(lambda r: r[0]).sum(1))
    assert [r[1] for r in results] == [1, 3]


def test_min_max_on_rows_by_field_name(env):
    data = [Row(name="a", value=5, tag="x"), Row(name="a", value=2, tag="y"), Row(name="a", value=7, tag="z")]
    mins = collect(env.from_collection(data).key_by(lambda r: r.name).min("value"))
    maxs = collect(env.from_collection(data).key_by(lambda r: r.name).max("value"))
    assert [(r.value, r.tag) for r in mins] == [(5, "x"), (2, "x"), (2, "x")]
    assert [(r.value, r.tag) for r in maxs] == [(5, "x"), (5, "x"), (7, "x")]


def test_min_by_max_by_on_rows_by_field_name(env):
    data = [Row(name="a", value=5, tag="x"), Row(name="a", value=2, tag="y"), Row(name="a", value=7, tag="z")]
    min_by = collect(env.from_collection(data).key_by(lambda r: r.name).min_by("value"))
    max_by = collect(env.from_collection(data).key_by(lambda r: r.name).max_by("value"))
    assert [r.tag for r in min_by] == ["x", "y", "y"]
    assert [r.tag for r in max_by] == ["x", "x", "z"]


def test_min_and_max_keep_other_fields_of_the_first_element(env):
    data = [("a", 3, "x"), ("a", 1, "y"), ("a", 2, "z"), ("b", 4, "w")]
    mins = collect(env.from_collection(data).key_by(lambda x: x[0]).min(1))
    maxs = collect(env.from_collection(data).key_by(lambda x: x[0]).max(1))
    assert per_key(mins, lambda v: v[0]) == {"a": [("a", 3, "x"), ("a", 1, "x"), ("a", 1, "x")], "b": [("b", 4, "w")]}
    assert per_key(maxs, lambda v: v[0]) == {"a": [("a", 3, "x"), ("a", 3, "x"), ("a", 3, "x")], "b": [("b", 4, "w")]}


def test_min_by_returns_whole_element_and_keeps_earlier_on_ties(env):
    data = [("a", 3, "x"), ("a", 1, "y"), ("a", 1, "z"), ("a", 2, "v"), ("a", 0, "w")]
    results = collect(env.from_collection(data).key_by(lambda x: x[0]).min_by(1))
    assert results == [("a", 3, "x"), ("a", 1, "y"), ("a", 1, "y"), ("a", 1, "y"), ("a", 0, "w")]


def test_max_by_returns_whole_element_and_keeps_earlier_on_ties(env):
    data = [("a", 1, "x"), ("a", 3, "y"), ("a", 3, "z"), ("a", 2, "v"), ("b", 0, "w")]
    results = collect(env.from_collection(data).key_by(lambda x: x[0]).max_by(1))
    assert per_key(results, lambda v: v[0]) == {
        "a": [("a", 1, "x"), ("a", 3, "y"), ("a", 3, "y"), ("a", 3, "y")],
        "b": [("b", 0, "w")],
    }


def test_min_by_max_by_on_plain_numbers(env):
    data = [4, 2, 6, 2]
    assert collect(env.from_collection(data).key_by(lambda x: 0).min_by()) == [4, 2, 2, 2]
    assert collect(env.from_collection(data).key_by(lambda x: 0).max_by(0)) == [4, 4, 6, 6]


def test_aggregation_over_many_keys(env):
    n = 20_000
    data = [(i % 50, i) for i in range(n)]
    results = collect(env.from_collection(data).key_by(lambda x: x[0]).sum(1))
    assert len(results) == n
    groups = per_key(results, lambda v: v[0])
    assert sorted(groups) == list(range(50))
    for k, values in groups.items():
        expected_inputs = [i for i in range(n) if i % 50 == k]
        running = 0
        expected = []
        for i in expected_inputs:
            running += i
            expected.append((k, running))
        assert values == expected


# --------------------------------------------------------------------------------------------
# keys of many types


@dataclasses.dataclass(frozen=True)
class FrozenKey:
    region: str
    shard: int


KEYS = [
    0,
    -7,
    2**70,
    "text",
    "",
    (1, "a"),
    ((1, 2), ("x",)),
    2.5,
    float("-inf"),
    b"\x00bytes",
    None,
    True,
    FrozenKey("eu", 1),
    FrozenKey("us", 2),
]


def test_keys_of_many_types(env):
    data = [(k, 1) for k in KEYS] * 3
    results = collect(env.from_collection(data).key_by(lambda x: x[0]).sum(1))
    final: dict[Any, int] = {}
    for key, count in results:
        final[(type(key), key)] = max(final.get((type(key), key), 0), count)
    assert final == {(type(k), k): 3 for k in KEYS}


def test_current_key_of_many_types_comes_back_equal(env):
    class Echo(KeyedProcessFunction):
        def process_element(self, value, ctx):
            yield (value, ctx.get_current_key())

    data = list(enumerate(KEYS))
    results = collect(env.from_collection(data).key_by(lambda x: x[1]).process(Echo()))
    assert len(results) == len(KEYS)
    for (index, key), current in results:
        assert current == KEYS[index]
        assert type(current) is type(KEYS[index])


def test_key_selector_class(env):
    class ByLength(KeySelector):
        def get_key(self, value):
            return len(value)

    data = ["a", "bb", "c", "dd", "eee"]
    results = collect(env.from_collection(data).key_by(ByLength()).reduce(lambda a, b: a + "+" + b))
    assert per_key(results, lambda v: len(v.split("+")[0])) == {
        1: ["a", "a+c"],
        2: ["bb", "bb+dd"],
        3: ["eee"],
    }


@pytest.mark.parametrize("bad_key", [[1, 2], {"k": 1}], ids=["list", "dict"])
def test_unhashable_key_fails_the_job_with_type_error(env, bad_key):
    ds = env.from_collection([1, 2, 3]).key_by(lambda x: bad_key).reduce(lambda a, b: a + b)
    ds.add_sink(lambda v: None)
    with pytest.raises(TypeError) as info:
        env.execute()
    assert repr(bad_key) in str(info.value)


# --------------------------------------------------------------------------------------------
# keyed map / flat_map / filter / process


def test_keyed_map_flat_map_filter(env):
    data = [("a", 1), ("b", 2), ("a", 3), ("b", 4), ("c", 5)]
    keyed = env.from_collection(data).key_by(lambda x: x[0])
    mapped = collect(keyed.map(lambda x: (x[0], x[1] * 10)))
    flat = collect(env.from_collection(data).key_by(lambda x: x[0]).flat_map(lambda x: [x[0]] * x[1]))
    kept = collect(env.from_collection(data).key_by(lambda x: x[0]).filter(lambda x: x[1] > 2))
    assert sorted(mapped) == [("a", 10), ("a", 30), ("b", 20), ("b", 40), ("c", 50)]
    assert sorted(flat) == sorted(["a"] * 4 + ["b"] * 6 + ["c"] * 5)
    assert sorted(kept) == [("a", 3), ("b", 4), ("c", 5)]


def test_keyed_function_classes_see_each_key_in_one_subtask(env, parallelism):
    seen: list[Any] = []

    class Where(MapFunction):
        def open(self, runtime_context):
            self.index = runtime_context.get_index_of_this_subtask()

        def map(self, value):
            seen.append((value[0], self.index))
            return value

    class Explode(FlatMapFunction):
        def flat_map(self, value):
            yield value
            yield value

    class NotB(FilterFunction):
        def filter(self, value):
            return value[0] != "b"

    data = [(k, i) for i in range(100) for k in "abcdefgh"]
    ds = env.from_collection(data).key_by(lambda x: x[0]).map(Where())
    ds = ds.key_by(lambda x: x[0]).flat_map(Explode()).key_by(lambda x: x[0]).filter(NotB())
    results = collect(ds)
    assert sorted(results) == sorted([v for v in data if v[0] != "b"] * 2)
    subtasks_per_key: dict[str, set] = defaultdict(set)
    for key, index in seen:
        subtasks_per_key[key].add(index)
    assert all(len(s) == 1 for s in subtasks_per_key.values())
    assert {i for s in subtasks_per_key.values() for i in s} <= set(range(parallelism))


def test_keyed_process_function_current_key_and_timestamp(env):
    class WithKey(KeyedProcessFunction):
        def process_element(self, value, ctx):
            yield (ctx.get_current_key(), value, ctx.timestamp())

    data = [("a", 1), ("b", 2), ("a", 3)]
    results = collect(env.from_collection(data).key_by(lambda x: x[0]).process(WithKey()))
    assert sorted(results) == [("a", ("a", 1), None), ("a", ("a", 3), None), ("b", ("b", 2), None)]


def test_keyed_process_function_open_close_and_return_list(env, parallelism):
    log: list[str] = []

    class Counted(KeyedProcessFunction):
        def open(self, runtime_context):
            log.append("open")

        def process_element(self, value, ctx):
            return [value * 2]

        def close(self):
            log.append("close")

    results = collect(env.from_collection([1, 2, 3]).key_by(lambda x: x).process(Counted()))
    assert sorted(results) == [2, 4, 6]
    assert log.count("open") == parallelism and log.count("close") == parallelism


def test_keyed_process_rejects_non_keyed_process_function(env):
    from ferroflow.datastream import ProcessFunction

    class Plain(ProcessFunction):
        def process_element(self, value, ctx):
            yield value

    with pytest.raises(TypeError, match="KeyedProcessFunction"):
        env.from_collection([1]).key_by(lambda x: x).process(Plain())


# --------------------------------------------------------------------------------------------
# re-keying and order


def test_multiple_key_by_in_a_row(env):
    data = [("a", 1, "x"), ("a", 2, "y"), ("b", 3, "x"), ("b", 4, "y")]
    # the last key_by wins: key by the third field
    ds = (
        env.from_collection(data)
        .key_by(lambda v: v[0])
        .key_by(lambda v: v[2])
        .reduce(lambda a, b: (a[0] + b[0], a[1] + b[1], a[2]))
    )
    results = collect(ds)
    assert per_key(results, lambda v: v[2]) == {
        "x": [("a", 1, "x"), ("ab", 4, "x")],
        "y": [("a", 2, "y"), ("ab", 6, "y")],
    }


def test_key_by_after_keyed_map(env):
    data = [(i % 3, i) for i in range(30)]
    ds = env.from_collection(data).key_by(lambda v: v[0]).map(lambda v: (v[1] % 2, v[1])).key_by(lambda v: v[0]).sum(1)
    results = collect(ds)
    final = {k: max(v[1] for v in vs) for k, vs in per_key(results, lambda v: v[0]).items()}
    assert final == {0: sum(i for i in range(30) if i % 2 == 0), 1: sum(i for i in range(30) if i % 2 == 1)}


def test_per_key_order_is_preserved(env, parallelism):
    n = 30_000
    data = [(f"k{i % 17}", i) for i in range(n)]
    ds = env.from_collection(data).key_by(lambda v: v[0]).map(lambda v: v)
    results = collect(ds)
    assert len(results) == n
    for key, values in per_key(results, lambda v: v[0]).items():
        seq = [i for _, i in values]
        assert seq == sorted(seq), f"order of key {key} was not preserved"


def test_keyed_stream_union(env):
    a = env.from_collection([("a", 1), ("b", 2)]).key_by(lambda v: v[0])
    b = env.from_collection([("a", 10)])
    results = collect(a.union(b).map(lambda v: v[1]))
    assert sorted(results) == [1, 2, 10]


def test_project_on_keyed_stream(env):
    results = collect(env.from_collection([("a", 1, True)]).key_by(lambda v: v[0]).project(1, 0))
    assert results == [(1, "a")]


# --------------------------------------------------------------------------------------------
# what a KeyedStream refuses


@pytest.mark.parametrize(
    "call",
    [
        lambda ks: ks.shuffle(),
        lambda ks: ks.rescale(),
        lambda ks: ks.rebalance(),
        lambda ks: ks.forward(),
        lambda ks: ks.broadcast(),
        lambda ks: ks.partition_custom(lambda k, n: 0, lambda v: v),
    ],
    ids=["shuffle", "rescale", "rebalance", "forward", "broadcast", "partition_custom"],
)
def test_keyed_stream_partitioning_raises(env, call):
    keyed = env.from_collection([1, 2]).key_by(lambda x: x)
    with pytest.raises(Exception, match=r"^Cannot override partitioning for KeyedStream\.$"):
        call(keyed)


@pytest.mark.parametrize(
    "call",
    [
        lambda ks: ks.name("x"),
        lambda ks: ks.set_parallelism(2),
        lambda ks: ks.uid("u"),
        lambda ks: ks.disable_chaining(),
        lambda ks: ks.start_new_chain(),
    ],
    ids=["name", "set_parallelism", "uid", "disable_chaining", "start_new_chain"],
)
def test_keyed_stream_operator_properties_raise(env, call):
    keyed = env.from_collection([1, 2]).key_by(lambda x: x)
    with pytest.raises(Exception, match="for KeyedStream is not supported"):
        call(keyed)


def test_operator_after_key_by_can_be_named_and_scaled(env):
    seen: list[int] = []

    class Where(MapFunction):
        def open(self, runtime_context):
            seen.append(runtime_context.get_number_of_parallel_subtasks())

        def map(self, value):
            return value

    ds = env.from_collection([1, 2, 3]).key_by(lambda x: x).map(Where()).name("after key").set_parallelism(3)
    assert ds.get_name() == "after key"
    assert sorted(collect(ds)) == [1, 2, 3]
    assert seen == [3, 3, 3]


P = namedtuple("P", "a b")


def test_equal_namedtuple_keys_are_one_key_whatever_their_parts_identity(env):
    """Keys that are not plain values are encoded by value: P(x, x) and P(x, y) with x == y but
    x is not y are one key, as in a dict."""
    x = "key-" + str(1)
    y = "key-" + str(1)
    assert x == y and x is not y
    data = [(P(x, x), 1), (P(x, y), 1), (P(y, y), 1)]
    got = env.from_collection(data).key_by(lambda t: t[0]).reduce(lambda a, b: (a[0], a[1] + b[1])).execute_and_collect()
    assert [v for _, v in got] == [1, 2, 3]
    assert all(type(k) is P for k, _ in got)


def test_equal_frozenset_keys_are_one_key_whatever_their_order(env):
    # 1 and 9 collide in a small set's table, so the two sets iterate in different orders.
    a, b = frozenset([1, 9]), frozenset([9, 1])
    assert a == b and list(a) != list(b)
    got = env.from_collection([(a, 1), (b, 1)]).key_by(lambda t: t[0]).reduce(lambda x, y: (x[0], x[1] + y[1]))
    assert [v for _, v in got.execute_and_collect()] == [1, 2]
