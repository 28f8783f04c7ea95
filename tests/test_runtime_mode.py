"""``set_runtime_mode`` / ``execution.runtime-mode``: in BATCH mode a keyed reduce or aggregation
emits only each key's final value and event-time windows fire at the end of the input; AUTOMATIC
is BATCH for a job whose sources are all bounded."""

from __future__ import annotations

import pytest

from ferroflow.common import Configuration, Types, WatermarkStrategy
from ferroflow.common.time import Time
from ferroflow.common.watermark_strategy import TimestampAssigner
from ferroflow.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from ferroflow.datastream.functions import KeyedProcessFunction, ProcessWindowFunction
from ferroflow.datastream.window import TumblingEventTimeWindows

ON_BOTH_BACKENDS = True

DATA = [("a", 0), ("c", 1), ("d", 1), ("b", 0), ("e", 1)]


def concatenated(env: StreamExecutionEnvironment) -> list:
    ds = env.from_collection(DATA).key_by(lambda v: v[1]).reduce(lambda a, b: (a[0] + b[0], a[1]))
    return sorted(ds.execute_and_collect())


def test_streaming_reduce_is_rolling(env) -> None:
    assert concatenated(env) == [("a", 0), ("ab", 0), ("c", 1), ("cd", 1), ("cde", 1)]


def test_batch_reduce_emits_final_value_per_key(env) -> None:
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    assert concatenated(env) == [("ab", 0), ("cde", 1)]


def test_batch_keys_come_out_in_order_of_first_arrival(ff_env) -> None:
    ff_env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    words = ["b", "a", "c", "a", "b", "b"]
    ds = ff_env.from_collection(words).map(lambda w: (w, 1)).key_by(lambda t: t[0]).sum(1)
    assert list(ds.execute_and_collect()) == [("b", 3), ("a", 2), ("c", 1)]


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [
        ("sum", [("x", 9, "first"), ("y", 4, "y1")]),
        ("min", [("x", 1, "first"), ("y", 4, "y1")]),
        ("max", [("x", 5, "first"), ("y", 4, "y1")]),
        ("min_by", [("x", 1, "second"), ("y", 4, "y1")]),
        ("max_by", [("x", 5, "third"), ("y", 4, "y1")]),
    ],
)
def test_batch_aggregations(env, aggregation: str, expected: list) -> None:
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    data = [("x", 3, "first"), ("x", 1, "second"), ("y", 4, "y1"), ("x", 5, "third")]
    keyed = env.from_collection(data).key_by(lambda t: t[0])
    ds = getattr(keyed, aggregation)(1)
    assert sorted(ds.execute_and_collect()) == expected


def test_configuration_key_selects_batch() -> None:
    conf = Configuration()
    conf.set_string("execution.runtime-mode", "batch")
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    assert env._get_runtime_mode() is RuntimeExecutionMode.BATCH
    assert concatenated(env) == [("ab", 0), ("cde", 1)]


def test_bad_mode_is_refused() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    with pytest.raises(ValueError, match="set_runtime_mode\\(\\) takes RuntimeExecutionMode.STREAMING, BATCH or AUTOMATIC"):
        env.set_runtime_mode("fast")
    conf = Configuration()
    conf.set_string("execution.runtime-mode", "sometimes")
    with pytest.raises(ValueError, match="'execution.runtime-mode'.*'sometimes'"):
        StreamExecutionEnvironment.get_execution_environment(conf)


def test_automatic_is_batch_for_bounded_sources_only(ff_env) -> None:
    ff_env.set_runtime_mode(RuntimeExecutionMode.AUTOMATIC)
    assert concatenated(ff_env) == [("ab", 0), ("cde", 1)]
    # An iterable may be endless: AUTOMATIC runs it as STREAMING.
    ds = ff_env.from_iterable(iter(DATA)).key_by(lambda v: v[1]).reduce(lambda a, b: (a[0] + b[0], a[1]))
    assert sorted(ds.execute_and_collect()) == [("a", 0), ("ab", 0), ("c", 1), ("cd", 1), ("cde", 1)]


class Second(TimestampAssigner):
    def extract_timestamp(self, value, record_timestamp):
        return value[1]


class Count(ProcessWindowFunction):
    def process(self, key, context, elements):
        yield key, context.window().start, len(list(elements))


def windowed_counts(env: StreamExecutionEnvironment) -> list:
    # Watermarks after every record: in STREAMING, the record at 2 comes after the watermark
    # passed its window and is dropped as late.
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(Second()).with_per_record_emission()
    ds = (
        env.from_collection([("k", 1), ("k", 7), ("k", 2)], type_info=Types.TUPLE([Types.STRING(), Types.LONG()]))
        .assign_timestamps_and_watermarks(strategy)
        .key_by(lambda v: v[0])
        .window(TumblingEventTimeWindows.of(Time.milliseconds(5)))
        .process(Count())
    )
    return sorted(ds.execute_and_collect())


def test_streaming_window_drops_late_record(ff_env) -> None:
    assert windowed_counts(ff_env) == [("k", 0, 1), ("k", 5, 1)]


def test_batch_windows_fire_at_the_end_with_every_record(ff_env) -> None:
    ff_env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    assert windowed_counts(ff_env) == [("k", 0, 2), ("k", 5, 1)]


class TimerAt(KeyedProcessFunction):
    def process_element(self, value, ctx):
        ctx.timer_service().register_event_time_timer(value[1] + 1)
        if False:
            yield

    def on_timer(self, timestamp, ctx):
        yield ctx.get_current_key(), timestamp, ctx.timer_service().current_watermark()


def test_batch_timers_fire_at_the_end(ff_env) -> None:
    ff_env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(Second()).with_per_record_emission()
    ds = (
        ff_env.from_collection([("k", 1), ("k", 7)])
        .assign_timestamps_and_watermarks(strategy)
        .key_by(lambda v: v[0])
        .process(TimerAt())
    )
    end = 2**63 - 1
    assert list(ds.execute_and_collect()) == [("k", 2, end), ("k", 8, end)]


def test_batch_turns_checkpointing_off(ff_env, tmp_path) -> None:
    ff_env.enable_checkpointing(10)
    ff_env.get_checkpoint_config().set_checkpoint_storage_dir(str(tmp_path / "chk"))
    ff_env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    assert concatenated(ff_env) == [("ab", 0), ("cde", 1)]
    assert not (tmp_path / "chk").exists() or not any((tmp_path / "chk").rglob("_metadata"))
