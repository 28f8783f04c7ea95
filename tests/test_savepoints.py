"""execute_async's JobClient: status, cancel, results, checkpoint statistics, and savepoints that
resume a job exactly where it stopped, at the same or another parallelism."""

from __future__ import annotations

import os
import re
import shutil
import time
import zlib
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from ferroflow.common import Configuration, Encoder, JobStatus, Types, WatermarkStrategy
from ferroflow.datastream import EmbeddedRocksDBStateBackend, StreamExecutionEnvironment, check_checkpoint
from ferroflow.datastream.connectors.file_system import BucketAssigner, FileSink, OutputFileConfig, RollingPolicy
from ferroflow.datastream.connectors.number_seq import NumberSequenceSource

N = 20000  # NumberSequenceSource(1, N) is inclusive, as in Flink
KEYS = 7


def slow(x: int) -> int:
    time.sleep(0.0002)
    return x


def environment(tmp_path: Path, parallelism: int, backend: str = "hashmap", restore: str | None = None) -> StreamExecutionEnvironment:
    cfg = Configuration()
    cfg.set_string("execution.checkpointing.dir", str(tmp_path / "checkpoints"))
    cfg.set_string("execution.checkpointing.savepoint-dir", str(tmp_path / "savepoints"))
    if restore is not None:
        cfg.set_string("execution.state-recovery.path", restore)
    env = StreamExecutionEnvironment.get_execution_environment(cfg)
    env.set_parallelism(parallelism)
    env.enable_checkpointing(100)
    if backend == "rocksdb":
        env.set_state_backend(EmbeddedRocksDBStateBackend(local_directory=str(tmp_path / "rocksdb"), memory_budget="32mb"))
    return env


def rolling_sums_into_files(env: StreamExecutionEnvironment, out: Path) -> None:
    """Numbers, slowed down, summed per key (a rolling reduce), written as 'key,sum' lines."""
    (
        env.from_source(NumberSequenceSource(1, N), WatermarkStrategy.no_watermarks(), "numbers")
        .uid("numbers")
        .map(slow, output_type=Types.LONG())
        .uid("slow")
        .map(lambda x: (x % KEYS, x))
        .uid("pair")
        .key_by(lambda t: t[0])
        .reduce(lambda a, b: (a[0], a[1] + b[1]))
        .uid("sums")
        .map(lambda t: f"{t[0]},{t[1]}", output_type=Types.STRING())
        .uid("format")
        .sink_to(
            FileSink.for_row_format(str(out), Encoder.simple_string_encoder())
            .with_rolling_policy(RollingPolicy.on_checkpoint_rolling_policy())
            .with_bucket_assigner(BucketAssigner.base_path_bucket_assigner())
            .with_output_file_config(OutputFileConfig.builder().with_part_prefix("sums").build())
            .build()
        )
        .uid("files")
    )


def finished_lines(out: Path) -> list[str]:
    lines = []
    for root, _dirs, names in os.walk(out):
        for name in names:
            if not name.startswith("."):
                lines.extend((Path(root) / name).read_text(encoding="utf-8").splitlines())
    return lines


def assert_every_record_counted_once(lines: list[str]) -> None:
    """Each key's rolling sums: one line per record of the key, every value distinct (no record
    twice), and the last one the key's total."""
    by_key: dict[int, list[int]] = defaultdict(list)
    for line in lines:
        k, s = line.split(",")
        by_key[int(k)].append(int(s))
    expected_counts = Counter(x % KEYS for x in range(1, N + 1))
    totals: Counter[int] = Counter()
    for x in range(1, N + 1):
        totals[x % KEYS] += x
    assert sorted(by_key) == sorted(expected_counts)
    for k, sums in by_key.items():
        assert len(sums) == expected_counts[k], f"key {k}: {len(sums)} lines, {expected_counts[k]} records"
        assert len(set(sums)) == len(sums), f"key {k}: a record was counted twice"
        assert max(sums) == totals[k]


