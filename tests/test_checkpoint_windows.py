"""Window operators, watermark generators and broadcast state in checkpoints, end to end.

Each test runs a job three times on the same bounded input, with checkpoints every few ms and
small batches (so that many checkpoints complete while records flow), writing through a
two-phase-commit sink whose lines become visible only when the checkpoint covering them
completed:

1. the reference: no failure;
2. a run whose map raises ``Injected`` at one record, with restart strategy none: the job fails,
   its completed checkpoints stay;
3. a run restored from the newest checkpoint of (2), usually at another parallelism.

The lines (2) made visible plus the lines of (3) must be exactly the reference's: every window
result once, none missing, none repeated, none computed from partial contents. A window that held
records at the checkpoint fires in (3) with those records only if the window operator's contents
were restored; a result that (2) committed is not emitted again only if the source position,
the contents, the timers and the watermark all agree.
"""

from __future__ import annotations

import ast
import os
import pickle
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from checkpoint_env import checkpoint_config
from ferroflow._engine import OperatorStateStore, latest_checkpoint
from ferroflow.common import Duration, Types, WatermarkStrategy
from ferroflow.common.time import Time
from ferroflow.common.watermark_strategy import TimestampAssigner, WatermarkGenerator
from ferroflow.datastream import (
    AggregateFunction,
    BroadcastProcessFunction,
    ProcessWindowFunction,
    StreamExecutionEnvironment,
    TwoPhaseCommitSinkFunction,
)
from ferroflow.datastream.data_stream import DataStream
from ferroflow.datastream.functions import AllWindowFunction, WindowFunction
from ferroflow.datastream.state import MapStateDescriptor, ValueStateDescriptor
from ferroflow.datastream.trigger import Trigger, TriggerResult
from ferroflow.datastream.window import (
    CountSlidingWindowAssigner,
    EventTimeSessionWindows,
    GlobalWindows,
    SlidingEventTimeWindows,
    TumblingEventTimeWindows,
)

RECORDS = 240
FAIL_AT = 160
SECONDS_PER_RECORD = 0.0015

# The test that takes a ``state_backend`` runs on the heap and on RocksDB.
ON_BOTH_BACKENDS = True


class Injected(Exception):
    """The failure a test injects."""


class LineFiles(TwoPhaseCommitSinkFunction):
    """Each transaction is a hidden file in ``directory``; committing renames it into view."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def begin_transaction(self) -> str:
        return os.path.join(self.directory, f".txn-{uuid.uuid4().hex}")

    def write(self, transaction: str, value: Any, context: Any) -> None:
        with open(transaction, "a", encoding="utf-8") as f:
            f.write(f"{value}\n")

    def pre_commit(self, transaction: str) -> None:
        Path(transaction).touch()

    def commit(self, transaction: str) -> None:
        if os.path.exists(transaction):
            os.replace(transaction, transaction.replace(".txn-", "part-"))

    def abort(self, transaction: str) -> None:
        if os.path.exists(transaction):
            os.remove(transaction)


def visible_lines(directory: Path) -> list[str]:
    return sorted(line for f in directory.glob("part-*") for line in f.read_text().splitlines())


class Stamp(TimestampAssigner):
    def extract_timestamp(self, value: int, record_timestamp: int) -> int:
        return timestamp_of(value)


def timestamp_of(value: int) -> int:
    """3 ms apart, with a pause of 100 ms after every 50 records (so sessions end)."""
    return value * 3 + (value // 50) * 100


Build = Callable[[StreamExecutionEnvironment, DataStream, int], DataStream]


def run(
    build: Build,
    out: Path,
    checkpoints: Path,
    *,
    parallelism: int,
    fail_at: int | None = None,
    restore: str | None = None,
    strategy: WatermarkStrategy | None = None,
    configure: Callable[[StreamExecutionEnvironment], None] | None = None,
) -> None:
    """Runs numbers ``0..RECORDS`` (event time ``timestamp_of``) through ``build`` into a
    two-phase-commit sink writing ``out``."""
    cfg = checkpoint_config(checkpoints, restore, bundle_size=8)
    env = StreamExecutionEnvironment.get_execution_environment(cfg)
    env.enable_checkpointing(15)
    if configure is not None:
        configure(env)

    def slow(v: int) -> int:
        time.sleep(SECONDS_PER_RECORD)
        if v == fail_at:
            raise Injected(f"injected at record {v}")
        return v

    if strategy is None:
        strategy = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(0)).with_timestamp_assigner(Stamp())
    numbers = (
        env.from_collection(list(range(RECORDS)))
        .map(slow)
        .set_parallelism(1)
        .uid("slow")
        .assign_timestamps_and_watermarks(strategy)
        .uid("stamps")
        .set_parallelism(1)
    )
    build(env, numbers, parallelism).map(str).uid("text").add_sink(LineFiles(str(out))).set_parallelism(1).uid("files")
    env.execute("checkpointed windows")


def fail_then_restore(
    tmp_path: Path,
    build: Build,
    *,
    parallelism: int = 2,
    restored_parallelism: int = 3,
    operator: str = "windows",
    **options: Any,
) -> tuple[list[str], list[str], Path]:
    """The reference lines, and the lines of a run that failed then restored from its newest
    checkpoint (which is returned), after checking that checkpoint holds ``operator``'s state."""
    dirs = {name: tmp_path / name for name in ("reference", "out", "checkpoints", "reference-checkpoints")}
    for d in dirs.values():
        d.mkdir()
    run(build, dirs["reference"], dirs["reference-checkpoints"], parallelism=parallelism, **options)
    with pytest.raises(Injected):
        run(build, dirs["out"], dirs["checkpoints"], parallelism=parallelism, fail_at=FAIL_AT, **options)
    latest = latest_checkpoint(str(dirs["checkpoints"]))
    assert latest is not None, "no checkpoint completed before the injected failure"
    held = Path(latest) / operator
    assert sorted(p.name for p in held.iterdir()) == [str(i) for i in range(parallelism)], held
    committed_before = visible_lines(dirs["out"])
    run(build, dirs["out"], dirs["checkpoints"], parallelism=restored_parallelism, restore=latest, **options)
    result = visible_lines(dirs["out"])
    assert len(result) >= len(committed_before)
    return visible_lines(dirs["reference"]), result, Path(latest)


