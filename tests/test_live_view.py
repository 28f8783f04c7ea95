"""A ``JobClient`` in Jupyter: its HTML view, and the display that updates it while the job runs."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
import xml.etree.ElementTree as ET

import pytest

from ferroflow.datastream import StreamExecutionEnvironment

SVG = "{http://www.w3.org/2000/svg}"


def _finished_client():
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.from_collection(list(range(1000))).map(lambda x: x * 2).key_by(lambda x: x % 7).reduce(
        lambda a, b: a + b
    ).add_sink(lambda v: None)
    client = env.execute_async("view of a finished job")
    client.get_job_execution_result().result()
    return client


def test_the_html_of_a_finished_job_holds_its_status_graph_and_metrics():
    client = _finished_client()
    html = client._repr_html_()
    assert "view of a finished job" in html
    assert client.get_job_id() in html
    assert "FINISHED" in html
    # The graph, with every task of the plan.
    svg = html[html.index("<svg") : html.index("</svg>") + len("</svg>")]
    ET.fromstring(svg)
    for task in {row["task"] for row in client.metrics()}:
        assert f"<title>{task.replace('>', '&gt;')}</title>" in svg
    # The table: one row per task, subtasks added up.
    table = html[html.index("<table") :]
    assert table.count("<tr>") == 1 + len({row["task"] for row in client.metrics()})
    source_in = sum(r["numRecordsIn"] for r in client.metrics() if r["task"].startswith("Source"))
    assert source_in == 1000
    assert "<td style='padding:2px 8px'>1,000</td>" in table
    assert "end of input" in table  # the watermark a bounded input ends with


def test_metrics_as_dataframes():
    client = _finished_client()
    frame = client.metrics_frame()
    assert list(frame.columns[:3]) == ["task", "subtask", "parallelism"]
    assert len(frame) == len(client.metrics())
    assert frame[frame["task"].str.startswith("Source")]["numRecordsIn"].sum() == 1000
    history = client.metrics_history()
    assert str(history["time"].dtype).startswith("datetime64")
    assert len(history) == len(client._engine_client.metrics_history()) >= len(frame)
    assert "operators" not in history.columns
    last = history[history["time"] == history["time"].max()]
    assert last[last["task"].str.startswith("Source")]["numRecordsIn"].sum() == 1000


LIVE_CHILD = r"""
import json, threading, time
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from IPython.display import display
from traitlets.config import Config

from ferroflow.datastream import StreamExecutionEnvironment

class Capture(DisplayPublisher):
    def __init__(self):
        super().__init__()
        self.messages = []

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
        self.messages.append({"html": data.get("text/html", ""), "id": (transient or {}).get("display_id"),
                              "update": update, "thread": threading.current_thread().name})

config = Config()
config.HistoryManager.enabled = False
shell = InteractiveShell.instance(config=config)
shell.display_pub = capture = Capture()

gate = threading.Event()
def hold(x):
    if x == 500:
        gate.wait(60)
    return x

env = StreamExecutionEnvironment.get_execution_environment()
env.from_collection(list(range(1000))).map(hold).add_sink(lambda v: None)
client = env.execute_async("live")
display(client)
live = client._live
deadline = time.monotonic() + 60
while live.updates < 3 and time.monotonic() < deadline:
    time.sleep(0.05)
running = live.updates
gate.set()
live.thread.join(60)
finished = {"messages": capture.messages, "updates_while_held": running,
            "alive": live.thread.is_alive(), "updates": live.updates}

# A job cancelled while its view is shown.
import itertools
capture.messages = []
env.from_iterable(itertools.count()).add_sink(lambda v: None)
client = env.execute_async("endless")
display(client)
live = client._live
deadline = time.monotonic() + 60
while live.updates < 1 and time.monotonic() < deadline:
    time.sleep(0.05)
