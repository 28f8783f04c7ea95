"""Progress bars (tqdm) for running jobs: ``ferroflow.progress`` / ``env.set_progress()``."""

from __future__ import annotations

import _thread
import itertools
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import ferroflow._progress as progress_module
from ferroflow.common import Configuration
from ferroflow.datastream import StreamExecutionEnvironment


def _env(progress=None) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment()
    if progress is not None:
        env.set_progress(progress)
    return env


def _final_line(err: str) -> str:
    return err.replace("\r", "\n").strip().splitlines()[-1]


def test_a_bounded_job_of_known_size_fills_the_bar_to_its_total(capsys):
    env = _env(True)
    env.from_collection(list(range(3000))).map(lambda x: x + 1).add_sink(lambda v: None)
    env.execute("counting")
    line = _final_line(capsys.readouterr().err)
    assert line.startswith("counting: 100%"), line
    assert "3.00k/3.00k" in line


def test_collecting_results_shows_the_bar_too(capsys):
    env = _env(True)
    results = list(env.from_collection(list(range(2000))).map(lambda x: x).execute_and_collect("collecting"))
    assert len(results) == 2000
    line = _final_line(capsys.readouterr().err)
    assert line.startswith("collecting: 100%"), line
    assert "2.00k/2.00k" in line


def test_a_source_of_unknown_size_shows_records_read_and_the_rate(capsys):
    env = _env(True)
    env.from_iterable(x for x in range(1500)).add_sink(lambda v: None)
    env.execute("unbounded")
    line = _final_line(capsys.readouterr().err)
    assert line.startswith("unbounded: 1.50k records"), line
    assert "records/s" in line
    assert "%" not in line


def test_auto_shows_no_bar_outside_notebooks_and_false_none_anywhere(capsys, monkeypatch):
    env = _env()
    env.from_collection(list(range(100))).add_sink(lambda v: None)
    env.execute("auto")
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(progress_module, "in_notebook", lambda: True)
    env.set_progress(False)
    env.from_collection(list(range(100))).add_sink(lambda v: None)
    env.execute("off")
    assert capsys.readouterr().err == ""
    env.set_progress("auto")
    env.from_collection(list(range(100))).add_sink(lambda v: None)
    env.execute("notebook")
    assert _final_line(capsys.readouterr().err).startswith("notebook: ")


def test_the_configuration_key_sets_it_and_bad_values_are_refused(capsys):
    conf = Configuration()
    conf.set_string("ferroflow.progress", "true")
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.from_collection(list(range(10))).add_sink(lambda v: None)
    env.execute("configured")
    assert _final_line(capsys.readouterr().err).startswith("configured: ")
    with pytest.raises(ValueError, match="ferroflow.progress must be 'auto', 'true' or 'false'.*'sometimes'"):
        _env("sometimes")
    bad = Configuration()
    bad.set_string("ferroflow.progress", "sometimes")
    with pytest.raises(ValueError, match="ferroflow.progress"):
        StreamExecutionEnvironment.get_execution_environment(bad)


def test_an_error_in_the_progress_display_stops_the_job_and_is_raised(monkeypatch):
    def broken(self, rows):
        raise RuntimeError("display broke")

    monkeypatch.setattr(progress_module.JobProgress, "update", broken)
    env = _env(True)
    env.from_collection(list(range(10))).add_sink(lambda v: None)
    with pytest.raises(RuntimeError, match="display broke"):
        env.execute()


TQDM_BLOCKED = """
    import builtins
    real_import = builtins.__import__
    def blocked(name, *args, **kwargs):
        if name == "tqdm" or name.startswith("tqdm."):
            raise ImportError("No module named 'tqdm'")
        return real_import(name, *args, **kwargs)
    builtins.__import__ = blocked

    import ferroflow._progress
    from ferroflow.datastream import StreamExecutionEnvironment
    ferroflow._progress.in_notebook = lambda: True
    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_collection([1, 2]).add_sink(lambda v: None)
    env.execute()
    print("auto: ran without a bar")
    env.set_progress(True)
    env.from_collection([1, 2]).add_sink(lambda v: None)
    try:
        env.execute()
    except ImportError as e:
        print("ImportError:", e)
"""


def test_without_tqdm_auto_shows_nothing_and_true_says_what_to_install():
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(TQDM_BLOCKED)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == [
        "auto: ran without a bar",
        (
            "ImportError: ferroflow.progress=true needs tqdm, which is not installed: "
            "pip install 'ferroflow[notebook]' (or pip install tqdm)"
        ),
    ]
    assert done.stderr == ""


def _interrupt_when(condition) -> threading.Thread:
    """Sends Ctrl-C to the main thread once ``condition()`` holds."""

    def watch() -> None:
        while not condition():
            time.sleep(0.01)
        _thread.interrupt_main()

    thread = threading.Thread(target=watch)
    thread.start()
    return thread


@pytest.fixture
def bar_drawn(monkeypatch) -> threading.Event:
    """Set once a progress bar was drawn with records read."""
    drawn = threading.Event()
    update = progress_module.JobProgress.update

    def update_and_tell(self, rows):
        update(self, rows)
        if self.bar is not None and self.bar.n > 0:
            drawn.set()

    monkeypatch.setattr(progress_module.JobProgress, "update", update_and_tell)
    return drawn


def test_ctrl_c_stops_execute_with_a_bar(capsys, bar_drawn):
    env = _env(True)
    env.from_iterable(itertools.count()).rebalance().map(lambda x: x + 1).add_sink(lambda v: None)
    watcher = _interrupt_when(bar_drawn.is_set)
    with pytest.raises(KeyboardInterrupt):
        env.execute("endless")
    watcher.join()
    err = capsys.readouterr().err
    assert err.startswith("\rendless: ") and err.endswith("\n")  # the bar was drawn, then closed


def test_ctrl_c_stops_collect_with_a_bar(capsys, bar_drawn):
    env = _env(True)
    received = 0
    watcher = _interrupt_when(bar_drawn.is_set)
    with pytest.raises(KeyboardInterrupt), env.from_iterable(itertools.count()).execute_and_collect() as results:
        for _ in results:
            received += 1
    watcher.join()
    assert received > 0
    err = capsys.readouterr().err
    assert err.startswith("\rFlink Streaming Job: ") and err.endswith("\n")