def assert_same(reference: list[str], result: list[str]) -> None:
    assert reference, "the job produced nothing"
    missing = sorted(set(reference) - set(result))
    extra = sorted(set(result) - set(reference))
    assert result == reference, f"missing {missing[:10]}, unexpected {extra[:10]}, {len(result)} vs {len(reference)} lines"


def window_files(checkpoint: Path, operator: str = "windows") -> list[Path]:
    return sorted((checkpoint / operator).glob("*/window-state.bin"))


# --- the window operator ------------------------------------------------------------------------


def tumbling_sums(env: StreamExecutionEnvironment, numbers: DataStream, parallelism: int) -> DataStream:
    return (
        numbers.map(lambda v: (v % 5, v, 1))
        .key_by(lambda t: t[0])
        .window(TumblingEventTimeWindows.of(Time.milliseconds(37)))
        .reduce(lambda a, b: (a[0], a[1] + b[1], a[2] + b[2]))
        .uid("windows")
        .set_parallelism(parallelism)
    )


def test_tumbling_windows_on_the_fast_path_resume_at_a_higher_parallelism(tmp_path: Path):
    reference, result, checkpoint = fail_then_restore(tmp_path, tumbling_sums)
    assert_same(reference, result)
    assert len(window_files(checkpoint)) == 2


def test_tumbling_windows_resume_at_a_lower_parallelism(tmp_path: Path):
    reference, result, _ = fail_then_restore(tmp_path, tumbling_sums, parallelism=3, restored_parallelism=1)
    assert_same(reference, result)


class CountAndSum(AggregateFunction):
    def create_accumulator(self) -> list[int]:
        return [0, 0]

    def add(self, value: int, accumulator: list[int]) -> list[int]:
        return [accumulator[0] + 1, accumulator[1] + value]

    def get_result(self, accumulator: list[int]) -> tuple[int, int]:
        return accumulator[0], accumulator[1]

    def merge(self, a: list[int], b: list[int]) -> list[int]:
        return [a[0] + b[0], a[1] + b[1]]


class NumberFirings(ProcessWindowFunction):
    """Numbers each key's results (``global_state()``), and counts how often each window fired
    (``window_state()``): both are keyed state in the checkpoint."""

    FIRINGS = ValueStateDescriptor("firings", Types.INT())
    SEEN = ValueStateDescriptor("seen", Types.INT())

    def process(self, key: int, context: Any, elements: Any) -> Any:
        firings = context.global_state().get_state(self.FIRINGS)
        n = (firings.value() or 0) + 1
        firings.update(n)
        seen = context.window_state().get_state(self.SEEN)
        seen.update((seen.value() or 0) + 1)
        window = context.window()
        for count, total in elements:
            yield (key, window.start, count, total, n, seen.value())

    def clear(self, context: Any) -> None:
        context.window_state().get_state(self.SEEN).clear()