client.cancel().result()
live.thread.join(60)
cancelled = {"last": capture.messages[-1]["html"], "alive": live.thread.is_alive()}
print(json.dumps({"finished": finished, "cancelled": cancelled}))
"""


@pytest.fixture(scope="module")
def live_run() -> dict:
    """What a child process's display publisher received while two jobs were shown: one that
    finished, one that was cancelled."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(LIVE_CHILD)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_live_display_updates_from_a_thread_until_the_job_ends(live_run):
    out = live_run["finished"]
    first, *updates = out["messages"]
    # Shown once under a display id, then updated in place by the view's thread.
    assert first["id"] and not first["update"] and "RUNNING" in first["html"]
    assert out["updates_while_held"] >= 3
    assert len(updates) == out["updates"]
    assert all(u["update"] and u["id"] == first["id"] and u["thread"] == "ferroflow live view" for u in updates)
    assert any("RUNNING" in u["html"] for u in updates[:-1])
    # Rates between samples drawn as sparklines.
    assert "ff-sparkline" in updates[-1]["html"]
    # The thread ended with the job, after a last update that shows the end.
    assert not out["alive"]
    assert "FINISHED" in updates[-1]["html"]
    assert "1,000" in updates[-1]["html"]


def test_a_cancelled_job_ends_its_live_display(live_run):
    out = live_run["cancelled"]
    assert not out["alive"]
    assert "CANCELED" in out["last"]


def test_the_history_frame_flattens_operator_and_user_metrics_of_a_real_job():
    from ferroflow.datastream import MapFunction

    class CountOdd(MapFunction):
        def open(self, runtime_context):
            self.odd = runtime_context.get_metrics_group().counter("odd")

        def map(self, value):
            if value % 2:
                self.odd.inc()
            return value

    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_collection(list(range(100))).map(CountOdd()).add_sink(lambda v: None)
    client = env.execute_async()
    client.get_job_execution_result().result()
    history = client.metrics_history()
    user = [c for c in history.columns if c.startswith("user.")]
    assert len(user) == 1 and user[0].endswith("odd")
    assert history[user[0]].iloc[-1] == 50
    operators = [c for c in history.columns if c.endswith(".numRecordsOut") and c != "numRecordsOut"]
    assert operators, list(history.columns)
    assert "user" not in history.columns and "operators" not in history.columns
    # And the view lists the user metric.
    assert "odd=50" in client._repr_html_()


def test_the_graph_of_a_running_job_is_coloured_by_busy_and_backpressured_time():
    gate = threading.Event()
    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_collection(list(range(100_000))).map(lambda x: x).add_sink(lambda v: gate.wait(60)).disable_chaining()
    client = env.execute_async("held")
    try:
        # The sink is held in user code (busy); the source waits on its full channel.
        deadline = time.monotonic() + 60
        while True:
            rows = {r["task"].split(" ")[0]: r for r in client.metrics()}
            if (rows.get("Sink:", {}).get("busyTimeMsPerSecond") or 0) > 900 and (
                rows.get("Source:", {}).get("backPressuredTimeMsPerSecond") or 0
            ) > 900:
                break
            assert time.monotonic() < deadline, rows
            time.sleep(0.05)
        html = client._repr_html_()
    finally:
        gate.set()
        client.cancel().result()
    svg = ET.fromstring(html[html.index("<svg") : html.index("</svg>") + len("</svg>")])
    boxes = {g.find(f"{SVG}title").text.split(" ")[0]: g for g in svg.iter(f"{SVG}g") if g.get("class") == "ff-task"}
    sink_fill = boxes["Sink:"].find(f"{SVG}rect").get("fill")
    source_fill = boxes["Source:"].find(f"{SVG}rect").get("fill")
    assert int(sink_fill[1:3], 16) >= 0xF0 and int(sink_fill[3:5], 16) < 0x90, sink_fill  # red: busy
    assert int(source_fill[1:3], 16) < 0xD0, source_fill  # blue: not busy
    source_texts = [t.text for t in boxes["Source:"].iter(f"{SVG}text")]
    assert any(t and "· bp 9" in t or t and "· bp 100%" in t for t in source_texts), source_texts
    bars = [r for r in boxes["Source:"].iter(f"{SVG}rect") if r.get("fill") == "#222"]
    assert len(bars) == 1  # the backpressure bar
