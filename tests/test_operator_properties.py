"""DataStream.set_max_parallelism and DataStream.set_buffer_timeout (PyFlink's operator
properties): their checks, and what they do. A per-operator max parallelism is the number of key
groups of that operator's keyed state (records are routed to it by those key groups, its
checkpointed state is split into them, and a restore needs the same number); a per-operator
buffer timeout is the flush interval of the output of the task the operator ends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from checkpoint_env import checkpoint_config
from ferroflow.common import Types
from ferroflow.datastream import KeyedProcessFunction, StreamExecutionEnvironment, latest_checkpoint
from ferroflow.datastream.data_stream import UnsupportedOperationError
from ferroflow.datastream.state import ValueStateDescriptor


@pytest.fixture
def env() -> StreamExecutionEnvironment:
    e = StreamExecutionEnvironment.get_execution_environment()
    e.set_parallelism(2)
    return e


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ("8", TypeError, "max_parallelism must be an int, got str \\('8'\\)"),
        (True, TypeError, "max_parallelism must be an int"),
        (0, ValueError, "max_parallelism must be at least 1, got 0"),
        (32769, ValueError, "max_parallelism must be at most 32768, got 32769"),
    ],
)
def test_set_max_parallelism_checks_its_argument(env: StreamExecutionEnvironment, value: Any, error: type, message: str):
    with pytest.raises(error, match=message):
        env.from_collection([1]).map(str).set_max_parallelism(value)


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ("10", TypeError, "buffer timeout must be an int \\(milliseconds\\), got str \\('10'\\)"),
        (1.5, TypeError, "buffer timeout must be an int"),
        (-2, ValueError, "buffer timeout must be -1, 0 or positive, got -2"),
    ],
)
def test_set_buffer_timeout_checks_its_argument(env: StreamExecutionEnvironment, value: Any, error: type, message: str):
    with pytest.raises(error, match=message):
        env.from_collection([1]).map(str).set_buffer_timeout(value)


def test_both_return_the_stream_and_refuse_keyed_streams_and_unions(env: StreamExecutionEnvironment):
    mapped = env.from_collection([1]).map(str)
    assert mapped.set_max_parallelism(64) is mapped
    assert mapped.set_buffer_timeout(-1) is mapped
    keyed = mapped.key_by(len)
    with pytest.raises(UnsupportedOperationError, match="Setting max parallelism for KeyedStream is not supported."):
        keyed.set_max_parallelism(8)
    with pytest.raises(UnsupportedOperationError, match="for KeyedStream is not supported."):
        keyed.set_buffer_timeout(0)
    union = mapped.union(env.from_collection(["x"]))
    with pytest.raises(ValueError, match="cannot be applied to a union"):
        union.set_max_parallelism(8)
    with pytest.raises(ValueError, match="cannot be applied to a union"):
        union.set_buffer_timeout(0)


def test_a_max_parallelism_below_the_parallelism_is_refused(env: StreamExecutionEnvironment):
    stream = env.from_collection([1, 2]).map(str).set_parallelism(4)
    with pytest.raises(ValueError, match="'Map' has parallelism 4, larger than the max_parallelism 2"):
        stream.set_max_parallelism(2)
    other = env.from_collection([1, 2]).map(str).set_max_parallelism(2)
    with pytest.raises(ValueError, match="'Map': parallelism 3 is larger than its max_parallelism 2"):
        other.set_parallelism(3)
    # A parallelism from the environment is checked when the job is built.
    env.set_parallelism(3)
    with pytest.raises(ValueError, match="max parallelism 2 must be at least its parallelism 3"):
        env.from_collection([1, 2]).map(str).set_max_parallelism(2).execute_and_collect()


class Counts(KeyedProcessFunction):
    """Counts per key; reports its key groups and which subtask saw which key."""

    def open(self, runtime_context: Any) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))
        self.max_parallelism = runtime_context.get_max_number_of_parallel_subtasks()
        self.index = runtime_context.get_index_of_this_subtask()

    def process_element(self, value: int, ctx: Any):
        self.count.update((self.count.value() or 0) + 1)
        yield (ctx.get_current_key(), self.count.value(), self.index, self.max_parallelism)


def test_the_operator_sees_its_own_max_parallelism_and_keys_are_routed_by_it(env: StreamExecutionEnvironment):
    def run(max_parallelism: int | None) -> list[Any]:
        stream = env.from_collection(list(range(40))).key_by(lambda v: v % 10).process(Counts())
        if max_parallelism is not None:
            stream.set_max_parallelism(max_parallelism)
        return list(stream.execute_and_collect())

    own, default = run(2), run(None)
    assert {r[3] for r in own} == {2} and {r[3] for r in default} == {128}
    for rows in (own, default):
        subtask_of = {}
        for key, _count, index, _ in rows:
            assert subtask_of.setdefault(key, index) == index, "a key reached two subtasks"
        assert sorted(r[1] for r in rows if r[0] == 3) == [1, 2, 3, 4]
    # With 2 key groups over 2 subtasks, key group g goes to subtask g: the keys' placement is
    # that of their key groups of 2, not of 128.
    own_placement = {r[0]: r[2] for r in own}
    default_placement = {r[0]: r[2] for r in default}
    assert own_placement != default_placement


def checkpointed_counts(tmp_path: Path, max_parallelism: int, restore: str | None = None, fail: bool = False) -> list[Any]:
    cfg = checkpoint_config(tmp_path / "checkpoints", restore)
    env = StreamExecutionEnvironment.get_execution_environment(cfg)
    env.set_parallelism(2)
    env.enable_checkpointing(10)

    def slow(v: int) -> int:
        import time

        time.sleep(0.002)
        if fail and v == 150:
            raise RuntimeError("injected")
        return v

    stream = (
        env.from_collection(list(range(200)))
        .map(slow)
        .key_by(lambda v: v % 10)
        .process(Counts())
        .uid("counts")
        .set_max_parallelism(max_parallelism)
    )
    return list(stream.execute_and_collect())


def test_checkpointed_state_is_split_into_the_operators_key_groups_which_a_restore_keeps(tmp_path: Path):
    with pytest.raises(RuntimeError, match="injected"):
        checkpointed_counts(tmp_path, 16, fail=True)
    latest = latest_checkpoint(tmp_path / "checkpoints")
    assert latest is not None
    metadata = json.loads((Path(latest) / "_metadata").read_text())
    assert metadata["operators"]["counts"]["max_parallelism"] == 16
    keyed = (Path(latest) / "counts" / "0" / "keyed" / "keyed-state.bin").read_bytes()
    assert int.from_bytes(keyed[8:12], "little") == 16, "the snapshot's key groups are of 16"
    with pytest.raises(ValueError, match="max parallelism 16 but the job has 32 for operator 'counts'"):
        checkpointed_counts(tmp_path, 32, restore=latest)
    rows = checkpointed_counts(tmp_path, 16, restore=latest)
    assert rows, "the restored job went on"
    assert max(r[1] for r in rows) == 20, "each key's count went on from the checkpoint to 20"


@pytest.mark.parametrize("timeout", [-1, 0, 5])
def test_a_chain_with_its_own_buffer_timeout_delivers_everything(env: StreamExecutionEnvironment, timeout: int):
    """-1 sends only full batches, yet the end of the input sends the rest."""
    env.set_buffer_timeout(100)
    stream = env.from_collection(list(range(300))).map(lambda v: v * 2).set_buffer_timeout(timeout).rebalance().map(str)
    assert sorted(stream.execute_and_collect(), key=int) == [str(v * 2) for v in range(300)]
