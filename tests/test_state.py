"""Keyed state (in memory): ValueState, ListState, MapState, ReducingState, AggregatingState in
keyed functions and window functions, at parallelism 1 and 2."""

from __future__ import annotations

from typing import Any

import pytest

from ferroflow.common import Time
from ferroflow.datastream import KeyedCoProcessFunction, KeyedProcessFunction, MapFunction, ProcessWindowFunction
from ferroflow.datastream.functions import AggregateFunction
from ferroflow.datastream.state import (
    AggregatingStateDescriptor,
    ListStateDescriptor,
    MapStateDescriptor,
    ReducingStateDescriptor,
    ValueStateDescriptor,
)
from ferroflow.datastream.window import GlobalWindows, Trigger, TriggerResult, TumblingEventTimeWindows
from ferroflow.testing import TestHarness

ON_BOTH_BACKENDS = True

DATA = [("a", 1), ("b", 10), ("a", 2), ("c", 5), ("b", 20), ("a", 3)]


def by_key(results: list[Any]) -> dict[Any, list[Any]]:
    grouped: dict[Any, list[Any]] = {}
    for r in results:
        grouped.setdefault(r[0], []).append(r[1:])
    return grouped


class Dedup(KeyedProcessFunction):
    def open(self, runtime_context: Any) -> None:
        self.seen = runtime_context.get_state(ValueStateDescriptor("seen"))

    def process_element(self, value: Any, ctx: Any) -> Any:
        if self.seen.value() is None:
            self.seen.update(True)
            yield value


def test_value_state_is_per_key(env):
    data = [("a", 1), ("b", 1), ("a", 2), ("b", 2), ("c", 3)]
    got = env.from_collection(data).key_by(lambda t: t[0]).process(Dedup()).execute_and_collect()
    assert sorted(got) == [("a", 1), ("b", 1), ("c", 3)]


class Avg(AggregateFunction):
    def create_accumulator(self) -> Any:
        return (0, 0)

    def add(self, value: Any, accumulator: Any) -> Any:
        return (accumulator[0] + value[1], accumulator[1] + 1)

    def get_result(self, accumulator: Any) -> Any:
        return accumulator[0] / accumulator[1]

    def merge(self, a: Any, b: Any) -> Any:
        return (a[0] + b[0], a[1] + b[1])


class AllKinds(MapFunction):
    def open(self, runtime_context: Any) -> None:
        self.values = runtime_context.get_list_state(ListStateDescriptor("values"))
        self.counts = runtime_context.get_map_state(MapStateDescriptor("counts"))
        self.total = runtime_context.get_reducing_state(ReducingStateDescriptor("total", lambda a, b: a + b))
        self.avg = runtime_context.get_aggregating_state(AggregatingStateDescriptor("avg", Avg()))

    def map(self, value: Any) -> Any:
        parity = value[1] % 2
        self.values.add(value[1])
        self.counts[parity] = self.counts.get(parity, 0) + 1
        self.total.add(value[1])
        self.avg.add(value)
        return (value[0], list(self.values.get()), dict(self.counts.items()), self.total.get(), self.avg.get())


def test_every_kind_of_state_keeps_per_key_history(env):
    got = env.from_collection(DATA).key_by(lambda t: t[0]).map(AllKinds()).execute_and_collect()
    grouped = by_key(list(got))
    assert grouped["a"] == [
        ([1], {1: 1}, 1, 1.0),
        ([1, 2], {1: 1, 0: 1}, 3, 1.5),
        ([1, 2, 3], {1: 2, 0: 1}, 6, 2.0),
    ]
    assert grouped["b"] == [([10], {0: 1}, 10, 10.0), ([10, 20], {0: 2}, 30, 15.0)]
    assert grouped["c"] == [([5], {1: 1}, 5, 5.0)]


class MapOps(MapFunction):
    def open(self, runtime_context: Any) -> None:
        self.m = runtime_context.get_map_state(MapStateDescriptor("m"))
        self.l = runtime_context.get_list_state(ListStateDescriptor("l"))

    def map(self, value: Any) -> Any:
        m, lst = self.m, self.l
        out = [m.is_empty(), "x" in m, m.get("x")]
        m.put_all({"x": 1, "y": 2})
        m["z"] = 3
        del m["y"]
        m.remove("missing")
        out += [sorted(m.keys()), sorted(m.values()), sorted(m.items()), sorted(iter(m)), m.contains("z"), m["x"]]
        with pytest.raises(KeyError):
            m["nope"]
        lst.update([3, 4])
        lst.add_all([5])
        out += [list(lst), list(lst.get())]
        lst.update([])
        out += [list(lst.get())]
        m.clear()
        out += [m.is_empty()]
        return out


def test_map_and_list_state_operations(env):
    got = env.from_collection([("k", 1)]).key_by(lambda t: t[0]).map(MapOps()).execute_and_collect(limit=1)
    assert got == [
        [True, False, None, ["x", "z"], [1, 3], [("x", 1), ("z", 3)], ["x", "z"], True, 1, [3, 4, 5], [3, 4, 5], [],
         True]
    ]


class UsesStateOnUnkeyed(MapFunction):
    def open(self, runtime_context: Any) -> None:
        runtime_context.get_state(ValueStateDescriptor("s"))

    def map(self, value: Any) -> Any:
        return value


