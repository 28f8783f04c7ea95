"""A job always stops: user code blocked in a call (a queue, a sleep) cannot keep ``execute()``
from returning after a failure or Ctrl-C. Each case runs in a child process, so that a hang
fails the test (by the child's timeout) instead of hanging the suite."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# A hang shows as this timeout; every case ends long before it.
CHILD_TIMEOUT = 120

PRELUDE = """
import os, queue, signal, sys, threading, time, warnings
from ferroflow.common import Configuration
from ferroflow.datastream import StreamExecutionEnvironment

warnings.simplefilter("always")
P = int(sys.argv[1])
TIMEOUT = sys.argv[2]
blocker = queue.Queue()
# Set once a user function is blocked: failures wait for it, so that they come second.
entered = threading.Event()

def new_env():
    conf = Configuration()
    conf.set_string("task.cancellation.timeout", TIMEOUT)
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(P)
    return env

def blocked(x):
    entered.set()
    blocker.get()
    return x

def fail_at_5(x):
    # Fails once another function is blocked.
    if x == 5:
        entered.wait(30)
        raise ValueError("boom at 5")
    return x

def interrupt_when_blocked(*delays):
    # Ctrl-C once a user function is blocked (then again after each further delay).
    def send():
        entered.wait(60)
        for delay in delays:
            time.sleep(delay)
            os.kill(os.getpid(), signal.SIGINT)
    threading.Thread(target=send, daemon=True).start()

def ferroflow_threads():
    names = []
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                names.append(f.read().strip())
        except OSError:
            pass
    return [n for n in names if n.startswith("ferroflow")]

def run(env):
    started = time.monotonic()
    try:
        env.execute()
        print("RESULT finished")
    except KeyboardInterrupt:
        print("RESULT KeyboardInterrupt")
    except Exception as e:
        print(f"RESULT {type(e).__name__}: {e}")
    print(f"ELAPSED {time.monotonic() - started:.1f}", flush=True)

def run_collect(stream):
    try:
        print("RESULT", len(list(stream.execute_and_collect())), "results")
    except KeyboardInterrupt:
        print("RESULT KeyboardInterrupt")
    except Exception as e:
        print(f"RESULT {type(e).__name__}: {e}")

def next_job_runs():
    env = StreamExecutionEnvironment.get_execution_environment()
    print("NEXT", env.from_collection([1, 2, 3]).map(lambda x: x * 10).execute_and_collect(limit=3), flush=True)

def unblock_and_check_threads():
    for _ in range(8):
        blocker.put(None)
    deadline = time.monotonic() + 10
    while ferroflow_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    print("THREADS", ferroflow_threads(), flush=True)
