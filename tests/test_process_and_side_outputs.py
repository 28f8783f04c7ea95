"""Process functions and side outputs; connected streams with co-functions."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from ferroflow.datastream import (
    CoFlatMapFunction,
    CoMapFunction,
    CoProcessFunction,
    KeyedCoProcessFunction,
    OutputTag,
    ProcessFunction,
)


def collect(ds) -> list[Any]:
    with ds.execute_and_collect() as results:
        return list(results)


EVEN = OutputTag("even")
NEGATIVE = OutputTag("negative")


class Router(ProcessFunction):
    """Main output: every value doubled; side outputs: even values, negative values."""

    def process_element(self, value, ctx):
        yield value * 2
        if value % 2 == 0:
            yield EVEN, value
        if value < 0:
            yield NEGATIVE, f"neg{value}"


DATA = [1, 2, -3, -4, 5, 6]


# --------------------------------------------------------------------------------------------
# process functions


def test_process_function_yields_values(env):
    class Twice(ProcessFunction):
        def process_element(self, value, ctx):
            yield value
            yield value + 100

    assert sorted(collect(env.from_collection([1, 2]).process(Twice()))) == [1, 2, 101, 102]


def test_process_function_returning_a_list(env):
    class AsList(ProcessFunction):
        def process_element(self, value, ctx):
            return [value, -value]

    assert sorted(collect(env.from_collection([1, 2]).process(AsList()))) == [-2, -1, 1, 2]


def test_process_function_context_timestamp_is_none_without_timestamps(env):
    class Stamp(ProcessFunction):
        def process_element(self, value, ctx):
            yield (value, ctx.timestamp())

    assert sorted(collect(env.from_collection([1, 2]).process(Stamp()))) == [(1, None), (2, None)]


def test_process_function_open_close(env, parallelism):
    log: list[Any] = []

    class Tracked(ProcessFunction):
        def open(self, runtime_context):
            log.append(("open", runtime_context.get_index_of_this_subtask()))

        def process_element(self, value, ctx):
            yield value

        def close(self):
            log.append(("close", None))

    assert sorted(collect(env.from_collection([3, 1, 2]).process(Tracked()))) == [1, 2, 3]
    assert sorted(i for e, i in log if e == "open") == list(range(parallelism))
    assert [e for e, _ in log].count("close") == parallelism


def test_process_with_plain_callable(env):
    def fn(value, ctx):
        yield value + 1
        yield EVEN, value

    main = env.from_collection([1, 2]).process(fn)
    side = main.get_side_output(EVEN)
    main_out: list[int] = []
    side_out: list[int] = []
    main.add_sink(main_out.append)
    side.add_sink(side_out.append)
    env.execute()
    assert sorted(main_out) == [2, 3]
    assert sorted(side_out) == [1, 2]


def test_returning_none_emits_nothing(env):
    class Nothing(ProcessFunction):
        def __init__(self, calls):
            self.calls = calls

        def process_element(self, value, ctx):
            self.calls.append(value)  # and returns None

    calls: list[int] = []
    assert collect(env.from_collection([1, 2, 3]).process(Nothing(calls))) == []
    assert sorted(calls) == [1, 2, 3]


def test_returning_a_non_iterable_raises_type_error(env):
    class Bad(ProcessFunction):
        def process_element(self, value, ctx):
            return 42

    env.from_collection([1, 2, 3]).process(Bad()).add_sink(lambda v: None)
    with pytest.raises(TypeError):
        env.execute()


def test_flat_map_returning_a_non_iterable_raises_type_error(env):
    env.from_collection([1]).flat_map(lambda x: x).add_sink(lambda v: None)
    with pytest.raises(TypeError):
        env.execute()


# --------------------------------------------------------------------------------------------
# side outputs


def test_side_output_with_one_tag(env):
    main = env.from_collection(DATA).process(Router())
    evens = main.get_side_output(EVEN)
    main_out: list[int] = []
    even_out: list[int] = []
    main.add_sink(main_out.append)
    evens.add_sink(even_out.append)
    env.execute()
    # the main output holds no side-output pairs
    assert sorted(main_out) == sorted(v * 2 for v in DATA)
    assert sorted(even_out) == [-4, 2, 6]


def test_side_outputs_with_two_tags(env):
    main = env.from_collection(DATA).process(Router())
    evens = main.get_side_output(EVEN).map(lambda v: ("even", v))
    negatives = main.get_side_output(NEGATIVE).map(lambda v: ("negative", v))
    results = collect(main.map(lambda v: ("main", v)).union(evens, negatives))
    groups: dict[str, list[Any]] = defaultdict(list)
    for name, v in results:
        groups[name].append(v)
    assert sorted(groups["main"]) == [-8, -6, 2, 4, 10, 12]
    assert sorted(groups["even"]) == [-4, 2, 6]
    assert sorted(groups["negative"]) == ["neg-3", "neg-4"]


def test_side_output_read_with_an_equal_tag(env):
    main = env.from_collection(DATA).process(Router())
    same_id = OutputTag("even")
    assert sorted(collect(main.get_side_output(same_id))) == [-4, 2, 6]


def test_side_output_nobody_reads_is_dropped(env):
    results = collect(env.from_collection(DATA).process(Router()))
    assert sorted(results) == sorted(v * 2 for v in DATA)
    assert not any(isinstance(r, tuple) for r in results)


def test_only_side_output_is_read(env):
    main = env.from_collection(DATA).process(Router())
    assert sorted(collect(main.get_side_output(NEGATIVE))) == ["neg-3", "neg-4"]


def test_side_output_tag_reused_across_operators(env):
    class Tagger(ProcessFunction):
        def __init__(self, label):
            self.label = label

        def process_element(self, value, ctx):
            yield value
            yield EVEN, (self.label, value)

    first = env.from_collection([1, 2]).process(Tagger("first"))
    second = first.process(Tagger("second"))
    results = collect(first.get_side_output(EVEN).union(second.get_side_output(EVEN)))
    assert sorted(results) == [("first", 1), ("first", 2), ("second", 1), ("second", 2)]


def test_side_output_of_a_long_stream(env):
    n = 50_000

    class Split(ProcessFunction):
        def process_element(self, value, ctx):
            if value % 10 == 0:
                yield EVEN, value
            else:
                yield value

    main = env.from_collection(list(range(n))).process(Split())
    main_count: list[int] = []
    side: list[int] = []
    main.add_sink(main_count.append)
    main.get_side_output(EVEN).add_sink(side.append)
    env.execute()
    assert len(main_count) == n - n // 10
    assert sorted(side) == list(range(0, n, 10))


def test_side_output_then_further_processing(env):
    main = env.from_collection(DATA).process(Router())
    doubled = main.get_side_output(EVEN).map(lambda v: v * 1000).filter(lambda v: v > 0)
    assert sorted(collect(doubled)) == [2000, 6000]


def test_tuple_whose_first_item_is_not_a_tag_is_a_normal_value(env):
    class Pairs(ProcessFunction):
        def process_element(self, value, ctx):
            yield ("even", value)

    assert sorted(collect(env.from_collection([1, 2]).process(Pairs()))) == [("even", 1), ("even", 2)]


# --------------------------------------------------------------------------------------------
# connected streams


def test_co_map_function(env):
    class Tag(CoMapFunction):
        def map1(self, value):
            return ("ints", value * 2)

        def map2(self, value):
            return ("strs", value.upper())

    ds = env.from_collection([1, 2, 3]).connect(env.from_collection(["a", "b"])).map(Tag())
    assert sorted(collect(ds)) == [("ints", 2), ("ints", 4), ("ints", 6), ("strs", "A"), ("strs", "B")]


def test_co_flat_map_function(env):
    class Spread(CoFlatMapFunction):
        def flat_map1(self, value):
            yield from range(value)

        def flat_map2(self, value):
            return list(value)

    ds = env.from_collection([2, 3]).connect(env.from_collection(["xy"])).flat_map(Spread())
    assert sorted(collect(ds), key=str) == sorted([0, 1, 0, 1, 2, "x", "y"], key=str)


def test_co_map_function_open_close(env, parallelism):
    log: list[str] = []

    class Both(CoMapFunction):
        def open(self, runtime_context):
            log.append("open")

        def map1(self, value):
            return value

        def map2(self, value):
            return -value

        def close(self):
            log.append("close")

    ds = env.from_collection([1, 2]).connect(env.from_collection([3])).map(Both())
    assert sorted(collect(ds)) == [-3, 1, 2]
    assert log.count("open") == parallelism and log.count("close") == parallelism


def test_co_process_function(env):
    class Join(CoProcessFunction):
        def process_element1(self, value, ctx):
            yield ("left", value, ctx.timestamp())

        def process_element2(self, value, ctx):
            yield ("right", value, ctx.timestamp())
            yield EVEN, value

    main = env.from_collection([1, 2]).connect(env.from_collection([10])).process(Join())
    side: list[int] = []
    main.get_side_output(EVEN).add_sink(side.append)
    out: list[Any] = []
    main.add_sink(out.append)
    env.execute()
    assert sorted(out) == [("left", 1, None), ("left", 2, None), ("right", 10, None)]
    assert side == [10]


def test_connected_streams_each_input_in_order_at_parallelism_1(env):
    class Label(CoMapFunction):
        def map1(self, value):
            return ("a", value)

        def map2(self, value):
            return ("b", value)

    n = 5000
    left = env.from_collection(list(range(n)))
    right = env.from_collection(list(range(n)))
    ds = left.connect(right).map(Label()).set_parallelism(1)
    results = collect(ds)
    assert [v for s, v in results if s == "a"] == list(range(n))
    assert [v for s, v in results if s == "b"] == list(range(n))


class KeyedJoin(KeyedCoProcessFunction):
    def __init__(self, seen):
        self.seen = seen

    def open(self, runtime_context):
        self.index = runtime_context.get_index_of_this_subtask()

    def process_element1(self, value, ctx):
        self.seen.append((ctx.get_current_key(), self.index))
        yield ("order", ctx.get_current_key(), value)

    def process_element2(self, value, ctx):
        self.seen.append((ctx.get_current_key(), self.index))
        yield ("customer", ctx.get_current_key(), value)


def test_keyed_co_process_function(env, parallelism):
    orders = env.from_collection([(1, "book"), (2, "pen"), (1, "lamp"), (3, "cup")])
    customers = env.from_collection([("ann", 1), ("bob", 2), ("cid", 3), ("dan", 4)])
    seen: list[Any] = []
    ds = orders.connect(customers).key_by(lambda o: o[0], lambda c: c[1]).process(KeyedJoin(seen))
    results = collect(ds)
    assert sorted(results) == sorted(
        [
            ("order", 1, (1, "book")),
            ("order", 2, (2, "pen")),
            ("order", 1, (1, "lamp")),
            ("order", 3, (3, "cup")),
            ("customer", 1, ("ann", 1)),
            ("customer", 2, ("bob", 2)),
            ("customer", 3, ("cid", 3)),
            ("customer", 4, ("dan", 4)),
        ]
    )
    # values with equal keys from both inputs meet in the same subtask
    subtasks: dict[Any, set] = defaultdict(set)
    for key, index in seen:
        subtasks[key].add(index)
    assert all(len(s) == 1 for s in subtasks.values())
    assert {i for s in subtasks.values() for i in s} <= set(range(parallelism))


def test_keyed_co_process_on_many_keys_meet_in_one_subtask(env, parallelism):
    seen: list[Any] = []
    left = env.from_collection([(f"k{i % 40}", i) for i in range(400)])
    right = env.from_collection([(f"k{i}", -i) for i in range(40)])
    ds = left.connect(right).key_by(lambda v: v[0], lambda v: v[0]).process(KeyedJoin(seen))
    assert len(collect(ds)) == 440
    subtasks: dict[Any, set] = defaultdict(set)
    for key, index in seen:
        subtasks[key].add(index)
    assert len(subtasks) == 40
    assert all(len(s) == 1 for s in subtasks.values())
    if parallelism > 1:
        # 40 keys do not all hash to one subtask
        assert len({i for s in subtasks.values() for i in s}) > 1


def test_keyed_co_process_requires_keyed_function(env):
    connected = env.from_collection([1]).connect(env.from_collection([2])).key_by(lambda x: x, lambda x: x)

    class NotKeyed(CoProcessFunction):
        def process_element1(self, value, ctx):
            yield value

        def process_element2(self, value, ctx):
            yield value

    with pytest.raises(TypeError, match="KeyedCoProcessFunction"):
        connected.process(NotKeyed())
