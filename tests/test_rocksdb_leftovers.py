"""Nothing of RocksDB outlives the process that made it: the working directories of a process
killed with SIGKILL are removed by the next RocksDB job in the same local directory (but never a
live process's), and RocksDB's background threads end when the last job that used them does. Each
job runs in a process of its own."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

if not sys.platform.startswith("linux"):
    pytest.skip("reads /proc", allow_module_level=True)

# A RocksDB job in `base`: "forever" runs until killed (after writing `ready` once its state is
# in use), "once" runs to its end, "threads" prints the RocksDB threads during and after a job.
CHILD = r"""
import sys, time
from pathlib import Path
from ferroflow.datastream import EmbeddedRocksDBStateBackend, StreamExecutionEnvironment
from ferroflow.datastream.connectors import NumberSequenceSource

mode, base = sys.argv[1], sys.argv[2]

def rocksdb_threads():
    names = []
    for task in Path("/proc/self/task").iterdir():
        try:
            names.append((task / "comm").read_text().strip())
        except OSError:
            pass
    return sorted(n for n in names if n.startswith("rocksdb"))

seen = []

def touch(value):
    if not seen:
        seen.append(rocksdb_threads())
        if mode == "forever":
            Path(sys.argv[3]).write_text("ready")
    if mode == "forever":
        time.sleep(0.001)
    return value

env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(1)
env.set_state_backend(EmbeddedRocksDBStateBackend(local_directory=base))
end = 10**12 if mode == "forever" else 20_000
(env.from_source(NumberSequenceSource(0, end)).map(lambda i: (i % 100, 1)).key_by(lambda e: e[0])
    .reduce(lambda a, b: (a[0], a[1] + b[1])).map(touch).add_sink(lambda v: None))
env.execute("rocksdb " + mode)
if mode == "threads":
    # Threads that were told to end exit on their own, soon after.
    deadline = time.monotonic() + 30
    while rocksdb_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    print("during:", ",".join(seen[0]))
    print("after:", ",".join(rocksdb_threads()))
"""


def start_forever(base: Path, tmp_path: Path, name: str) -> subprocess.Popen[bytes]:
    ready = tmp_path / f"{name}.ready"
    child = subprocess.Popen([sys.executable, "-c", CHILD, "forever", str(base), str(ready)])
    deadline = time.monotonic() + 60
    while not ready.exists():
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            pytest.fail(f"the job did not start (exit code {child.poll()})")
        time.sleep(0.05)
    return child


def run_once(base: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "once", str(base)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr


def entries_of(base: Path, pid: int) -> list[str]:
    return sorted(
        p.name for p in base.iterdir()
        if p.name.startswith(f"ferroflow-rocksdb-{pid}-") or p.name == f"ferroflow-rocksdb-{pid}.lock"
    )


def test_a_killed_process_s_directories_are_removed_by_the_next_job(tmp_path: Path):
    base = tmp_path / "rocksdb"
    base.mkdir()
    (base / "ferroflow-rocksdb-notes").mkdir()  # not ferroflow's: left alone
    killed = start_forever(base, tmp_path, "killed")
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    left = entries_of(base, killed.pid)
    assert f"ferroflow-rocksdb-{killed.pid}.lock" in left
    assert any(not name.endswith(".lock") for name in left), left
    run_once(base)
    assert entries_of(base, killed.pid) == []
    # The job that cleaned up left nothing behind itself either.
    assert sorted(p.name for p in base.iterdir()) == ["ferroflow-rocksdb-notes"]


def test_a_live_process_s_directories_are_left_alone(tmp_path: Path):
    base = tmp_path / "rocksdb"
    base.mkdir()
    live = start_forever(base, tmp_path, "live")
    try:
        before = entries_of(base, live.pid)
        assert len(before) == 2, before
        run_once(base)
        assert entries_of(base, live.pid) == before
    finally:
        live.kill()
        live.wait()


def test_rocksdb_background_threads_end_with_the_last_job(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "threads", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(": ", 1) if ": " in line else (line.rstrip(":"), "") for line in done.stdout.splitlines())
    assert lines["during"], done.stdout  # RocksDB's flush and compaction threads ran the job
    assert lines["after"] == "", done.stdout
    assert list(tmp_path.iterdir()) == []