"""


def _run_child(tmp_path: Path, body: str, parallelism: int, timeout: str) -> str:
    script = tmp_path / "child.py"
    script.write_text(PRELUDE + textwrap.dedent(body))
    child = subprocess.Popen(
        [sys.executable, str(script), str(parallelism), timeout],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        out, _ = child.communicate(timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        child.kill()
        out, _ = child.communicate()
        pytest.fail(f"the child hung:\n{out}")
    assert child.returncode == 0, out
    return out


def _line(out: str, prefix: str) -> str:
    lines = [line for line in out.splitlines() if line.startswith(prefix)]
    assert lines, f"no {prefix!r} line in:\n{out}"
    return lines[0][len(prefix) :].strip()


# The source feeds two branches: one blocks on its first record in user code, the other fails.
FAILURE_PIPELINES = {
    "map": "numbers.map(lambda x: blocked(x) if x == 0 else x).add_sink(lambda x: None)",
    "sink": "numbers.add_sink(lambda x: blocked(x) if x == 0 else None)",
}


@pytest.mark.parametrize("parallelism", [1, 2])
@pytest.mark.parametrize("blocked_in", sorted(FAILURE_PIPELINES))
def test_a_failure_stops_a_job_blocked_in_user_code(tmp_path: Path, parallelism: int, blocked_in: str) -> None:
    out = _run_child(
        tmp_path,
        f"""
        env = new_env()
        numbers = env.from_collection(list(range(10)))
        {FAILURE_PIPELINES[blocked_in]}
        numbers.map(fail_at_5).add_sink(lambda x: None)
        run(env)
        next_job_runs()
        unblock_and_check_threads()
        """,
        parallelism,
        "1 s",
    )
    assert _line(out, "RESULT") == "ValueError: boom at 5"
    # Named with the blocked operator's task and the user's blocked call.
    assert "StuckTaskWarning" in out and "did not stop within the cancellation timeout of 1 s" in out
    assert {"map": "the task Map", "sink": "the task Sink"}[blocked_in] in out
    assert "blocker.get()" in out
    assert _line(out, "NEXT") == "[10, 20, 30]"
    assert _line(out, "THREADS") == "[]"


@pytest.mark.parametrize("parallelism", [1, 2])
def test_a_failure_stops_a_job_whose_source_blocks(tmp_path: Path, parallelism: int) -> None:
    # The generator waits on a queue after two records; the sink fails on the second. The
    # records before the blocking call are not held back, and the job ends at once.
    out = _run_child(
        tmp_path,
        """
        def gen():
            yield 1
            yield 2
            while True:
                yield blocker.get()
        def sink(x):
            if x == 2:
                raise ValueError("boom on 2")
        env = new_env()
        env.from_iterable(gen()).rebalance().add_sink(sink)
        run(env)
        next_job_runs()
        unblock_and_check_threads()
        """,
        parallelism,
        "60 s",
    )
    assert _line(out, "RESULT") == "ValueError: boom on 2"
    assert float(_line(out, "ELAPSED")) < 30  # far below the 60 s timeout: nothing waited for it
    assert "StuckTaskWarning" not in out
    assert _line(out, "NEXT") == "[10, 20, 30]"
    assert _line(out, "THREADS") == "[]"


CTRL_C_PIPELINES = {
    # A map blocks on its first record.
    "map": "env.from_iterable(itertools.count()).rebalance().map(blocked).add_sink(lambda x: None)",
    # A sink blocks on its first record.
    "sink": "env.from_iterable(itertools.count()).rebalance().add_sink(blocked)",
    # The generator blocks after its first record.
    "source": "env.from_iterable(gen()).rebalance().add_sink(lambda x: None)",
}


@pytest.mark.parametrize("parallelism", [1, 2])
@pytest.mark.parametrize("blocked_in", sorted(CTRL_C_PIPELINES))
def test_ctrl_c_stops_a_job_blocked_in_user_code(tmp_path: Path, parallelism: int, blocked_in: str) -> None:
    out = _run_child(
        tmp_path,
        f"""
        import itertools
        def gen():
            yield 1
            entered.set()
            while True:
                yield blocker.get()
        env = new_env()
        {CTRL_C_PIPELINES[blocked_in]}
        interrupt_when_blocked(0.5)
        run(env)
        next_job_runs()
        unblock_and_check_threads()
        """,
        parallelism,
        "1 s",
    )
    assert _line(out, "RESULT") == "KeyboardInterrupt"
    if blocked_in == "source":
        # The iterator is read on a thread of its own: the job stops without waiting for it.
        assert "StuckTaskWarning" not in out
    else:
        assert "StuckTaskWarning" in out and "blocker.get()" in out
    assert _line(out, "NEXT") == "[10, 20, 30]"
    assert _line(out, "THREADS") == "[]"


def test_a_second_ctrl_c_skips_the_cancellation_timeout(tmp_path: Path) -> None:
    out = _run_child(
        tmp_path,
        """
        import itertools
        env = new_env()
        env.from_iterable(itertools.count()).map(blocked).add_sink(lambda x: None)
        interrupt_when_blocked(0.5, 1.5)
        run(env)
        unblock_and_check_threads()
        """,
        1,
        "10 min",
    )
    assert _line(out, "RESULT") == "KeyboardInterrupt"
    assert "before it was cut short (a second Ctrl-C)" in out
    assert _line(out, "THREADS") == "[]"


def test_a_zero_cancellation_timeout_waits_for_the_blocked_call(tmp_path: Path) -> None:
    # Flink's 0: no timeout. The blocked call returns after a while, and the job then ends
    # with its failure and no warning.
    out = _run_child(
        tmp_path,
        """
        def fail(x):
            if x == 1:
                time.sleep(0.5)
                raise ValueError("boom")
            return x
        env = new_env()
        env.from_collection([0, 1]).rebalance().map(
            lambda x: time.sleep(3) or x if x == 0 else fail(x)
        ).add_sink(lambda x: None)
        run(env)
        """,
        2,
        "0",
    )
    assert _line(out, "RESULT") == "ValueError: boom"
    assert "StuckTaskWarning" not in out


def test_cancellation_timeout_is_checked_where_it_is_set() -> None:
    from ferroflow.common import Configuration
    from ferroflow.datastream import StreamExecutionEnvironment

    conf = Configuration()
    conf.set_string("task.cancellation.timeout", "soon")
    with pytest.raises(ValueError, match="task.cancellation.timeout"):
        StreamExecutionEnvironment.get_execution_environment(conf)
    conf.set_string("task.cancellation.timeout", "-1 s")
    with pytest.raises(ValueError, match="at least 0"):
        StreamExecutionEnvironment.get_execution_environment(conf)


def test_a_second_ctrl_c_skips_the_wait_of_a_collecting_iterator(tmp_path: Path) -> None:
    out = _run_child(
        tmp_path,
        """
        import itertools
        env = new_env()
        stream = env.from_iterable(itertools.count()).rebalance().map(blocked)
        interrupt_when_blocked(0.5, 1.5)
        run_collect(stream)
        unblock_and_check_threads()
        """,
        2,
        "10 min",
    )
    assert _line(out, "RESULT") == "KeyboardInterrupt"
    assert "before it was cut short (a second Ctrl-C)" in out
    assert _line(out, "THREADS") == "[]"


@pytest.mark.parametrize("collect", [False, True])
def test_warnings_turned_into_errors_do_not_hide_the_failure(tmp_path: Path, collect: bool) -> None:
    out = _run_child(
        tmp_path,
        f"""
        from ferroflow import StuckTaskWarning
        warnings.simplefilter("error", StuckTaskWarning)
        env = new_env()
        numbers = env.from_collection(list(range(10)))
        numbers.map(lambda x: blocked(x) if x == 0 else x).add_sink(lambda x: None)
        failing = numbers.map(fail_at_5)
        if {collect}:
            run_collect(failing)
        else:
            failing.add_sink(lambda x: None)
            run(env)
        unblock_and_check_threads()
        """,
        2,
        "1 s",
    )
    assert _line(out, "RESULT") == "ValueError: boom at 5"
    assert _line(out, "THREADS") == "[]"
