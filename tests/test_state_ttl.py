"""State time-to-live: entries expire ``ttl`` of processing time after their last write (or
read, with OnReadAndWrite); list elements and map entries one by one. Processing time comes from
the harness clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ferroflow.common import Time
from ferroflow.datastream import KeyedProcessFunction, StreamExecutionEnvironment
from ferroflow.datastream.functions import AggregateFunction
from ferroflow.datastream.state import (
    AggregatingStateDescriptor,
    ListStateDescriptor,
    MapStateDescriptor,
    ReducingStateDescriptor,
    StateTtlConfig,
    ValueStateDescriptor,
)
from ferroflow.testing import TestHarness

ON_BOTH_BACKENDS = True


class Mean(AggregateFunction):
    def create_accumulator(self) -> Any:
        return (0, 0)

    def add(self, value: Any, accumulator: Any) -> Any:
        return (accumulator[0] + value, accumulator[1] + 1)

    def get_result(self, accumulator: Any) -> Any:
        return accumulator[0] / accumulator[1]

    def merge(self, a: Any, b: Any) -> Any:
        return (a[0] + b[0], a[1] + b[1])


class StateProbe(KeyedProcessFunction):
    """Runs commands ``(key, "state.method", *args)`` on states with the given TTL and emits
    ``(key, command, result)``."""

    def __init__(self, ttl: StateTtlConfig) -> None:
        self.ttl = ttl

    def open(self, runtime_context: Any) -> None:
        def with_ttl(descriptor: Any) -> Any:
            descriptor.enable_time_to_live(self.ttl)
            return descriptor

        self.states = {
            "value": runtime_context.get_state(with_ttl(ValueStateDescriptor("v"))),
            "list": runtime_context.get_list_state(with_ttl(ListStateDescriptor("l"))),
            "map": runtime_context.get_map_state(with_ttl(MapStateDescriptor("m"))),
            "reducing": runtime_context.get_reducing_state(
                with_ttl(ReducingStateDescriptor("r", lambda a, b: a + b))
            ),
            "aggregating": runtime_context.get_aggregating_state(with_ttl(AggregatingStateDescriptor("g", Mean()))),
        }

    def process_element(self, value: Any, ctx: Any) -> Any:
        key, command, *args = value
        state, method = command.split(".")
        result = getattr(self.states[state], method)(*args)
        if isinstance(result, list):
            result = sorted(result)
        yield key, command, result


class Probe:
    """A harness around StateProbe: ``probe.at(t, (key, command, *args))`` returns the result."""

    def __init__(self, ttl: StateTtlConfig, env: StreamExecutionEnvironment) -> None:
        self.harness = TestHarness(env)
        self.source = self.harness.source()
        self.output = self.harness.output(self.source.stream.key_by(lambda c: c[0]).process(StateProbe(ttl)))

    def at(self, time: int, command: tuple[Any, ...]) -> Any:
        self.harness.set_processing_time(time)
        self.source.add(command)
        [(key, cmd, result)] = self.output.take()
        assert (key, cmd) == command[:2]
        return result

    def close(self) -> None:
        self.harness.close()


@pytest.fixture
def probe_with(env: StreamExecutionEnvironment):
    made: list[Probe] = []

    def make(ttl: StateTtlConfig) -> Probe:
        made.append(Probe(ttl, env))
        return made[-1]

    yield make
    for p in made:
        p.close()


def ttl_of(ms: int) -> StateTtlConfig.Builder:
    return StateTtlConfig.new_builder(Time.milliseconds(ms))


def test_a_value_expires_ttl_after_it_was_written(probe_with):
    p = probe_with(ttl_of(1000).build())
    p.at(0, ("a", "value.update", "x"))
    assert p.at(500, ("a", "value.value")) == "x"
    assert p.at(999, ("a", "value.value")) == "x"  # reading does not extend it by default
    assert p.at(1000, ("a", "value.value")) is None


def test_writing_again_restarts_the_ttl(probe_with):
    p = probe_with(ttl_of(1000).build())
    p.at(0, ("a", "value.update", "x"))
    p.at(800, ("a", "value.update", "y"))
    assert p.at(1700, ("a", "value.value")) == "y"
    assert p.at(1800, ("a", "value.value")) is None


def test_each_key_expires_on_its_own(probe_with):
    p = probe_with(ttl_of(1000).build())
    p.at(0, ("a", "value.update", 1))
    p.at(600, ("b", "value.update", 2))
    assert p.at(1000, ("a", "value.value")) is None
    assert p.at(1000, ("b", "value.value")) == 2


def test_on_read_and_write_extends_the_ttl_on_each_read(probe_with):
    p = probe_with(ttl_of(1000).update_ttl_on_read_and_write().build())
    p.at(0, ("a", "value.update", "x"))
    assert p.at(900, ("a", "value.value")) == "x"
    assert p.at(1800, ("a", "value.value")) == "x"
    assert p.at(2800, ("a", "value.value")) is None


def test_return_expired_if_not_cleaned_up_returns_it_once(probe_with):
    p = probe_with(ttl_of(1000).return_expired_if_not_cleaned_up().build())
    p.at(0, ("a", "value.update", "x"))
    assert p.at(5000, ("a", "value.value")) == "x"  # expired, returned as it is cleaned up
    assert p.at(5000, ("a", "value.value")) is None


def test_list_elements_expire_one_by_one(probe_with):
    p = probe_with(ttl_of(1000).build())
    p.at(0, ("a", "list.add", "old"))
    p.at(600, ("a", "list.add_all", ["new1", "new2"]))
    assert p.at(999, ("a", "list.get")) == ["new1", "new2", "old"]
    assert p.at(1000, ("a", "list.get")) == ["new1", "new2"]
    assert p.at(1600, ("a", "list.get")) == []
    p.at(1600, ("a", "list.update", ["fresh"]))
    assert p.at(2599, ("a", "list.get")) == ["fresh"]


def test_list_elements_refreshed_by_reads(probe_with):
    p = probe_with(ttl_of(1000).update_ttl_on_read_and_write().build())
    p.at(0, ("a", "list.add", "x"))
    assert p.at(900, ("a", "list.get")) == ["x"]
    assert p.at(1899, ("a", "list.get")) == ["x"]
    assert p.at(2899, ("a", "list.get")) == []


def test_map_entries_expire_one_by_one(probe_with):
    p = probe_with(ttl_of(1000).build())
    p.at(0, ("a", "map.put", "k1", 1))
    p.at(500, ("a", "map.put_all", {"k2": 2}))
    assert p.at(999, ("a", "map.keys")) == ["k1", "k2"]
    assert p.at(1000, ("a", "map.contains", "k1")) is False
    assert p.at(1000, ("a", "map.get", "k1", "gone")) == "gone"
    assert p.at(1000, ("a", "map.get", "k2")) == 2
    assert p.at(1000, ("a", "map.items")) == [("k2", 2)]
    assert p.at(1000, ("a", "map.is_empty")) is False
    assert p.at(1500, ("a", "map.is_empty")) is True
    assert p.at(1500, ("a", "map.values")) == []


def test_map_entries_refreshed_by_reads(probe_with):
    p = probe_with(ttl_of(1000).update_ttl_on_read_and_write().build())
    p.at(0, ("a", "map.put", "k1", 1))
    p.at(0, ("a", "map.put", "k2", 2))
    assert p.at(900, ("a", "map.get", "k1")) == 1
    assert p.at(1500, ("a", "map.keys")) == ["k1"]


def test_reducing_state_does_not_combine_with_an_expired_value(probe_with):
    p = probe_with(ttl_of(1000).build())
    p.at(0, ("a", "reducing.add", 1))
    p.at(500, ("a", "reducing.add", 2))
    assert p.at(1499, ("a", "reducing.get")) == 3
    p.at(1500, ("a", "reducing.add", 10))
    assert p.at(1500, ("a", "reducing.get")) == 10


def test_aggregating_state_starts_a_new_accumulator_after_expiry(probe_with):
    p = probe_with(ttl_of(1000).build())
    p.at(0, ("a", "aggregating.add", 2))
    p.at(0, ("a", "aggregating.add", 4))
    assert p.at(999, ("a", "aggregating.get")) == 3
    assert p.at(1000, ("a", "aggregating.get")) is None
    p.at(1000, ("a", "aggregating.add", 10))
    assert p.at(1000, ("a", "aggregating.get")) == 10


def test_state_without_ttl_never_expires(ff_harness):
    class Keeps(KeyedProcessFunction):
        def open(self, runtime_context: Any) -> None:
            self.v = runtime_context.get_state(ValueStateDescriptor("v"))

        def process_element(self, value: Any, ctx: Any) -> Any:
            if self.v.value() is None:
                self.v.update(value)
            yield self.v.value()

    src = ff_harness.source()
    out = ff_harness.output(src.stream.key_by(lambda v: 0).process(Keeps()))
    src.add(1)
    ff_harness.set_processing_time(10**12)
    src.add(2)
    assert out.take() == [1, 1]


def test_ttl_config_builder_and_getters():
    config = (
        StateTtlConfig.new_builder(timedelta(seconds=2))
        .update_ttl_on_read_and_write()
        .return_expired_if_not_cleaned_up()
        .cleanup_incrementally(10, False)
        .build()
    )
    assert config.get_ttl().to_milliseconds() == 2000
    assert config.get_update_type() is StateTtlConfig.UpdateType.OnReadAndWrite
    assert config.get_state_visibility() is StateTtlConfig.StateVisibility.ReturnExpiredIfNotCleanedUp
    assert config.get_ttl_time_characteristic() is StateTtlConfig.TtlTimeCharacteristic.ProcessingTime
    assert config.is_enabled()
    assert config.get_cleanup_strategies().get_incremental_cleanup_strategy() == (10, False)
    assert StateTtlConfig.new_builder(1000).build().get_ttl().to_milliseconds() == 1000
    disabled = StateTtlConfig.new_builder(1000).set_update_type(StateTtlConfig.UpdateType.Disabled).build()
    assert not disabled.is_enabled()


def test_ttl_mistakes_are_clear_errors():
    with pytest.raises(TypeError, match="StateTtlConfig"):
        ValueStateDescriptor("s").enable_time_to_live(object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        StateTtlConfig.new_builder(0)
    with pytest.raises(TypeError):
        StateTtlConfig.new_builder("one second")
    with pytest.raises(TypeError, match="UpdateType"):
        StateTtlConfig.new_builder(10).set_update_type("OnReadAndWrite")  # type: ignore[arg-type]


def test_one_state_name_with_two_ttl_settings_is_a_clear_error():
    from ferroflow._engine import KeyedStateStore

    view = KeyedStateStore().view()
    view.get_state(ValueStateDescriptor("seen"))
    with_ttl = ValueStateDescriptor("seen")
    with_ttl.enable_time_to_live(ttl_of(1000).build())
    with pytest.raises(ValueError, match="'seen' is already used with no time-to-live.*1000 ms"):
        view.get_state(with_ttl)
    view.get_state(ValueStateDescriptor("seen"))  # the same setting again is fine
