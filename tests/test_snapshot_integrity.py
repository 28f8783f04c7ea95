"""Every file a checkpoint holds is checksummed: a job resumed from a checkpoint in which any byte
of any file was changed fails with an error naming that file, and never restores wrong state.

A heap-backend job with a source position (from_collection), a watermark generator, operator
state (a CheckpointedFunction), keyed state and event-time timers (a KeyedProcessFunction) and a
window fails on purpose after some checkpoints completed; then, for each file of its newest
checkpoint, bytes are changed one at a time (every byte of a small file, a spread sample of a big
one) and the job is resumed from the damaged checkpoint. ``latest_checkpoint`` passes over a
checkpoint whose ``_metadata`` is damaged, with a warning."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from checkpoint_env import checkpoint_config
from ferroflow import DamagedCheckpointWarning
from ferroflow.common import Duration, Types, WatermarkStrategy
from ferroflow.common.time import Time
from ferroflow.common.watermark_strategy import TimestampAssigner
from ferroflow.datastream import (
    CheckpointedFunction,
    KeyedProcessFunction,
    MapFunction,
    StreamExecutionEnvironment,
    latest_checkpoint,
)
from ferroflow.datastream.state import ListStateDescriptor, ValueStateDescriptor
from ferroflow.datastream.window import TumblingEventTimeWindows

RECORDS = 120
FAIL_AT = 90
# Files up to this size have every byte changed; bigger ones this many bytes, spread over them.
SMALL = 400
SAMPLES = 48


class Injected(Exception):
    """The failure that leaves the checkpoints behind."""


class Stamp(TimestampAssigner):
    def extract_timestamp(self, value: int, record_timestamp: int) -> int:
        return value * 10


class Counting(MapFunction, CheckpointedFunction):
    """Counts its records in operator state; slows the job down so checkpoints complete."""

    def __init__(self, fail_at: int | None) -> None:
        self.fail_at = fail_at

    def initialize_state(self, context: Any) -> None:
        self.counts = context.get_operator_state_store().get_list_state(ListStateDescriptor("counts"))
        self.n = sum(self.counts.get())

    def map(self, value: int) -> int:
        time.sleep(0.002)
        if value == self.fail_at:
            raise Injected(f"injected at {value}")
        self.n += 1
        return value

    def snapshot_state(self, context: Any) -> None:
        self.counts.update([self.n])


class CountPerKey(KeyedProcessFunction):
    def open(self, runtime_context: Any) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))

    def process_element(self, value: int, ctx: Any):
        self.count.update((self.count.value() or 0) + 1)
        ctx.timer_service().register_event_time_timer(ctx.timestamp() + 10_000)
        yield value

    def on_timer(self, timestamp: int, ctx: Any):
        yield -1


def run(checkpoints: Path, *, fail_at: int | None = None, restore: str | None = None) -> list[Any]:
    cfg = checkpoint_config(checkpoints, restore)
    env = StreamExecutionEnvironment.get_execution_environment(cfg)
    env.enable_checkpointing(10)
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(0)).with_timestamp_assigner(Stamp())
    stream = (
        env.from_collection(list(range(RECORDS)))
        .uid("numbers")
        .map(Counting(fail_at))
        .uid("counting")
        .assign_timestamps_and_watermarks(strategy)
        .uid("stamps")
        .key_by(lambda v: v % 3)
        .process(CountPerKey())
        .uid("per-key")
        .key_by(lambda v: v % 3)
        .window(TumblingEventTimeWindows.of(Time.milliseconds(200)))
        .reduce(lambda a, b: a + b)
        .uid("windows")
    )
    return list(stream.execute_and_collect())


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The newest checkpoint of a job that failed after some had completed."""
    checkpoints = tmp_path_factory.mktemp("checkpoints")
    with pytest.raises(Injected):
        run(checkpoints, fail_at=FAIL_AT)
    latest = latest_checkpoint(checkpoints)
    assert latest is not None, "no checkpoint completed before the failure"
    return Path(latest)


def files_of(checkpoint: Path) -> list[Path]:
    return sorted(p for p in checkpoint.rglob("*") if p.is_file())


def test_the_checkpoint_holds_every_kind_of_snapshot_file(checkpoint: Path):
    names = {p.name for p in files_of(checkpoint)}
    assert names == {
        "_metadata",
        "keyed-state.bin",
        "operator-state.bin",
        "timers.bin",
        "watermark-generator.bin",
        "window-state.bin",
    }, names
    # The checkpoint restores as it is.
    assert run(checkpoint.parent / "unused", restore=str(checkpoint)) is not None


def offsets(size: int) -> list[int]:
    if size <= SMALL:
        return list(range(size))
    return sorted({round(i * (size - 1) / (SAMPLES - 1)) for i in range(SAMPLES)})


@pytest.mark.parametrize(
    "name", ["_metadata", "keyed-state.bin", "operator-state.bin", "timers.bin", "watermark-generator.bin", "window-state.bin"]
)
def test_a_changed_byte_in_any_file_fails_the_restore_naming_the_file(checkpoint: Path, name: str, tmp_path: Path):
    files = [p for p in files_of(checkpoint) if p.name == name]
    assert files
    for file in files:
        original = file.read_bytes()
        try:
            for i in offsets(len(original)):
                damaged = bytearray(original)
                damaged[i] ^= 0x01 if i % 2 == 0 else 0xFF
                file.write_bytes(bytes(damaged))
                with pytest.raises(Exception) as failure:
                    run(tmp_path / f"after-{i}", restore=str(checkpoint))
                assert str(file) in str(failure.value), f"byte {i} of {file}: {failure.value!r}"
        finally:
            file.write_bytes(original)


def test_latest_checkpoint_passes_over_a_damaged_one_with_a_warning(checkpoint: Path, tmp_path: Path):
    job = tmp_path / "job"
    shutil.copytree(checkpoint, job / "chk-1")
    shutil.copytree(checkpoint, job / "chk-2")
    metadata = job / "chk-2" / "_metadata"
    text = bytearray(metadata.read_bytes())
    text[len(text) // 2] ^= 0x01
    metadata.write_bytes(bytes(text))
    (job / "chk-3").mkdir()  # incomplete: skipped without a word
    with pytest.warns(DamagedCheckpointWarning) as warned:
        assert latest_checkpoint(tmp_path) == str(job / "chk-1")
    assert len(warned) == 1
    assert str(metadata) in str(warned[0].message)
