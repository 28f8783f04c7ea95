"""Broadcast state: ``ds.connect(rules.broadcast(descriptor)).process(...)`` with a
BroadcastProcessFunction, and with a KeyedBroadcastProcessFunction after key_by (stream-table
enrichment), at parallelism 1 and 2. The harness feeds the two inputs in a chosen order."""

from __future__ import annotations

from typing import Any

import pytest

from ferroflow.common import Types
from ferroflow.datastream import (
    BroadcastProcessFunction,
    KeyedBroadcastProcessFunction,
    OutputTag,
    StreamExecutionEnvironment,
    TimeDomain,
)
from ferroflow.datastream.state import ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor
from ferroflow.testing import TestHarness

RATES = MapStateDescriptor("rates", Types.STRING(), Types.FLOAT())
UNKNOWN = OutputTag("unknown")


ON_BOTH_BACKENDS = True


@pytest.fixture
def harness(env: StreamExecutionEnvironment):
    with TestHarness(env) as h:
        yield h


class Convert(BroadcastProcessFunction):
    """Orders (currency, amount) converted with the rates the broadcast side keeps; orders
    whose rate is not known go to a side output."""

    def process_element(self, value: Any, ctx: Any) -> Any:
        rate = ctx.get_broadcast_state(RATES).get(value[0])
        if rate is None:
            yield UNKNOWN, value
        else:
            yield value[0], value[1] * rate

    def process_broadcast_element(self, value: Any, ctx: Any) -> Any:
        currency, rate = value
        state = ctx.get_broadcast_state(RATES)
        if rate is None:
            state.remove(currency)
        else:
            state[currency] = rate


def test_every_instance_reads_the_broadcast_state(harness):
    orders, rates = harness.source(), harness.source()
    converted = orders.stream.rebalance().connect(rates.stream.broadcast(RATES)).process(Convert())
    out = harness.output(converted)
    unknown = harness.output(converted.get_side_output(UNKNOWN))
    rates.add_all([("EUR", 2.0), ("GBP", 3.0)])
    orders.add_all([("EUR", 1.0), ("GBP", 2.0), ("EUR", 5.0), ("JPY", 7.0)])
    assert sorted(out.take()) == [("EUR", 2.0), ("EUR", 10.0), ("GBP", 6.0)]
    assert unknown.take() == [("JPY", 7.0)]
    rates.add_all([("JPY", 0.5), ("EUR", None)])
    orders.add_all([("JPY", 4.0), ("EUR", 1.0), ("JPY", 2.0)])
    assert sorted(out.take()) == [("JPY", 1.0), ("JPY", 2.0)]
    assert unknown.take() == [("EUR", 1.0)]


class Enrich(KeyedBroadcastProcessFunction):
    """Clicks (user, page) keyed by user, enriched with the page titles of the broadcast
    state; counts clicks per user in keyed state, and reports the count 10 ms of event time
    after a user's first click."""

    def open(self, runtime_context: Any) -> None:
        self.clicks = runtime_context.get_state(ValueStateDescriptor("clicks"))

    def process_element(self, value: Any, ctx: Any) -> Any:
        titles = ctx.get_broadcast_state(TITLES)
        n = (self.clicks.value() or 0) + 1
        self.clicks.update(n)
        if n == 1:
            ctx.timer_service().register_event_time_timer(ctx.timestamp() + 10)
        yield ctx.get_current_key(), titles.get(value[1]) or "?", n

    def process_broadcast_element(self, value: Any, ctx: Any) -> Any:
        ctx.get_broadcast_state(TITLES).put(*value)

    def on_timer(self, timestamp: int, ctx: Any) -> Any:
        assert ctx.time_domain() == TimeDomain.EVENT_TIME
        yield ctx.get_current_key(), "clicks by", timestamp, self.clicks.value(), len(ctx.get_broadcast_state(TITLES))


TITLES = MapStateDescriptor("titles", Types.STRING(), Types.STRING())


def test_keyed_broadcast_process_function_has_keyed_state_and_timers(harness):
    clicks, pages = harness.source(), harness.source()
    out = harness.output(clicks.stream.key_by(lambda c: c[0]).connect(pages.stream.broadcast(TITLES)).process(Enrich()))
    pages.add_all([("/", "Home"), ("/a", "About")])
    clicks.add(("ann", "/"), timestamp=1).add(("bob", "/a"), timestamp=2).add(("ann", "/x"), timestamp=3)
    assert sorted(out.take()) == [("ann", "?", 2), ("ann", "Home", 1), ("bob", "About", 1)]
    pages.add(("/x", "Extra"))
    clicks.add(("ann", "/x"), timestamp=5)
    clicks.watermark(100)
    assert out.take() == [("ann", "Extra", 3)]  # the broadcast input holds the watermark back
    pages.watermark(100)
    assert sorted(out.take(), key=repr) == sorted(
        [("ann", "clicks by", 11, 3, 3), ("bob", "clicks by", 12, 1, 3)], key=repr
    )


class WritesInProcessElement(BroadcastProcessFunction):
    def process_element(self, value: Any, ctx: Any) -> Any:
        ctx.get_broadcast_state(RATES).put("EUR", 1.0)

    def process_broadcast_element(self, value: Any, ctx: Any) -> Any:
        pass


