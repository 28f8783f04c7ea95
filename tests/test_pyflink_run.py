"""``ferroflow run``: a PyFlink program runs as its own ``__main__``, with its ``sys.argv``, exit
code and traceback, and ``import pyflink...`` gives ferroflow, or a clear error for what
ferroflow does not support yet. Each case runs in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def run_program(tmp_path: Path, source: str, *args: str, command: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(source))
    base = command if command is not None else [sys.executable, "-m", "ferroflow", "run"]
    return subprocess.run([*base, str(script), *args], cwd=tmp_path, check=False, capture_output=True, text=True, timeout=120)


# -- the command ----------------------------------------------------------------------------------


def test_script_gets_its_argv_and_runs_as_main(tmp_path: Path) -> None:
    result = run_program(
        tmp_path,
        """
        import sys
        print(__name__, sys.argv[1:], sys.argv[0].endswith("prog.py"))
        """,
        "a",
        "--flag",
        "x y",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "__main__ ['a', '--flag', 'x y'] True\n"


def test_script_directory_is_importable(tmp_path: Path) -> None:
    (tmp_path / "helper_module.py").write_text("VALUE = 42\n")
    result = run_program(tmp_path, "import helper_module\nprint(helper_module.VALUE)\n")
    assert result.stdout == "42\n", result.stderr


def test_console_script(tmp_path: Path) -> None:
    console = Path(sys.executable).parent / "ferroflow"
    if not console.exists():
        pytest.skip("the ferroflow console script is not installed in this environment")
    result = run_program(tmp_path, "import sys\nprint(sys.argv[1:])\n", "1", command=[str(console), "run"])
    assert result.returncode == 0, result.stderr
    assert result.stdout == "['1']\n"


def test_missing_script(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ferroflow", "run", str(tmp_path / "nope.py")], check=False, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "can't open file" in result.stderr and "nope.py" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [([], 2, "usage: ferroflow run"), (["--help"], 0, ""), (["launch", "x.py"], 2, "unknown command 'launch'")],
)
def test_usage(argv: list[str], code: int, message: str) -> None:
    result = subprocess.run([sys.executable, "-m", "ferroflow", *argv], check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_exception_in_script_shows_the_scripts_traceback(tmp_path: Path) -> None:
    result = run_program(
        tmp_path,
        """
        def fail():
            raise ValueError("boom")

        fail()
        """,
    )
    assert result.returncode == 1
    err = result.stderr
    assert err.startswith("Traceback (most recent call last):\n")
    assert 'prog.py", line 5, in <module>' in err and 'prog.py", line 3, in fail' in err
    assert err.rstrip().endswith("ValueError: boom")
    assert "runpy" not in err and "cli.py" not in err and "ferroflow" not in err


def test_exception_in_a_user_function_during_execute(tmp_path: Path) -> None:
    result = run_program(
        tmp_path,
        """
        from pyflink.datastream import StreamExecutionEnvironment

        env = StreamExecutionEnvironment.get_execution_environment()
        env.from_collection([1, 0]).map(lambda x: 1 // x).print()
        env.execute()
        """,
    )
    assert result.returncode == 1
    assert "ZeroDivisionError" in result.stderr
    assert 'prog.py", line 6, in <module>' in result.stderr


@pytest.mark.parametrize(("source", "code", "stderr"), [
    ("import sys\nsys.exit(3)\n", 3, ""),
    ("import sys\nsys.exit()\n", 0, ""),
    ("import sys\nsys.exit('bad input')\n", 1, "bad input\n"),
    ("raise SystemExit(0)\n", 0, ""),
])
def test_exit_codes(tmp_path: Path, source: str, code: int, stderr: str) -> None:
    result = run_program(tmp_path, source)
    assert result.returncode == code
    assert result.stderr == stderr


# -- the import hook ------------------------------------------------------------------------------


def test_pyflink_modules_are_ferroflows(tmp_path: Path) -> None:
    result = run_program(
        tmp_path,
        """
        import ferroflow.common.typeinfo
        import ferroflow.datastream
        import ferroflow.datastream.connectors.file_system
        import pyflink.datastream
        from pyflink.common import Types, WatermarkStrategy
        from pyflink.common.typeinfo import Types as T2
        from pyflink.common.watermark_strategy import TimestampAssigner
        from pyflink.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
        from pyflink.datastream.connectors.file_system import FileSink
        from pyflink.datastream.functions import KeyedProcessFunction
        from pyflink.datastream.state import ValueStateDescriptor

        assert StreamExecutionEnvironment is ferroflow.datastream.StreamExecutionEnvironment
        assert Types is T2 is ferroflow.common.typeinfo.Types
        assert FileSink is ferroflow.datastream.connectors.file_system.FileSink
        assert pyflink.datastream.KeyedProcessFunction is KeyedProcessFunction
        print("ok")
        """,
    )
    assert result.stdout == "ok\n", result.stderr


@pytest.mark.parametrize(
    ("statement", "missing"),
    [
        ("from pyflink.table import StreamTableEnvironment", "pyflink.table (the Table API and SQL)"),
        ("import pyflink.table.expressions", "pyflink.table (the Table API and SQL)"),
        ("from pyflink.datastream.connectors.kafka import KafkaSource", "pyflink.datastream.connectors.kafka (the Kafka connector)"),
        ("from pyflink.datastream import AsyncDataStream", "pyflink.datastream.AsyncDataStream (asynchronous I/O)"),
        ("from pyflink.common import SimpleStringSchema", "pyflink.common.SimpleStringSchema"),
        ("import pyflink.datastream as ds\nds.CustomStateBackend", "pyflink.datastream.CustomStateBackend"),
    ],
)
def test_what_ferroflow_lacks_fails_at_import_naming_it(tmp_path: Path, statement: str, missing: str) -> None:
    result = run_program(tmp_path, f"import sys\n{statement}\n")
    assert result.returncode == 1
    last = result.stderr.rstrip().splitlines()[-1]
    assert last == (
        f"ferroflow.pyflink_import.PyFlinkNotSupportedError: {missing} is not supported by ferroflow yet; "
        "ferroflow runs programs written with PyFlink's DataStream API (see docs/pyflink-compatibility.md)"
    )
    # The traceback ends at the program's import, not inside ferroflow.
    assert 'prog.py", line' in result.stderr
    assert "pyflink_import.py" not in result.stderr and "importlib" not in result.stderr


def test_not_supported_error_is_an_import_error(tmp_path: Path) -> None:
    result = run_program(
        tmp_path,
        """
        try:
            import pyflink.table
        except ImportError as e:
            print(type(e).__name__, isinstance(e, NotImplementedError))
        try:
            from pyflink.datastream.connectors import KafkaSource
        except ImportError as e:
            print(type(e).__name__)
        """,
    )
    assert result.stdout == "PyFlinkNotSupportedError True\nPyFlinkNotSupportedError\n", result.stderr


def test_names_pyflink_does_not_have_either_keep_pythons_errors(tmp_path: Path) -> None:
    result = run_program(
        tmp_path,
        """
        try:
            from pyflink.datastream import StreamExecutionEnviroment
        except ImportError as e:
            print(type(e).__name__, "not supported" in str(e))
        try:
            import pyflink.datastrem
        except ModuleNotFoundError as e:
            print(type(e).__name__, e.name)
        import pyflink.common
        try:
            pyflink.common.Tyeps
        except AttributeError as e:
            print(type(e).__name__, e)
        """,
    )
    assert result.stdout == (
        "ImportError False\n"
        "ModuleNotFoundError pyflink.datastrem\n"
        "AttributeError module 'pyflink.common' has no attribute 'Tyeps'\n"
    ), result.stderr


def test_missing_method_fails_where_it_is_called(tmp_path: Path) -> None:
    result = run_program(
        tmp_path,
        """
        from pyflink.datastream import StreamExecutionEnvironment

        env = StreamExecutionEnvironment.get_execution_environment()
        print(hasattr(env, "create_input"), getattr(env, "create_input", "absent"))
        env.create_input(None)
        """,
    )
    assert result.returncode == 1
    assert result.stdout == "False absent\n"
    assert result.stderr.rstrip().splitlines()[-1] == (
        "ferroflow.pyflink_import.PyFlinkMemberNotSupportedError: StreamExecutionEnvironment.create_input (it "
        "takes a Java InputFormat; use from_source with a FileSource, from_collection or from_iterable) is "
        "not supported by ferroflow yet; ferroflow runs programs written with PyFlink's DataStream API "
        "(see docs/pyflink-compatibility.md)"
    )
    assert 'prog.py", line 6, in <module>' in result.stderr


def test_hook_can_be_installed_and_removed(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        from ferroflow import pyflink_import
        from ferroflow.datastream import StreamExecutionEnvironment

        pyflink_import.install()
        import pyflink.datastream
        assert pyflink.datastream.StreamExecutionEnvironment is StreamExecutionEnvironment
        assert "create_input" in vars(StreamExecutionEnvironment)
        pyflink_import.uninstall()
        assert "create_input" not in vars(StreamExecutionEnvironment)
        assert not any(m == "pyflink" or m.startswith("pyflink.") for m in sys.modules
                       if type(sys.modules[m]).__name__ == "_PyFlinkAlias")
        print("ok")
        """
    )
    env = dict(os.environ)
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert result.stdout == "ok\n", result.stderr


def test_list_of_what_ferroflow_lacks_is_current() -> None:
    """``ferroflow._pyflink_api`` and docs/pyflink-compatibility.md match the API (checked where
    PyFlink is installed)."""
    import importlib.util

    if importlib.util.find_spec("pyflink") is None:
        pytest.skip("apache-flink is not installed in this environment")
    script = Path(__file__).parent.parent / "scripts" / "check_pyflink_api.py"
    result = subprocess.run([sys.executable, str(script), "--check"], check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
