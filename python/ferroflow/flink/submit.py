"""``ferroflow run --target remote -m HOST:PORT prog.py [args]``: runs a ferroflow program on a
Flink 2.x cluster through PyFlink's own client, ``flink run -py``.

Before anything is submitted: the program is checked (:mod:`ferroflow.flink.check`; what would
not run on Flink is reported with its line), and PyFlink, Java and the cluster (reachable, Flink
2.x) are looked for. Then Flink's CLI from the apache-flink package runs the program's driver
(:mod:`ferroflow.flink.driver`) with ``python.client.executable`` and ``python.executable`` set
to this interpreter; the CLI ships the flink-python jar with the job and PyFlink ships the
program's Python functions. The program's output and the CLI's lines pass through; a job that
fails on the cluster is reported with the cluster's exception; Ctrl-C cancels the job on the
cluster through its REST API.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import IO

from ferroflow.flink import check
from ferroflow.flink.cluster import ClusterError, FlinkCluster, parse_address
from ferroflow.flink.driver import SCRIPT

__all__ = ["SetupError", "find_java", "find_pyflink", "run_remote"]

_JOB_ID = re.compile(r"Job has been submitted with JobID ([0-9a-f]{32})")
# Where Flink's client starts its own report of a failed program (a Java stack trace).
_CLI_FAILURE = ("The program finished with the following exception:", "org.apache.flink.client.program.ProgramAbortException")
_TERMINAL = {"FINISHED", "FAILED", "CANCELED", "SUSPENDED"}


class SetupError(RuntimeError):
    """Something the submission needs is missing: PyFlink, Java or the flink-python jar."""


def find_pyflink() -> str:
    """The installed apache-flink package's directory (it holds bin/flink and opt/)."""
    try:
        spec = importlib.util.find_spec("pyflink")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise SetupError(
            f"PyFlink (apache-flink) is not installed for {sys.executable}; running on a Flink "
            "cluster needs it: pip install 'ferroflow[flink]'"
        )
    home = next(iter(spec.submodule_search_locations))
    if not os.path.isfile(os.path.join(home, "bin", "flink")):
        raise SetupError(f"{home} has no bin/flink: reinstall apache-flink (pip install 'ferroflow[flink]')")
    if not glob.glob(os.path.join(home, "opt", "flink-python-*.jar")):
        raise SetupError(f"{home}/opt has no flink-python jar: reinstall apache-flink (pip install 'ferroflow[flink]')")
    return home