def sliding_aggregates(env: StreamExecutionEnvironment, numbers: DataStream, parallelism: int) -> DataStream:
    return (
        numbers.key_by(lambda v: v % 4)
        .window(SlidingEventTimeWindows.of(Time.milliseconds(60), Time.milliseconds(20)))
        .aggregate(CountAndSum(), NumberFirings())
        .uid("windows")
        .set_parallelism(parallelism)
    )


def test_sliding_aggregates_keep_their_accumulators_and_the_functions_keyed_state(
    tmp_path: Path, state_backend: str, rocksdb_dir: Path
):
    from ferroflow.datastream import EmbeddedRocksDBStateBackend

    def configure(env: StreamExecutionEnvironment) -> None:
        if state_backend == "rocksdb":
            env.set_state_backend(EmbeddedRocksDBStateBackend(local_directory=rocksdb_dir, memory_budget="32mb"))

    reference, result, checkpoint = fail_then_restore(tmp_path, sliding_aggregates, configure=configure)
    assert_same(reference, result)
    assert all((checkpoint / "windows" / str(i) / "keyed").is_dir() for i in range(2))


class Elements(ProcessWindowFunction):
    def process(self, key: int, context: Any, elements: Any) -> Any:
        window = context.window()
        yield (key, window.start, window.end, sorted(elements))


def sessions(env: StreamExecutionEnvironment, numbers: DataStream, parallelism: int) -> DataStream:
    return (
        numbers.key_by(lambda v: v % 3)
        .window(EventTimeSessionWindows.with_gap(Time.milliseconds(20)))
        .process(Elements())
        .uid("windows")
        .set_parallelism(parallelism)
    )


def test_merging_sessions_keep_their_records_across_the_restore(tmp_path: Path):
    reference, result, _ = fail_then_restore(tmp_path, sessions)
    assert_same(reference, result)
    # Sessions of 50 records each per 150 ms: a session was open at the checkpoint.
    assert len(reference) == 3 * (RECORDS // 50 + 1)


class Listed(WindowFunction):
    def apply(self, key: int, window: Any, inputs: Any) -> Any:
        yield (key, window.id, list(inputs))


def count_windows(env: StreamExecutionEnvironment, numbers: DataStream, parallelism: int) -> DataStream:
    return (
        numbers.key_by(lambda v: v % 7)
        .window(CountSlidingWindowAssigner.of(5, 2))
        .apply(Listed())
        .uid("windows")
        .set_parallelism(parallelism)
    )


def test_count_windows_keep_their_counts_and_records(tmp_path: Path):
    reference, result, _ = fail_then_restore(tmp_path, count_windows)
    assert_same(reference, result)


class EveryNth(Trigger):
    """Fires and purges a window every ``n`` elements of a key, counting in partitioned state."""

    COUNT = ValueStateDescriptor("count", Types.INT())

    def __init__(self, n: int) -> None:
        self.n = n

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Any) -> TriggerResult:
        count = ctx.get_partitioned_state(self.COUNT)
        seen = (count.value() or 0) + 1
        if seen == self.n:
            count.clear()
            return TriggerResult.FIRE_AND_PURGE
        count.update(seen)
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Any, ctx: Any) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: Any, ctx: Any) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_merge(self, window: Any, ctx: Any) -> None:
        pass

    def clear(self, window: Any, ctx: Any) -> None:
        ctx.get_partitioned_state(self.COUNT).clear()


def python_trigger(env: StreamExecutionEnvironment, numbers: DataStream, parallelism: int) -> DataStream:
    return (
        numbers.key_by(lambda v: v % 6)
        .window(GlobalWindows.create())
        .trigger(EveryNth(7))
        .reduce(lambda a, b: a + b)
        .uid("windows")
        .set_parallelism(parallelism)
    )


def test_a_python_triggers_partitioned_state_is_restored(tmp_path: Path):
    reference, result, _ = fail_then_restore(tmp_path, python_trigger)
    assert_same(reference, result)


class Everything(AllWindowFunction):
    def apply(self, window: Any, inputs: Any) -> Any:
        yield (window.start, sorted(inputs))


def all_windows(env: StreamExecutionEnvironment, numbers: DataStream, parallelism: int) -> DataStream:
    return numbers.window_all(TumblingEventTimeWindows.of(Time.milliseconds(50))).apply(Everything()).uid("windows")


def test_window_all_resumes_with_its_one_key(tmp_path: Path):
    reference, result, checkpoint = fail_then_restore(
        tmp_path, all_windows, parallelism=1, restored_parallelism=1
    )
    assert_same(reference, result)
    assert len(window_files(checkpoint)) == 1


# --- watermark generators -----------------------------------------------------------------------