def test_state_outside_a_keyed_stream_is_a_clear_error(env):
    env.from_collection([1]).map(UsesStateOnUnkeyed()).add_sink(lambda v: None)
    with pytest.raises(RuntimeError, match="keyed stream"):
        env.execute()


class NameClash(MapFunction):
    def open(self, runtime_context: Any) -> None:
        runtime_context.get_state(ValueStateDescriptor("s"))
        runtime_context.get_list_state(ListStateDescriptor("s"))

    def map(self, value: Any) -> Any:
        return value


def test_one_name_two_kinds_is_a_clear_error(env):
    env.from_collection([("a", 1)]).key_by(lambda t: t[0]).map(NameClash()).add_sink(lambda v: None)
    with pytest.raises(ValueError, match="already a ValueState"):
        env.execute()


class ReadsInOpen(MapFunction):
    def open(self, runtime_context: Any) -> None:
        runtime_context.get_state(ValueStateDescriptor("s")).value()

    def map(self, value: Any) -> Any:
        return value


def test_reading_state_without_a_current_key_is_a_clear_error(env):
    env.from_collection([("a", 1)]).key_by(lambda t: t[0]).map(ReadsInOpen()).add_sink(lambda v: None)
    with pytest.raises(RuntimeError, match="belongs to a key"):
        env.execute()


def test_descriptors_check_their_arguments():
    with pytest.raises(TypeError, match="non-empty str"):
        ValueStateDescriptor("")
    with pytest.raises(TypeError, match="AggregateFunction"):
        AggregatingStateDescriptor("a", object())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ReducingStateDescriptor("r", 42)  # type: ignore[arg-type]


class CountsFires(ProcessWindowFunction):
    def process(self, key: Any, context: Any, elements: Any) -> Any:
        per_window = context.window_state().get_state(ValueStateDescriptor("fires"))
        total = context.global_state().get_state(ValueStateDescriptor("total"))
        per_window.update((per_window.value() or 0) + 1)
        total.update((total.value() or 0) + 1)
        yield (key, context.window().start, per_window.value(), total.value())

    def clear(self, context: Any) -> None:
        context.window_state().get_state(ValueStateDescriptor("fires")).clear()


def test_window_state_is_per_window_and_global_state_spans_windows(ff_env):
    with TestHarness(ff_env) as h:
        src = h.source()
        windows = src.stream.key_by(lambda e: e[0]).window(TumblingEventTimeWindows.of(Time.milliseconds(10)))
        out = h.output(windows.allowed_lateness(100).process(CountsFires()))
        src.add(("a", 1), timestamp=1).add(("b", 1), timestamp=3).watermark(10)
        assert sorted(out.take()) == [("a", 0, 1, 1), ("b", 0, 1, 1)]
        src.add(("a", 1), timestamp=2)  # late within the lateness: fires [0, 10) again
        assert out.take() == [("a", 0, 2, 2)]
        src.add(("a", 1), timestamp=12).watermark(20)
        assert out.take() == [("a", 10, 1, 3)]


class EveryThird(Trigger):
    """Fires a window on every third element, counting in partitioned state."""

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Any) -> TriggerResult:
        count = ctx.get_partitioned_state(ValueStateDescriptor("count"))
        n = (count.value() or 0) + 1
        count.update(n)
        return TriggerResult.FIRE if n % 3 == 0 else TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Any, ctx: Any) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: Any, ctx: Any) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_merge(self, window: Any, ctx: Any) -> None:
        pass

    def clear(self, window: Any, ctx: Any) -> None:
        ctx.get_partitioned_state(ValueStateDescriptor("count")).clear()


def test_a_python_trigger_keeps_partitioned_state_per_key_and_window(env):
    data = [("a", 1), ("b", 10), ("a", 2), ("a", 3), ("b", 20), ("a", 4), ("b", 30), ("a", 5), ("a", 6)]
    got = (
        env.from_collection(data)
        .key_by(lambda t: t[0])
        .window(GlobalWindows.create())
        .trigger(EveryThird())
        .reduce(lambda x, y: (x[0], x[1] + y[1]))
        .execute_and_collect()
    )
    assert sorted(got) == [("a", 6), ("a", 21), ("b", 60)]


class Enrich(KeyedCoProcessFunction):
    """Stream-table enrichment: customers (input 2) are kept in state by id; orders (input 1)
    wait in a ListState until their customer is known."""

    def open(self, runtime_context: Any) -> None:
        self.customer = runtime_context.get_state(ValueStateDescriptor("customer"))
        self.waiting = runtime_context.get_list_state(ListStateDescriptor("waiting"))

    def process_element1(self, value: Any, ctx: Any) -> Any:
        name = self.customer.value()
        if name is None:
            self.waiting.add(value)
        else:
            yield value[1], name

    def process_element2(self, value: Any, ctx: Any) -> Any:
        self.customer.update(value[0])
        for order in self.waiting.get():
            yield order[1], value[0]
        self.waiting.clear()


def test_keyed_co_process_function_keeps_state_for_both_inputs(env):
    orders = [(1, "book"), (2, "pen"), (1, "lamp"), (3, "cup"), (9, "lost")]
    customers = [("ann", 1), ("bob", 2), ("cid", 3)]
    ds = (
        env.from_collection(orders)
        .connect(env.from_collection(customers))
        .key_by(lambda o: o[0], lambda c: c[1])
        .process(Enrich())
    )
    assert sorted(ds.execute_and_collect()) == [("book", "ann"), ("cup", "cid"), ("lamp", "ann"), ("pen", "bob")]