def wait_for_checkpoint(client: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not client.get_checkpoints():  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, "no checkpoint completed"
        time.sleep(0.02)


@pytest.mark.parametrize("new_parallelism", [1, 2, 3])
def test_stop_with_savepoint_and_resume_at_another_parallelism(tmp_path: Path, new_parallelism: int) -> None:
    out = tmp_path / "out"
    env = environment(tmp_path, parallelism=2)
    rolling_sums_into_files(env, out)
    client = env.execute_async("sums")
    wait_for_checkpoint(client)
    savepoint = client.stop_with_savepoint(False).result(timeout=30)
    result = client.get_job_execution_result().result(timeout=30)
    assert client.get_job_status().result() is JobStatus.FINISHED
    assert Path(savepoint).parent == tmp_path / "savepoints"
    assert Path(savepoint).name.startswith("savepoint-" + client.get_job_id()[:6])
    assert check_checkpoint(savepoint) is None
    stopped_early = finished_lines(out)
    assert 0 < len(stopped_early) < N, "the job stopped before the end of its input"
    assert result.get_checkpoints(), "statistics of the savepoint's checkpoint"

    resumed = environment(tmp_path, parallelism=new_parallelism, restore=savepoint)
    rolling_sums_into_files(resumed, out)
    resumed.execute("sums")
    assert_every_record_counted_once(finished_lines(out))


def test_trigger_savepoint_on_rocksdb_then_resume_from_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = environment(tmp_path, parallelism=2, backend="rocksdb")
    rolling_sums_into_files(env, out)
    client = env.execute_async()
    wait_for_checkpoint(client)
    savepoint = client.trigger_savepoint(str(tmp_path / "elsewhere")).result(timeout=30)
    assert Path(savepoint).parent == tmp_path / "elsewhere"
    client.get_job_execution_result().result(timeout=60)
    assert client.get_job_status().result() is JobStatus.FINISHED
    assert_every_record_counted_once(finished_lines(out))
    # The job's checkpoints are gone with it (deleted on finish); its savepoint stays.
    assert not (tmp_path / "checkpoints" / client.get_job_id()).exists()
    assert check_checkpoint(savepoint) is None

    # Resumed from the savepoint into a fresh output: what came after the savepoint, once.
    again = tmp_path / "again"
    resumed = environment(tmp_path, parallelism=3, backend="rocksdb", restore=savepoint)
    rolling_sums_into_files(resumed, again)
    resumed.execute()
    later = finished_lines(again)
    assert later, "the savepoint was taken before the end of the input"
    # The restored sums go on from the savepoint: each key ends at its total, from fewer lines.
    totals: Counter[int] = Counter()
    for x in range(1, N + 1):
        totals[x % KEYS] += x
    last: dict[int, int] = {}
    for line in later:
        k, s = map(int, line.split(","))
        last[k] = max(last.get(k, 0), s)
    assert last == dict(totals)
    assert len(later) < N


def test_cancel_stops_a_running_job(tmp_path: Path) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    seen: list[int] = []
    env.from_source(NumberSequenceSource(0, 10**9), WatermarkStrategy.no_watermarks(), "forever").map(
        slow
    ).add_sink(seen.append)
    client = env.execute_async("forever")
    assert client.get_job_status().result() is JobStatus.RUNNING
    while not seen:
        time.sleep(0.01)
    client.cancel().result(timeout=30)
    assert client.get_job_status().result() is JobStatus.CANCELED
    assert client.get_job_status().result().is_globally_terminal_state()
    # An ordinary exception (not KeyboardInterrupt: nobody pressed Ctrl-C).
    with pytest.raises(RuntimeError, match="cancelled"):
        client.get_job_execution_result().result(timeout=30)


def test_a_failing_job_raises_from_its_result(tmp_path: Path) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()

    def boom(x: int) -> int:
        if x == 5:
            raise ValueError("bad record 5")
        return x

    env.from_collection(list(range(10))).map(boom).name("Boom").add_sink(lambda x: None)
    client = env.execute_async()
    with pytest.raises(ValueError, match="bad record 5") as info:
        client.get_job_execution_result().result(timeout=30)
    assert any("Boom" in note for note in getattr(info.value, "__notes__", []))
    assert client.get_job_status().result() is JobStatus.FAILED


def test_a_finished_job_gives_its_result_and_figures(tmp_path: Path) -> None:
    env = environment(tmp_path, parallelism=1)
    got: list[int] = []
    env.from_collection(list(range(100))).map(lambda x: x * 2).add_sink(got.append)
    client = env.execute_async("doubles")
    result = client.get_job_execution_result().result(timeout=30)
    assert sorted(got) == [x * 2 for x in range(100)]
    assert result.get_job_id() == client.get_job_id()
    assert result.get_job_name() == "doubles"
    checkpoints = result.get_checkpoints()
    assert checkpoints, "at least the final checkpoint"
    assert {"id", "end_to_end_duration_ms", "state_size", "checkpointed_size", "alignment_duration_ms"} <= set(checkpoints[-1])
    # Deleted with the finished job (no retention asked for): no path to a removed directory.
    assert checkpoints[-1]["external_path"] is None
    assert client.wait(0) is True
    # A finished job takes no savepoint.
    with pytest.raises(RuntimeError, match="FINISHED"):
        client.trigger_savepoint(str(tmp_path / "sp")).result(timeout=10)


def test_savepoints_need_checkpointing_and_a_directory(tmp_path: Path) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_source(NumberSequenceSource(0, 10**9), WatermarkStrategy.no_watermarks(), "forever").map(
        slow
    ).add_sink(lambda x: None)
    client = env.execute_async()
    try:
        with pytest.raises(ValueError, match="savepoint-dir"):
            client.trigger_savepoint()
        with pytest.raises(RuntimeError, match="enable_checkpointing"):
            client.trigger_savepoint(str(tmp_path)).result(timeout=10)
        with pytest.raises(NotImplementedError, match="advance_to_end_of_event_time"):
            client.stop_with_savepoint(True, str(tmp_path))
    finally:
        client.cancel().result(timeout=30)


def test_execute_reports_checkpoints_and_the_job_id(tmp_path: Path) -> None:
    env = environment(tmp_path, parallelism=1)
    env.from_collection(list(range(10))).add_sink(lambda x: None)
    result = env.execute()
    assert len(result.get_job_id()) == 32
    assert result.get_checkpoints()[-1]["id"] >= 1
    assert result.get_restarts() == 0


@pytest.mark.parametrize("read", ["all", "some"])
def test_collected_jobs_remove_their_temporary_checkpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read: str
) -> None:
    # Checkpointing without a directory: checkpoints go to a temporary one, removed at the end,
    # whether the results were read to the end or the iterator was closed early.
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    env = StreamExecutionEnvironment.get_execution_environment()
    env.enable_checkpointing(20)
    stream = env.from_collection(list(range(3000))).map(slow)
    if read == "all":
        assert sorted(stream.execute_and_collect()) == list(range(3000))
    else:
        with stream.execute_and_collect() as results:
            assert next(results) is not None
            time.sleep(0.2)
    left = tmp_path / "ferroflow-checkpoints"
    assert not left.exists() or not any(left.iterdir()), list(left.iterdir())


