"""A running job's dashboard and REST API (``rest.port``): Flink's paths and shapes, read with
urllib while the job runs."""

from __future__ import annotations

import gc
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from ferroflow.common import Configuration
from ferroflow.datastream import StreamExecutionEnvironment


def _env(port: int | str = 0, parallelism: int = 1) -> StreamExecutionEnvironment:
    conf = Configuration()
    conf.set_string("rest.port", str(port))
    # Small batches: counts move in small steps, and a held sink soon holds back its inputs.
    conf.set_string("python.fn-execution.bundle.size", "10")
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(parallelism)
    return env


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        body = response.read().decode()
        if response.headers.get_content_type() == "application/json":
            return json.loads(body)
        return body


def _wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.02)


class _HeldJob:
    """A job whose sink holds at record `hold` until released."""

    def __init__(self, env: StreamExecutionEnvironment, name: str = "held job", hold: int = 300, n: int = 1000):
        # The sink refers to these, not to self: the job's client goes once the test lets go.
        gate = self.gate = threading.Event()
        seen: list[int] = []
        self.seen = seen

        def sink(value: int) -> None:
            if value == hold:
                gate.wait(60)
            seen.append(value)

        (
            env.from_collection(list(range(n)))
            .map(lambda x: x * 2)
            .name("double")
            .key_by(lambda x: x % 3)
            .map(lambda x: x // 2)
            .name("halve")
            .set_parallelism(2)
            .add_sink(sink)
            .name("collect")
            .set_parallelism(2)
        )
        self.client = env.execute_async(name)
        self.url = self.client.get_web_url()

    def release(self) -> None:
        self.gate.set()
        self.client.get_job_execution_result().result()


def test_a_running_job_is_listed_with_its_plan_and_its_counts_rise() -> None:
    job = _HeldJob(_env())
    try:
        url = job.url
        assert url is not None and url.startswith("http://127.0.0.1:") and url.endswith("/")
        job_id = job.client.get_job_id()
        assert _get(url + "jobs") == {"jobs": [{"id": job_id, "status": "RUNNING"}]}
        (overview,) = [j for j in _get(url + "jobs/overview")["jobs"] if j["jid"] == job_id]
        assert overview["name"] == "held job" and overview["state"] == "RUNNING"
        assert overview["end-time"] == -1
        assert _get(url + "overview")["jobs-running"] == 1

        details = _get(url + f"jobs/{job_id}")
        assert details["jid"] == job_id and details["state"] == "RUNNING"
        names = [v["name"] for v in details["vertices"]]
        assert names == ["Source: Collection Source -> double -> KeyBy", "halve -> collect"], names
        assert details["vertices"][1]["operators"] == ["halve", "collect"]
        (edge,) = details["plan"]["nodes"][1]["inputs"]
        assert edge["id"] == details["vertices"][0]["id"] and edge["ship_strategy"] == "HASH"

        sink_vertex = details["vertices"][1]["id"]
        metrics_url = url + f"jobs/{job_id}/vertices/{sink_vertex}/metrics"
        assert {"id": "1.numRecordsIn"} in _get(metrics_url)
        assert [int(m["value"]) >= 0 for m in _get(metrics_url + "?get=0.numRecordsIn,1.numRecordsIn")] == [True] * 2
        aggregated_url = url + f"jobs/{job_id}/vertices/{sink_vertex}/subtasks/metrics"

        def records_in() -> int:
            (value,) = _get(aggregated_url + "?get=numRecordsIn&agg=sum")
            return int(value["sum"])

        _wait_for(lambda: records_in() >= 300)
        before = records_in()
        job.gate.set()
        _wait_for(lambda: records_in() == 1000)
        assert before < 1000
        assert _get(aggregated_url + "?get=numRecordsIn&agg=sum") == [{"id": "numRecordsIn", "sum": 1000.0}]
        vertex = _get(url + f"jobs/{job_id}/vertices/{sink_vertex}")
        assert vertex["parallelism"] == 2
        assert sum(s["metrics"]["read-records"] for s in vertex["subtasks"]) == 1000

        text = _get(url + "metrics")
        assert "# TYPE flink_taskmanager_job_task_numRecordsIn gauge" in text
        assert f'job_id="{job_id}",job_name="held job"' in text
        assert 'task_name="halve -> collect",subtask_index="1"' in text
    finally:
        job.release()
    ended = _get(job.url + f"jobs/{job.client.get_job_id()}")
    assert ended["state"] == "FINISHED" and ended["end-time"] >= ended["start-time"]
    assert _get(job.url + "overview")["jobs-finished"] == 1
    assert sorted(job.seen) == sorted(x * 2 // 2 for x in range(1000))


def test_unknown_jobs_and_vertices_are_404_with_flinks_errors_body() -> None:
    job = _HeldJob(_env(), hold=-1, n=10)
    try:
        job_id = job.client.get_job_id()
        for path, message in [
            ("jobs/00000000000000000000000000000000", "Job 00000000000000000000000000000000 not found"),
            (f"jobs/{job_id}/vertices/nope", f"Vertex nope not found in job {job_id}"),
            ("no/such/path", "Not found: /no/such/path"),
        ]:
            with pytest.raises(urllib.error.HTTPError) as raised:
                _get(job.url + path)
            assert raised.value.code == 404
            assert json.loads(raised.value.read()) == {"errors": [message]}
            del raised  # its traceback refers to this frame, which holds the job
    finally:
        job.release()


def test_checkpoint_statistics_are_served(tmp_path) -> None:
    env = _env()
    env.enable_checkpointing(50)
    env.get_checkpoint_config().set_checkpoint_storage_dir(str(tmp_path))
    job = _HeldJob(env, hold=-1, n=400)
    job.release()
    # The final checkpoint, taken once every task drained, at least.
    stats = _get(job.url + f"jobs/{job.client.get_job_id()}/checkpoints")
    assert stats["counts"]["completed"] >= 1
    latest = stats["latest"]["completed"]
    assert latest["status"] == "COMPLETED" and latest["id"] == stats["history"][0]["id"]
    assert [c["id"] for c in job.client.get_checkpoints()][::-1][: len(stats["history"])] == [
        h["id"] for h in stats["history"]
    ]


def test_a_port_in_use_is_refused_before_the_job_starts_naming_the_port() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    ran: list[int] = []
    try:
        env = _env(port)
        env.from_collection([1, 2, 3]).add_sink(ran.append)
        with pytest.raises(OSError, match=f"rest.port {port} is already in use"):
            env.execute("clash")
        with pytest.raises(OSError, match=f"rest.port {port} is already in use"):
            env2 = _env(port)
            env2.from_collection([1, 2, 3]).add_sink(ran.append)
            env2.execute_async("clash")
    finally:
        taken.close()
    assert ran == []


def test_a_bad_port_is_refused_where_it_is_set() -> None:
    with pytest.raises(ValueError, match="'rest.port' must be a port number"):
        _env("eighty")
    with pytest.raises(ValueError, match="'rest.port' must be a port number"):
        _env(70000)


def test_execute_prints_the_url_and_jobs_of_one_process_share_the_server(capsys) -> None:
    first = _HeldJob(_env(), name="first")
    try:
        second = _HeldJob(_env(), name="second", hold=-1, n=10)
        assert second.url == first.url
        second.release()
        ids = {j["id"]: j["status"] for j in _get(first.url + "jobs")["jobs"]}
        assert ids == {first.client.get_job_id(): "RUNNING", second.client.get_job_id(): "FINISHED"}
    finally:
        first.release()
    out = capsys.readouterr().out
    assert f"ferroflow: the dashboard of job 'first' is at {first.url}" in out
    # The second job joined the server the first one started: nothing printed for it.
    assert "job 'second'" not in out


def test_the_server_stops_once_no_job_needs_it() -> None:
    env = _env()
    env.from_collection([1, 2, 3]).add_sink(lambda x: None)
    client = env.execute_async("short")
    url = client.get_web_url()
    client.get_job_execution_result().result()
    assert _get(url + "jobs")["jobs"][0]["status"] == "FINISHED"
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    del client
    gc.collect()
    _wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", port)) != 0)


def test_clients_that_hang_up_or_stall_never_block_the_job() -> None:
    job = _HeldJob(_env(parallelism=2), n=3000)
    host, port = "127.0.0.1", int(job.url.rstrip("/").rsplit(":", 1)[1])
    stalled = []
    try:
        # A client that connects and says nothing, one that sends half a request, and many
        # that hang up in the middle of a response.
        for partial in (b"", b"GET /jobs HTTP/1.1\r\nHost: x\r\n"):
            s = socket.create_connection((host, port))
            s.sendall(partial)
            stalled.append(s)
        for path in ["/", "/metrics", f"/jobs/{job.client.get_job_id()}"] * 20:
            with socket.create_connection((host, port)) as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                s.recv(16)
        job.gate.set()
        assert job.client.wait(120)
        # The server still answers others.
        assert _get(job.url + "jobs")["jobs"][0]["status"] == "FINISHED"
    finally:
        for s in stalled:
            s.close()
        job.release()
    assert len(job.seen) == 3000
