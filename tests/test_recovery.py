"""Crash tests: a checkpointed job (keyed state, event-time timers, a rolling reduce, a
two-phase-commit sink) run in a process of its own and killed with SIGKILL at random moments,
then started again from its newest checkpoint each time, at parallelism 1 and 2 on both state
backends: the lines its sink made visible equal those of a run that never failed, line for
line. Also a failure inside a running job, restarted by its restart strategy."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ferroflow._engine import check_checkpoint, latest_checkpoint

JOB = str(Path(__file__).with_name("recovery_job.py"))
RECORDS = 6000


def committed_lines(directory: Path) -> list[str]:
    return sorted(line for f in directory.glob("part-*") for line in f.read_text().splitlines())


def reference(tmp_path: Path) -> list[str]:
    out = tmp_path / "reference"
    out.mkdir()
    subprocess.run([sys.executable, JOB, "--out", str(out), "--records", str(RECORDS), "--delay", "0"], check=True)
    return committed_lines(out)


@pytest.mark.parametrize("parallelism", [1, 2])
@pytest.mark.parametrize("backend", ["hashmap", "rocksdb"])
def test_killed_at_random_moments_and_resumed_the_output_is_exactly_once(
    tmp_path: Path, parallelism: int, backend: str
):
    expected = reference(tmp_path)
    out, checkpoints = tmp_path / "out", tmp_path / "checkpoints"
    out.mkdir()
    args = [
        sys.executable, JOB, "--out", str(out), "--checkpoints", str(checkpoints), "--resume",
        "--records", str(RECORDS), "--interval", "50", "--parallelism", str(parallelism),
        "--backend", backend, "--rocksdb-dir", str(tmp_path / "rocksdb"),
    ]  # fmt: skip
    rng = random.Random(f"{parallelism}-{backend}")
    kills = 0
    for _ in range(40):
        job = subprocess.Popen(args, stderr=subprocess.PIPE)
        try:
            _, err = job.communicate(timeout=rng.uniform(0.3, 1.2) if kills < 4 else 120)
            assert job.returncode == 0, err.decode()[-3000:]
            break
        except subprocess.TimeoutExpired:
            job.send_signal(signal.SIGKILL)
            job.communicate()
            kills += 1
    else:
        pytest.fail("the job never finished")
    assert kills >= 1
    assert committed_lines(out) == expected
    # Nothing half-written is visible: transactions not committed stay hidden.
    assert all(not f.name.startswith("part-") or f.stat().st_size > 0 for f in out.iterdir())


def test_an_exception_restarts_the_job_from_its_latest_checkpoint(tmp_path: Path):
    expected = reference(tmp_path)
    out, marker = tmp_path / "out", tmp_path / "failed-once"
    out.mkdir()
    done = subprocess.run(
        [sys.executable, JOB, "--out", str(out), "--checkpoints", str(tmp_path / "ck"),
         "--records", str(RECORDS), "--interval", "20", "--fail-once", str(marker)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert marker.exists(), "the injected failure happened"
    assert committed_lines(out) == expected


def test_a_damaged_checkpoint_is_refused_and_the_previous_one_used(tmp_path: Path):
    job = tmp_path / "job"
    for n in (1, 2):
        (job / f"chk-{n}").mkdir(parents=True)
        (job / f"chk-{n}" / "_metadata").write_text(
            '{"format": "ferroflow-checkpoint", "version": 1, "job_id": "j", "job_name": "n", '
            f'"checkpoint_id": {n}, "timestamp": {n}, "kind": "checkpoint", "max_parallelism": 128, '
            '"operators": {}, "bytes": 0, "new_bytes": 0}'
        )
    assert latest_checkpoint(tmp_path) == str(job / "chk-2")
    (job / "chk-2" / "_metadata").write_text('{"format": "ferroflow-check')
    assert "corrupt or truncated" in (check_checkpoint(job / "chk-2") or "")
    assert latest_checkpoint(tmp_path) == str(job / "chk-1")
    (job / "chk-3").mkdir()
    assert "not a complete checkpoint" in (check_checkpoint(job / "chk-3") or "")
    assert latest_checkpoint(tmp_path) == str(job / "chk-1")