@pytest.mark.parametrize("mode", [None, "NO_CLAIM", "CLAIM"])
def test_who_owns_the_snapshot_a_job_resumes_from(tmp_path: Path, mode: str | None) -> None:
    """By default a resumed job takes over a checkpoint (deleted once it has its own) and never
    a savepoint; NO_CLAIM leaves either alone, CLAIM takes either (Flink's claim modes)."""
    env = environment(tmp_path, parallelism=2)
    rolling_sums_into_files(env, tmp_path / "out")
    client = env.execute_async()
    wait_for_checkpoint(client)
    savepoint = client.stop_with_savepoint(False).result(timeout=30)
    client.get_job_execution_result().result(timeout=30)
    checkpoint = tmp_path / "kept" / "job" / "chk-1"
    shutil.copytree(savepoint, checkpoint)  # the same snapshot, as a checkpoint of a dead job
    meta = checkpoint / "_metadata"
    text = re.sub(r'"checksum": "[0-9a-f]{8}"', '"checksum": "00000000"', meta.read_text())
    text = text.replace('"savepoint"', '"checkpoint"')  # and sealed again, as ferroflow writes it:
    meta.write_text(text.replace('"00000000"', f'"{zlib.crc32(text.encode()):08x}"'))
    for snapshot in (savepoint, str(checkpoint)):
        resumed = environment(tmp_path, parallelism=1, restore=snapshot)
        if mode is not None:
            resumed.configure(Configuration.from_dict({"execution.state-recovery.claim-mode": mode}))
        rolling_sums_into_files(resumed, tmp_path / f"out-{Path(snapshot).name}")
        resumed.execute()
    claimed_savepoint = mode == "CLAIM"
    claimed_checkpoint = mode != "NO_CLAIM"
    assert Path(savepoint).exists() != claimed_savepoint
    assert checkpoint.exists() != claimed_checkpoint
    assert (tmp_path / "kept" / "job").exists() != claimed_checkpoint


def test_a_job_runs_on_when_its_client_is_dropped() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    seen: list[int] = []
    env.from_collection(list(range(300))).map(slow).add_sink(seen.append)
    env.execute_async("fire and forget")  # the client is not kept
    deadline = time.monotonic() + 30
    while len(seen) < 300:
        assert time.monotonic() < deadline, f"{len(seen)} of 300 records"
        time.sleep(0.02)
    assert sorted(seen) == list(range(300))


def test_the_client_answers_while_its_result_is_awaited(tmp_path: Path) -> None:
    env = environment(tmp_path, parallelism=1)
    rolling_sums_into_files(env, tmp_path / "out")
    client = env.execute_async()
    pending = client.get_job_execution_result()  # a thread now waits for the result
    wait_for_checkpoint(client)
    assert client.get_job_status().result() is JobStatus.RUNNING
    assert client.get_checkpoints()
    assert client.wait(0.01) is False
    assert Path(client.trigger_savepoint().result(timeout=30)).exists()
    client.cancel().result(timeout=30)
    with pytest.raises(RuntimeError, match="cancelled"):
        pending.result(timeout=30)
    assert client.wait(1e20) is True  # any timeout, however large


def test_stopping_with_a_savepoint_commits_what_the_savepoint_covers(tmp_path: Path) -> None:
    out, again = tmp_path / "out", tmp_path / "again"
    env = environment(tmp_path, parallelism=2)
    rolling_sums_into_files(env, out)
    client = env.execute_async()
    wait_for_checkpoint(client)
    savepoint = client.stop_with_savepoint(False).result(timeout=30)
    result = client.get_job_execution_result().result(timeout=30)
    assert result.get_task_metrics(), "the stopped tasks report what they did"
    stopped = sorted(finished_lines(out))
    # Resumed into another directory: nothing more appears in the first one (the stop committed
    # all the savepoint covers), and the two together hold every record once.
    resumed = environment(tmp_path, parallelism=2, restore=savepoint)
    rolling_sums_into_files(resumed, again)
    resumed.execute()
    assert sorted(finished_lines(out)) == stopped
    assert_every_record_counted_once(stopped + finished_lines(again))
