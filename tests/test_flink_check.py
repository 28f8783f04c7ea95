"""``ferroflow check`` and what ``ferroflow run --target remote`` says before it submits anything:
ferroflow-only features with their lines, a bad address, an unreachable cluster, a cluster of
an unsupported Flink version, PyFlink or Java missing. No Flink cluster is needed; each case
runs in a child process."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ferroflow.flink.check import check_source

PROGRAM_HEAD = """\
from ferroflow.datastream import StreamExecutionEnvironment
env = StreamExecutionEnvironment.get_execution_environment()
"""


def ferroflow(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ferroflow", *args], cwd=cwd, env=env, check=False, capture_output=True,
        text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def write(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "prog.py"
    path.write_text(textwrap.dedent(source))
    return path


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- ferroflow check ------------------------------------------------------------------------------


def test_check_reports_each_feature_with_its_line_and_whether_it_is_translated(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PROGRAM_HEAD
        + """\
from ferroflow.common import WatermarkStrategy
from ferroflow.testing import TestHarness
ds = env.from_iterable([1, 2, 3])
strategy = WatermarkStrategy.for_monotonous_timestamps().with_per_record_emission()
client = env.execute_async()
print(client.metrics())
""",
    )
    result = ferroflow("check", str(path), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{path}:4: the test harness ferroflow.testing: does not run on Flink: ")
    assert lines[1].startswith(f"{path}:5: env.from_iterable: translated: becomes from_collection")
    assert lines[2].startswith(f"{path}:6: per-record watermarks (with_per_record_emission): does not run on Flink: ")
    assert "periodically" in lines[2]
    assert lines[3].startswith(f"{path}:8: JobClient.metrics(): does not run on Flink: ")
    assert lines[4] == f"{path}: 3 use(s) of ferroflow-only features would not run on a Flink cluster"


def test_check_passes_a_program_that_runs_on_flink(tmp_path: Path) -> None:
    path = write(tmp_path, PROGRAM_HEAD + "env.from_collection([1, 2]).map(lambda x: x + 1).print()\nenv.execute()\n")
    result = ferroflow("check", str(path), cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == f"{path}: runs on a Flink cluster\n"


def test_check_finds_names_imported_from_ferroflow_only_modules_and_python_watermark_generators() -> None:
    findings = check_source(
        "from ferroflow.common import WatermarkGenerator\n"
        "from ferroflow.datastream import CheckpointedFunction, MapFunction\n"
        "from ferroflow import testing\n"
        "import ferroflow.datastream.checkpoints\n"
        "WatermarkStrategy.for_generator(lambda ctx: None)\n"
    )
    assert [(f.line, f.feature.what, f.runs) for f in findings] == [
        (1, "a watermark generator written in Python", False),
        (2, "CheckpointedFunction", False),
        (3, "the test harness ferroflow.testing", False),
        (4, "ferroflow's checkpoint inspection (latest_checkpoint, check_checkpoint)", False),
        (5, "WatermarkStrategy.for_generator", False),
    ]


def test_check_of_a_missing_file_or_bad_syntax(tmp_path: Path) -> None:
    result = ferroflow("check", str(tmp_path / "nope.py"), cwd=tmp_path)
    assert result.returncode == 2
    assert "can't open file" in result.stderr
    path = write(tmp_path, "def broken(:\n")
    result = ferroflow("check", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert f"{path}:1: " in result.stderr


# -- before submission ----------------------------------------------------------------------------


def test_ferroflow_only_feature_is_reported_and_nothing_is_submitted(tmp_path: Path) -> None:
    path = write(tmp_path, PROGRAM_HEAD + "from ferroflow.testing import TestHarness\n")
    # The address is never contacted: the program is checked first.
    result = ferroflow("run", "--target", "remote", "-m", f"127.0.0.1:{closed_port()}", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert f"{path}:3: the test harness ferroflow.testing: does not run on Flink" in result.stderr
    assert "nothing was submitted" in result.stderr
    assert "cannot reach" not in result.stderr


def test_run_remote_of_a_missing_file(tmp_path: Path) -> None:
    result = ferroflow("run", "--target", "remote", "-m", "127.0.0.1:1", "nope.py", cwd=tmp_path)
    assert result.returncode == 2
    assert f"ferroflow run: can't open file {str(tmp_path / 'nope.py')!r}: not a file" in result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--target", "remote", "prog.py"], "--target remote needs the cluster's REST address: -m HOST:PORT"),
        (["-m", "localhost:8081", "prog.py"], "-m HOST:PORT goes with --target remote"),
        (["--target", "yarn", "prog.py"], "--target is 'local' (ferroflow) or 'remote' (a Flink cluster), got 'yarn'"),
        (["-t", "remote", "-m", "localhost", "prog.py"], "-m expects the cluster's REST address as HOST:PORT"),
    ],
)
def test_bad_run_options(tmp_path: Path, args: list[str], message: str) -> None:
    write(tmp_path, PROGRAM_HEAD)
    result = ferroflow("run", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr


def _pyflink_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("pyflink") is not None


def _needs_pyflink() -> None:
    if not _pyflink_installed():
        if os.environ.get("CI"):
            pytest.fail("apache-flink is not installed; .ci/run installs it")
        pytest.skip("apache-flink is not installed (pip install 'ferroflow[flink]')")


def test_unreachable_cluster(tmp_path: Path) -> None:
    _needs_pyflink()
    path = write(tmp_path, PROGRAM_HEAD)
    port = closed_port()
    result = ferroflow("run", "--target", "remote", "-m", f"127.0.0.1:{port}", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert f"ferroflow run: cannot reach a Flink cluster at http://127.0.0.1:{port} (" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def old_flink_rest() -> Iterator[str]:
    """A server on loopback that answers /config as a Flink 1.20 JobManager does."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"flink-version": "1.20.1", "flink-revision": "x"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_cluster_of_an_unsupported_flink_version(tmp_path: Path, old_flink_rest: str) -> None:
    _needs_pyflink()
    path = write(tmp_path, PROGRAM_HEAD)
    result = ferroflow("run", "--target", "remote", "-m", old_flink_rest, str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert f"the cluster at http://{old_flink_rest} runs Flink 1.20.1; ferroflow submits programs to Flink 2.x" in result.stderr


def test_pyflink_not_installed(tmp_path: Path) -> None:
    path = write(tmp_path, PROGRAM_HEAD)
    # The child cannot find pyflink, whether or not it is installed here.
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class _NoPyFlink:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'pyflink' or name.startswith('pyflink.'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, _NoPyFlink())\n"
    )
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    result = ferroflow("run", "--target", "remote", "-m", f"127.0.0.1:{closed_port()}", str(path), cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "PyFlink (apache-flink) is not installed" in result.stderr
    assert "pip install 'ferroflow[flink]'" in result.stderr


def test_java_missing(tmp_path: Path) -> None:
    _needs_pyflink()
    path = write(tmp_path, PROGRAM_HEAD)
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(tmp_path)  # no java here
    result = ferroflow("run", "--target", "remote", "-m", f"127.0.0.1:{closed_port()}", str(path), cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "Java is not installed: Flink's client needs Java 11 or later" in result.stderr


def test_import_hook_gives_pyflink_classes_and_translates_from_iterable(tmp_path: Path) -> None:
    _needs_pyflink()
    code = textwrap.dedent(
        """
        import pyflink.datastream
        from ferroflow.flink import imports
        imports.install()
        from ferroflow.datastream import StreamExecutionEnvironment, ProcessAllWindowFunction
        from ferroflow.common import Types, TimestampAssigner
        import pyflink.common
        print(StreamExecutionEnvironment is pyflink.datastream.StreamExecutionEnvironment)
        print(Types is pyflink.common.Types, TimestampAssigner.__module__)
        print(hasattr(StreamExecutionEnvironment, "from_iterable"))
        try:
            from ferroflow.testing import TestHarness
        except ImportError as e:
            print(type(e).__name__, e)
        try:
            pyflink.common.WatermarkStrategy.for_monotonous_timestamps().with_per_record_emission()
        except NotImplementedError as e:
            print(type(e).__name__, e)
        imports.uninstall()
        import ferroflow.datastream
        print(ferroflow.datastream.StreamExecutionEnvironment.__module__)
        print(hasattr(pyflink.datastream.StreamExecutionEnvironment, "from_iterable"))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "True",
        "True pyflink.common.watermark_strategy",
        "True",
        ("FlinkNotSupportedError the test harness ferroflow.testing does not run on a Flink cluster: it drives "
        "ferroflow's engine in-process (manual time, collected output) (see docs/flink-cluster.md)"),
        ("FlinkMemberNotSupportedError per-record watermarks (with_per_record_emission) does not run on a Flink "
        "cluster: Flink emits watermarks periodically (pipeline.auto-watermark-interval) (see docs/flink-cluster.md)"),
        "ferroflow.datastream.stream_execution_environment",
        "False",
    ]
