"""A standalone Flink cluster (one JobManager, one TaskManager) started from the apache-flink
package's own scripts, for the tests of ``ferroflow run --target remote``: its configuration,
logs and pid files live in a temporary directory, and it listens on free loopback ports."""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

STARTUP_SECONDS = 120


def pyflink_home() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("pyflink")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FlinkTestCluster:
    def __init__(self, home: Path, directory: Path) -> None:
        self.home = home
        self.directory = directory
        self.conf = directory / "conf"
        self.log = directory / "log"
        self.pid = directory / "pid"
        self.rest_port = free_port()
        self.address = f"localhost:{self.rest_port}"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(FLINK_CONF_DIR=str(self.conf), FLINK_LOG_DIR=str(self.log), FLINK_PID_DIR=str(self.pid))
        return env

    def _write_conf(self) -> None:
        for d in (self.conf, self.log, self.pid):
            d.mkdir(parents=True, exist_ok=True)
        for name in glob.glob(str(self.home / "conf" / "log4j*.properties")):
            shutil.copy(name, self.conf)
        java_opts = ""
        for line in (self.home / "conf" / "config.yaml").read_text().splitlines():
            if line.strip().startswith("all:"):
                java_opts = line.split("all:", 1)[1].strip()
                break
        settings = {
            "env.java.opts.all": java_opts,
            "jobmanager.rpc.address": "localhost",
            "jobmanager.rpc.port": free_port(),
            "jobmanager.bind-host": "localhost",
            "jobmanager.memory.process.size": "768m",
            "taskmanager.bind-host": "localhost",
            "taskmanager.host": "localhost",
            "taskmanager.rpc.port": free_port(),
            "taskmanager.memory.process.size": "1024m",
            "taskmanager.numberOfTaskSlots": 2,
            "parallelism.default": 1,
            "rest.address": "localhost",
            "rest.bind-address": "localhost",
            "rest.port": self.rest_port,
            "blob.server.port": free_port(),
        }
        self.conf.joinpath("config.yaml").write_text("".join(f"{k}: {v}\n" for k, v in settings.items()))

    def _script(self, name: str, action: str) -> None:
        subprocess.run(
            ["bash", str(self.home / "bin" / name), action], env=self._env(), check=True,
            capture_output=True, timeout=120, stdin=subprocess.DEVNULL,
        )  # fmt: skip

    def overview(self) -> dict:
        with urllib.request.urlopen(f"http://{self.address}/overview", timeout=5) as response:
            return json.loads(response.read())

    def start(self) -> None:
        self._write_conf()
        self._script("jobmanager.sh", "start")
        self._script("taskmanager.sh", "start")
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            try:
                if self.overview().get("slots-available", 0) > 0:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"the Flink test cluster did not start; its logs are in {self.log}")

    def stop(self) -> None:
        for name in ("taskmanager.sh", "jobmanager.sh"):
            try:
                self._script(name, "stop")
            except (subprocess.SubprocessError, OSError):
                pass
        for pid_file in self.pid.glob("*.pid"):
            for pid in pid_file.read_text().split():
                try:
                    os.kill(int(pid), 9)
                except (ProcessLookupError, ValueError):
                    pass

    def taskmanager_out(self) -> str:
        """What the TaskManager's tasks printed so far (its .out file)."""
        return "".join(Path(p).read_text() for p in sorted(glob.glob(str(self.log / "*taskexecutor*.out"))))