def find_java() -> str:
    """The java executable Flink's client will use ($JAVA_HOME/bin/java, else java on PATH)."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        java = os.path.join(java_home, "bin", "java")
        if os.access(java, os.X_OK):
            return java
        raise SetupError(f"JAVA_HOME is {java_home!r}, which has no bin/java; Flink's client needs Java 11 or later")
    java = shutil.which("java")
    if java is None:
        raise SetupError(
            "Java is not installed: Flink's client needs Java 11 or later (e.g. apt-get install "
            "openjdk-17-jre-headless, or set JAVA_HOME)"
        )
    return java


def _say(message: str) -> None:
    sys.stderr.write(f"ferroflow run: {message}\n")
    sys.stderr.flush()


def run_remote(path: str, args: list[str], address: str) -> int:
    """Runs the program at ``path`` on the cluster at ``address`` and returns the exit code."""
    try:
        host, port = parse_address(address)
    except ValueError as e:
        _say(str(e))
        return 2
    if not os.path.isfile(path):
        _say(f"can't open file {os.path.abspath(path)!r}: not a file")
        return 2
    try:
        findings = check.check_file(path)
    except SyntaxError as e:
        _say(f"{path}:{e.lineno}: {e.msg}")
        return 1
    report = check.format_report(path, findings)
    if any(not f.runs for f in findings):
        sys.stderr.write(report)
        _say("nothing was submitted (`ferroflow check` reports the same without a cluster)")
        return 2
    cluster = FlinkCluster(host, port)
    try:
        home = find_pyflink()
        java = find_java()
        version = cluster.version()
    except (SetupError, ClusterError) as e:
        _say(str(e))
        return 2
    if findings:
        sys.stderr.write(report)
    return _submit(cluster, version, home, java, os.path.abspath(path), args)


def _submit(cluster: FlinkCluster, version: str, home: str, java: str, path: str, args: list[str]) -> int:
    work = tempfile.mkdtemp(prefix="ferroflow-flink-")
    driver = os.path.join(work, "ferroflow_flink_driver.py")
    with open(driver, "w", encoding="utf-8") as f:
        f.write(SCRIPT)
    env = dict(os.environ)
    env["FLINK_LOG_DIR"] = os.path.join(work, "log")
    env.setdefault("JAVA_HOME", os.path.dirname(os.path.dirname(os.path.realpath(java))))
    command = [
        "bash", os.path.join(home, "bin", "flink"), "run", "-m", f"{cluster.host}:{cluster.port}",
        "-pyclientexec", sys.executable, "-pyexec", sys.executable, "-py", driver, path, *args,
    ]  # fmt: skip
    try:
        known_jobs = {j.get("jid") for j in cluster.jobs()}
    except ClusterError:
        known_jobs = set()
    started_ms = int(time.time() * 1000)
    client_log = os.path.join(work, "client-output.txt")
    state = _Run()
    # The client runs in a session of its own, so that Ctrl-C reaches ferroflow, which cancels the
    # job first; SIGTERM is treated the same way, so that no client or job is left behind.
    previous = signal.signal(signal.SIGTERM, _terminated) if _on_main_thread() else None
    try:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True, text=True, errors="replace", bufsize=1,
        )  # fmt: skip
        try:
            with open(client_log, "w", encoding="utf-8") as log:
                _relay(process.stdout, log, state)
            code = process.wait()
        except KeyboardInterrupt:
            _interrupted(cluster, process, state, known_jobs, started_ms)
            shutil.rmtree(work, ignore_errors=True)
            return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if code == 0:
        shutil.rmtree(work, ignore_errors=True)
        return 0
    _report_failure(cluster, state, code, client_log)
    return 1


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class _Run:
    def __init__(self) -> None:
        self.job_id: str | None = None
        self.failed_output: list[str] = []


def _relay(stream: IO[str] | None, log: IO[str], state: _Run) -> None:
    """Passes the client's output through until its failure report, which is kept aside."""
    if stream is None:
        return
    failing = False
    for line in stream:
        log.write(line)
        match = _JOB_ID.search(line)
        if match and state.job_id is None:
            state.job_id = match.group(1)
        if line.startswith(_CLI_FAILURE):
            failing = True
        if failing:
            state.failed_output.append(line)
        else:
            sys.stdout.write(line)
            sys.stdout.flush()


def _report_failure(cluster: FlinkCluster, state: _Run, code: int, client_log: str) -> None:
    job_state = _quiet_state(cluster, state.job_id) if state.job_id is not None else None
    if job_state == "FAILED":
        exception = cluster.root_exception(state.job_id or "")
        message = exception.strip().splitlines()[0] if exception else "(no exception recorded)"
        _say(f"the Flink cluster at {cluster.url} says job {state.job_id} FAILED: {message}")
    elif job_state is not None:
        _say(f"the program failed; its job {state.job_id} is {job_state} on the cluster at {cluster.url}")
    else:
        cause = _last_cause(state.failed_output)
        if cause and "Python process exits with code" in cause:
            cause = None
        _say(f"the program failed before its job ran on the cluster at {cluster.url}" + (f": {cause}" if cause else ""))
    _say(f"Flink's client exited with code {code}; its whole output is in {client_log}")


def _last_cause(lines: list[str]) -> str | None:
    """The innermost 'Caused by:' of the client's Java trace (or its first exception line)."""
    causes = [line.strip()[len("Caused by: "):] for line in lines if line.strip().startswith("Caused by: ")]
    if causes:
        return causes[-1]
    for line in lines[1:]:
        if line.strip():
            return line.strip()
    return None


def _quiet_state(cluster: FlinkCluster, job_id: str) -> str | None:
    try:
        return cluster.job_state(job_id)
    except ClusterError:
        return None


def _interrupted(cluster: FlinkCluster, process: subprocess.Popen, state: _Run, known: set, started_ms: int) -> None:
    """Ctrl-C: cancel the job on the cluster (the one the client submitted, or one that appeared
    since), then stop the client."""
    _say("interrupted; cancelling the job on the cluster")
    try:
        job_ids = [state.job_id] if state.job_id else []
        if not job_ids:
            _stop(process)
            job_ids = [
                j["jid"]
                for j in cluster.jobs()
                if j.get("jid") not in known and j.get("start-time", 0) >= started_ms - 1000
            ]
        for job_id in job_ids:
            if _quiet_state(cluster, job_id) not in _TERMINAL:
                cluster.cancel(job_id)
                _say(f"cancelled job {job_id} on the Flink cluster at {cluster.url}")
    except ClusterError as e:
        _say(f"could not cancel the job: {e}")
    _stop(process)


def _stop(process: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