def test_the_broadcast_state_is_read_only_for_the_other_stream(ff_harness):
    orders, rates = ff_harness.source(), ff_harness.source()
    ff_harness.output(orders.stream.connect(rates.stream.broadcast(RATES)).process(WritesInProcessElement()))
    with pytest.raises(TypeError, match="read-only in process_element"):
        orders.add(1)


class UsesAnotherDescriptor(BroadcastProcessFunction):
    def process_element(self, value: Any, ctx: Any) -> Any:
        ctx.get_broadcast_state(TITLES)

    def process_broadcast_element(self, value: Any, ctx: Any) -> Any:
        pass


def test_a_descriptor_not_given_to_broadcast_is_a_clear_error(ff_harness):
    orders, rates = ff_harness.source(), ff_harness.source()
    ff_harness.output(orders.stream.connect(rates.stream.broadcast(RATES)).process(UsesAnotherDescriptor()))
    with pytest.raises(ValueError, match="no broadcast state 'titles'.*broadcast\\('rates'\\)"):
        orders.add(1)


def test_building_mistakes_are_clear_errors(ff_env):
    ds = ff_env.from_collection([1])
    with pytest.raises(TypeError, match="MapStateDescriptor"):
        ds.broadcast(ListStateDescriptor("l"))
    with pytest.raises(ValueError, match="different names"):
        ds.broadcast(RATES, MapStateDescriptor("rates"))
    bs = ds.broadcast(RATES)
    with pytest.raises(TypeError, match="takes a BroadcastProcessFunction"):
        ds.connect(bs).process(Enrich())
    with pytest.raises(TypeError, match="keyed stream .* takes a KeyedBroadcastProcessFunction"):
        ds.key_by(lambda v: v).connect(bs).process(Convert())


class CountsBroadcast(BroadcastProcessFunction):
    def __init__(self, seen: list[Any]) -> None:
        self.seen = seen

    def open(self, runtime_context: Any) -> None:
        self.index = runtime_context.get_index_of_this_subtask()
        self.count = 0

    def process_element(self, value: Any, ctx: Any) -> Any:
        yield value

    def process_broadcast_element(self, value: Any, ctx: Any) -> Any:
        self.count += 1
        ctx.get_broadcast_state(RATES).put(value, value)

    def close(self) -> None:
        self.seen.append((self.index, self.count))


def test_every_parallel_instance_gets_every_broadcast_record(env, parallelism):
    seen: list[Any] = []
    rules = env.from_collection(list(range(50))).broadcast(RATES)
    out = env.from_collection(list(range(200))).connect(rules).process(CountsBroadcast(seen)).execute_and_collect()
    assert sorted(out) == list(range(200))
    assert sorted(seen) == [(i, 50) for i in range(parallelism)]


COUNT = ValueStateDescriptor("count")
COMMANDS = MapStateDescriptor("commands", Types.STRING(), Types.STRING())


class CountsWithReset(KeyedBroadcastProcessFunction):
    """Counts per key; a broadcast ("reset", k) sets every key's count to k, ("drop", k) clears
    the count of key k."""

    def open(self, runtime_context: Any) -> None:
        self.count = runtime_context.get_state(COUNT)

    def process_element(self, value: Any, ctx: Any) -> Any:
        self.count.update((self.count.value() or 0) + 1)
        yield ctx.get_current_key(), self.count.value()

    def process_broadcast_element(self, value: Any, ctx: Any) -> Any:
        command, arg = value
        if command == "reset":
            ctx.apply_to_keyed_state(COUNT, lambda key, state: state.update(arg))
        else:
            ctx.apply_to_keyed_state(COUNT, lambda key, state: state.clear() if key == arg else None)


def test_apply_to_keyed_state_reaches_every_key(harness):
    events, commands = harness.source(), harness.source()
    out = harness.output(
        events.stream.key_by(lambda v: v).connect(commands.stream.broadcast(COMMANDS)).process(CountsWithReset())
    )
    events.add_all(["a", "b", "a", "c"])
    assert sorted(out.take()) == [("a", 1), ("a", 2), ("b", 1), ("c", 1)]
    commands.add(("reset", 10))
    events.add_all(["a", "b"])
    assert sorted(out.take()) == [("a", 11), ("b", 11)]
    commands.add(("drop", "a"))
    events.add_all(["a", "c"])
    assert sorted(out.take()) == [("a", 1), ("c", 11)]


def test_apply_to_keyed_state_is_for_keyed_streams(ff_harness):
    class Misuses(BroadcastProcessFunction):
        def process_element(self, value: Any, ctx: Any) -> Any:
            yield value

        def process_broadcast_element(self, value: Any, ctx: Any) -> Any:
            ctx.apply_to_keyed_state(COUNT, lambda key, state: None)

    events, commands = ff_harness.source(), ff_harness.source()
    ff_harness.output(events.stream.connect(commands.stream.broadcast(COMMANDS)).process(Misuses()))
    with pytest.raises(TypeError, match="KeyedBroadcastProcessFunction"):
        commands.add(("reset", 1))
