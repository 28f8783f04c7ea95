"""RewindableSource: a user's own source whose positions go into checkpoints, read in parallel by
splits, resumed exactly where it stopped, also at another parallelism."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ferroflow.common import Configuration, Encoder, Types, WatermarkStrategy
from ferroflow.datastream import StreamExecutionEnvironment
from ferroflow.datastream.connectors import RewindableSource
from ferroflow.datastream.connectors.file_system import BucketAssigner, FileSink, RollingPolicy

PER_SPLIT = 1500


class Pages(RewindableSource):
    """Three "tables" of PER_SPLIT rows, read in pages of 10; the position is (page, row)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    def splits(self) -> list[str]:
        return ["orders", "refunds", "users"]

    def read(self, split: str, position: Any) -> Iterator[tuple[str, Any]]:
        page, row = position or (0, 0)
        while page * 10 < PER_SPLIT:
            rows = [f"{split}-{page * 10 + i}" for i in range(10)]
            for i in range(row, len(rows)):
                if self.delay:
                    time.sleep(self.delay)
                yield rows[i], (page, i + 1)
            page, row = page + 1, 0


def everything() -> Counter[str]:
    return Counter(f"{s}-{i}" for s in ("orders", "refunds", "users") for i in range(PER_SPLIT))


def test_splits_are_read_in_parallel_to_the_end(parallelism: int) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    got = list(env.from_source(Pages(), WatermarkStrategy.no_watermarks(), "pages").execute_and_collect())
    assert Counter(got) == everything()


def test_more_subtasks_than_splits_and_the_default_single_split() -> None:
    class Count(RewindableSource):
        def read(self, split: Any, position: Any) -> Iterator[tuple[int, int]]:
            assert split is None
            for i in range(position or 0, 50):
                yield i, i + 1

    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(4)
    assert sorted(env.from_source(Count(), source_name="count").execute_and_collect()) == list(range(50))


def job(tmp_path: Path, parallelism: int, restore: str | None = None) -> StreamExecutionEnvironment:
    cfg = Configuration()
    cfg.set_string("execution.checkpointing.dir", str(tmp_path / "checkpoints"))
    if restore:
        cfg.set_string("execution.state-recovery.path", restore)
    env = StreamExecutionEnvironment.get_execution_environment(cfg)
    env.set_parallelism(parallelism)
    env.enable_checkpointing(50)
    env.from_source(Pages(delay=0.0003), WatermarkStrategy.no_watermarks(), "pages").uid("pages").map(
        str.upper, output_type=Types.STRING()
    ).uid("upper").sink_to(
        FileSink.for_row_format(str(tmp_path / "out"), Encoder.simple_string_encoder())
        .with_rolling_policy(RollingPolicy.on_checkpoint_rolling_policy())
        .with_bucket_assigner(BucketAssigner.base_path_bucket_assigner())
        .build()
    ).uid("files")
    return env


def finished(out: Path) -> Counter[str]:
    lines: Counter[str] = Counter()
    for root, _dirs, names in os.walk(out):
        for name in names:
            if not name.startswith("."):
                lines.update((Path(root) / name).read_text(encoding="utf-8").splitlines())
    return lines


@pytest.mark.parametrize("new_parallelism", [1, 3])
def test_stopped_and_resumed_at_another_parallelism_every_record_once(tmp_path: Path, new_parallelism: int) -> None:
    client = job(tmp_path, parallelism=2).execute_async()
    deadline = time.monotonic() + 30
    while not client.get_checkpoints():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    savepoint = client.stop_with_savepoint(False, str(tmp_path / "sp")).result(timeout=30)
    client.get_job_execution_result().result(timeout=30)
    before = finished(tmp_path / "out")
    assert 0 < sum(before.values()) < sum(everything().values()), "stopped part-way"
    job(tmp_path, parallelism=new_parallelism, restore=savepoint).execute()
    assert finished(tmp_path / "out") == Counter(line.upper() for line in everything().elements())


def test_a_record_that_is_not_a_pair_names_the_source() -> None:
    class Bad(RewindableSource):
        def read(self, split: Any, position: Any) -> Iterator[Any]:
            yield "just a record"

    env = StreamExecutionEnvironment.get_execution_environment()
    with pytest.raises(Exception, match=r"Bad.read\(\) must yield \(record, position\) pairs, got 'just a record'"):
        env.from_source(Bad()).add_sink(lambda x: None)
        env.execute()


def test_an_exception_in_read_comes_out_of_execute() -> None:
    class Broken(RewindableSource):
        def read(self, split: Any, position: Any) -> Iterator[tuple[int, int]]:
            yield 1, 1
            raise ConnectionError("the API is down")

    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_source(Broken(), source_name="api").add_sink(lambda x: None)
    with pytest.raises(ConnectionError, match="the API is down"):
        env.execute()


def test_splits_must_pickle_and_positions_too(tmp_path: Path) -> None:
    class Unpicklable(RewindableSource):
        def splits(self) -> list[Any]:
            return [lambda: 1]

        def read(self, split: Any, position: Any) -> Iterator[tuple[int, int]]:
            yield 1, 1

    env = StreamExecutionEnvironment.get_execution_environment()
    with pytest.raises(TypeError, match="splits\\(\\) must return picklable values"):
        env.from_source(Unpicklable())

    class BadPosition(RewindableSource):
        def read(self, split: Any, position: Any) -> Iterator[tuple[int, Any]]:
            i = 0
            while True:
                time.sleep(0.001)
                yield i, (lambda: None)  # a position pickle cannot write
                i += 1

    cfg = Configuration()
    cfg.set_string("execution.checkpointing.dir", str(tmp_path))
    cfg.set_string("restart-strategy.type", "none")
    env = StreamExecutionEnvironment.get_execution_environment(cfg)
    env.enable_checkpointing(20)
    env.from_source(BadPosition(), source_name="bad").add_sink(lambda x: None)
    with pytest.raises(Exception, match="position of a split cannot be pickled"):
        env.execute()


def test_accepted_with_checkpointing_unlike_from_iterable(tmp_path: Path) -> None:
    cfg = Configuration()
    cfg.set_string("execution.checkpointing.dir", str(tmp_path))
    env = StreamExecutionEnvironment.get_execution_environment(cfg)
    env.enable_checkpointing(50)
    assert Counter(env.from_source(Pages()).execute_and_collect()) == everything()