class MaxSeen(WatermarkGenerator):
    """A Python generator with state of its own: the highest timestamp seen, and how many
    records it saw."""

    def __init__(self) -> None:
        self.max_seen = -(2**63)
        self.records = 0

    def on_event(self, value: Any, timestamp: int) -> int | None:
        self.max_seen = max(self.max_seen, timestamp)
        self.records += 1
        return None

    def on_periodic_emit(self) -> int | None:
        return self.max_seen - 1 if self.records else None


class Unpicklable(MaxSeen):
    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()


def generator_strategy(factory: Callable[[], WatermarkGenerator]) -> WatermarkStrategy:
    return WatermarkStrategy.for_generator(factory).with_timestamp_assigner(Stamp())


def read_generator_snapshot(checkpoint: Path) -> tuple[int, bytes | None]:
    data = (checkpoint / "stamps" / "0" / "watermark-generator.bin").read_bytes()
    assert data[:8] == b"FFWMGEN2"
    max_timestamp = int.from_bytes(data[8:16], "little", signed=True)
    if data[16] == 0:
        return max_timestamp, None
    length = int.from_bytes(data[17:25], "little")
    return max_timestamp, data[25 : 25 + length]


def test_a_bounded_out_of_orderness_generator_keeps_its_max_timestamp(tmp_path: Path):
    reference, result, checkpoint = fail_then_restore(tmp_path, tumbling_sums)
    assert_same(reference, result)
    max_timestamp, generator = read_generator_snapshot(checkpoint)
    assert generator is None
    assert timestamp_of(0) < max_timestamp <= timestamp_of(FAIL_AT)


def test_a_python_watermark_generator_is_pickled_into_the_checkpoint(tmp_path: Path):
    reference, result, checkpoint = fail_then_restore(
        tmp_path, tumbling_sums, restored_parallelism=2, strategy=generator_strategy(MaxSeen)
    )
    assert_same(reference, result)
    _, pickled = read_generator_snapshot(checkpoint)
    assert pickled is not None
    generator = pickle.loads(pickled)
    assert isinstance(generator, MaxSeen)
    assert 0 < generator.records <= FAIL_AT
    assert generator.max_seen == timestamp_of(generator.records - 1)


def test_a_watermark_generator_that_does_not_pickle_is_left_out(tmp_path: Path):
    reference, result, checkpoint = fail_then_restore(
        tmp_path, tumbling_sums, restored_parallelism=2, strategy=generator_strategy(Unpicklable)
    )
    assert_same(reference, result)
    max_timestamp, pickled = read_generator_snapshot(checkpoint)
    assert pickled is None, "a generator that does not pickle is left out (the restored job makes a new one)"
    assert timestamp_of(0) < max_timestamp <= timestamp_of(FAIL_AT)


# --- broadcast state ----------------------------------------------------------------------------

FACTORS = MapStateDescriptor("factors", Types.STRING(), Types.INT())


class Scale(BroadcastProcessFunction):
    """Multiplies each number by the factor of its parity, from the broadcast state."""

    def process_element(self, value: int, ctx: Any) -> Any:
        factor = ctx.get_broadcast_state(FACTORS).get("odd" if value % 2 else "even")
        yield (value, None if factor is None else value * factor)

    def process_broadcast_element(self, value: tuple[str, int], ctx: Any) -> Any:
        ctx.get_broadcast_state(FACTORS).put(value[0], value[1])


def scaled(env: StreamExecutionEnvironment, numbers: DataStream, parallelism: int) -> DataStream:
    rules = env.from_collection([("odd", 3), ("even", 5)]).uid("rules").broadcast(FACTORS)
    return numbers.connect(rules).process(Scale()).uid("scale").set_parallelism(parallelism)


@pytest.mark.parametrize(("before", "after"), [(2, 3), (3, 1)])
def test_broadcast_state_is_restored_round_robin(tmp_path: Path, before: int, after: int):
    reference, result, checkpoint = fail_then_restore(
        tmp_path, scaled, parallelism=before, restored_parallelism=after, operator="scale"
    )
    # Every number exactly once; which ones met the rules before the rules arrived is a race.
    pairs = [ast.literal_eval(line) for line in result]
    assert sorted(v for v, _ in pairs) == list(range(RECORDS))
    assert len(reference) == RECORDS
    # Each old subtask's copy of the rules is in the checkpoint, so the restored job does not
    # read them again: only restored broadcast state scales the numbers it processes.
    for i in range(before):
        store = OperatorStateStore.restore([checkpoint / "scale" / str(i) / "operator"], 0, 1)
        assert sorted(store.get_broadcast_list_state("factors").get()) == [("even", 5), ("odd", 3)]
    for v, product in pairs:
        if v >= FAIL_AT:
            assert product == v * (3 if v % 2 else 5), (v, product)
