"""``ferroflow run --target remote``, against a real standalone Flink 2.3 cluster that these tests
start from the apache-flink package (``tests/flink_cluster.py``) and stop at the end: ferroflow
programs print on the cluster what they print on ferroflow, a failing job is reported with its
Python exception and the cluster's message, and Ctrl-C cancels the job on the cluster.

Marked ``flink``: they skip, saying why, when apache-flink or Java is missing, except in CI,
whose ``.ci/run`` installs both."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from flink_cluster import FlinkTestCluster, pyflink_home

pytestmark = pytest.mark.flink

PROGRAMS = Path(__file__).parent / "data" / "flink_programs"
WAIT_SECONDS = 120


def _missing() -> str | None:
    if pyflink_home() is None:
        return "apache-flink is not installed (pip install 'ferroflow[flink]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Java is not installed (Flink needs Java 11 or later)"
    return None


@pytest.fixture(scope="session")
def flink_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlinkTestCluster]:
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; .ci/run installs what the Flink tests need")
        pytest.skip(reason)
    home = pyflink_home()
    assert home is not None
    cluster = FlinkTestCluster(home, tmp_path_factory.mktemp("flink-cluster"))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def run_remote(cluster: FlinkTestCluster, program: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ferroflow", "run", "--target", "remote", "-m", cluster.address, str(program), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, stdin=subprocess.DEVNULL)


# What else lands in a TaskManager's .out file: the Python workers' gRPC library logging through
# java.util.logging (a date line, a "SEVERE: ..." line, a Java exception and its stack).
_JAVA_LOG = re.compile(r"^([A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d{2}:\d{2} [AP]M |(SEVERE|WARNING|INFO): |"
                       r"(java|javax|org|io|com)\.[\w.$]+(Exception|Error)\b|Caused by: |\s|$)")


def printed_on_cluster(cluster: FlinkTestCluster, before: int, count: int) -> list[str]:
    """The lines the TaskManager's tasks printed after offset ``before``, once ``count`` have
    arrived (Java's own log lines in between left out)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        lines = [line for line in cluster.taskmanager_out()[before:].splitlines() if not _JAVA_LOG.match(line)]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)


def job_state(cluster: FlinkTestCluster, job_id: str) -> str:
    with urllib.request.urlopen(f"http://{cluster.address}/jobs/{job_id}", timeout=10) as response:
        return json.loads(response.read())["state"]


@pytest.mark.parametrize("name", ["word_count_side_outputs", "event_time_windows", "keyed_state_timers"])
def test_program_prints_on_the_cluster_what_it_prints_on_ferroflow(flink_cluster: FlinkTestCluster, name: str) -> None:
    program = PROGRAMS / f"{name}.py"
    local = subprocess.run(
        [sys.executable, "-m", "ferroflow", "run", str(program)], capture_output=True, text=True, timeout=120, check=True
    )
    expected = local.stdout.splitlines()
    assert expected
    before = len(flink_cluster.taskmanager_out())
    result = run_remote(flink_cluster, program)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Job has been submitted with JobID" in result.stdout
    # Side outputs and the main output are printed by different tasks: compare as multisets.
    assert sorted(printed_on_cluster(flink_cluster, before, len(expected))) == sorted(expected)


def test_failing_job_shows_its_python_exception_and_the_clusters_message(
    flink_cluster: FlinkTestCluster, tmp_path: Path
) -> None:
    program = tmp_path / "failing.py"
    program.write_text(
        textwrap.dedent(
            """
            from ferroflow.datastream import StreamExecutionEnvironment

            def check(x):
                if x == 3:
                    raise ValueError(f"bad record {x}")
                return x

            env = StreamExecutionEnvironment.get_execution_environment()
            env.from_collection([1, 2, 3]).map(check).print()
            env.execute("failing job")
            """
        )
    )
    result = run_remote(flink_cluster, program)
    assert result.returncode == 1
    # Flink's client prints what the program writes to stderr on its stdout.
    lines = result.stdout.splitlines()
    failed = [line for line in lines if line.startswith("ferroflow run: job ") and line.endswith(" failed on the Flink cluster")]
    assert len(failed) == 1, result.stdout + result.stderr
    job_id = failed[0].split()[3]
    assert lines[lines.index(failed[0]) + 1 :][:4] == [
        "Traceback (most recent call last):",
        f'  File "{program}", line 6, in check',
        '    raise ValueError(f"bad record {x}")',
        "ValueError: bad record 3",
    ]
    assert f"says job {job_id} FAILED: org.apache.flink.runtime.JobException" in result.stderr
    assert "\tat org.apache" not in result.stdout + result.stderr
    assert job_state(flink_cluster, job_id) == "FAILED"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_cancels_the_job_on_the_cluster(flink_cluster: FlinkTestCluster, tmp_path: Path, sig: int) -> None:
    program = tmp_path / "slow.py"
    program.write_text(
        textwrap.dedent(
            """
            import time
            from ferroflow.datastream import StreamExecutionEnvironment

            def slow(x):
                time.sleep(0.05)
                return x

            env = StreamExecutionEnvironment.get_execution_environment()
            env.from_collection(list(range(100_000))).map(slow).print()
            env.execute("slow job")
            """
        )
    )
    command = [sys.executable, "-m", "ferroflow", "run", "--target", "remote", "-m", flink_cluster.address, str(program)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        job_id = None
        for line in process.stdout:
            if "Job has been submitted with JobID" in line:
                job_id = line.split()[-1]
                break
        assert job_id is not None
        deadline = time.monotonic() + WAIT_SECONDS
        while job_state(flink_cluster, job_id) != "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.2)
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=WAIT_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130
    assert f"ferroflow run: cancelled job {job_id} on the Flink cluster at http://{flink_cluster.address}" in stderr
    deadline = time.monotonic() + WAIT_SECONDS
    while job_state(flink_cluster, job_id) not in ("CANCELED", "FAILED", "FINISHED") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert job_state(flink_cluster, job_id) == "CANCELED"
    # The client is gone too.
    assert not [p for p in os.popen("ps -eo args").read().splitlines() if str(program) in p]
