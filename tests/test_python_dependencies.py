"""PyFlink's dependency calls, done locally: ``add_python_file`` and ``add_python_archive`` make
code importable by user functions; requirements, executable, jars and classpaths are accepted.
Each case runs in a child process, as they change ``sys.path``."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path


def run(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(source))
    # Run from another directory, so that nothing is importable by accident.
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, str(script)], cwd=work, check=False, capture_output=True, text=True, timeout=120)


def test_python_file_package_and_zip_are_importable_in_functions(tmp_path: Path) -> None:
    deps = tmp_path / "deps"
    (deps / "pkg_dir").mkdir(parents=True)
    (deps / "single_mod.py").write_text("def f(x):\n    return x + 1\n")
    (deps / "pkg_dir" / "__init__.py").write_text("def g(x):\n    return x * 10\n")
    with zipfile.ZipFile(deps / "zipped.zip", "w") as z:
        z.writestr("zipped_mod.py", "def h(x):\n    return -x\n")
    result = run(
        tmp_path,
        f"""
        from ferroflow.datastream import StreamExecutionEnvironment

        env = StreamExecutionEnvironment.get_execution_environment()
        env.add_python_file({str(deps / "single_mod.py")!r})
        env.add_python_file({str(deps / "pkg_dir")!r})
        env.add_python_file({str(deps / "zipped.zip")!r})

        def use(x):
            import pkg_dir, single_mod, zipped_mod
            return zipped_mod.h(pkg_dir.g(single_mod.f(x)))

        print(list(env.from_collection([1, 2]).map(use).execute_and_collect()))
        """,
    )
    assert result.stdout == "[-20, -30]\n", result.stderr


def test_python_archive_is_extracted_and_importable(tmp_path: Path) -> None:
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("archived_mod.py", "VALUE = 'from the archive'\n")
    result = run(
        tmp_path,
        f"""
        import os
        from ferroflow.datastream import StreamExecutionEnvironment

        env = StreamExecutionEnvironment.get_execution_environment()
        env.add_python_archive({str(archive)!r}, "target")
        import archived_mod
        print(archived_mod.VALUE, os.path.basename(os.path.dirname(archived_mod.__file__)))
        """,
    )
    assert result.stdout == "from the archive target\n", result.stderr


def test_other_dependency_calls_are_accepted(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("")
    result = run(
        tmp_path,
        f"""
        from ferroflow.common import Configuration
        from ferroflow.datastream import StreamExecutionEnvironment

        env = StreamExecutionEnvironment.get_execution_environment()
        env.set_python_requirements({str(requirements)!r})
        env.set_python_executable("python3")
        env.add_jars("file:///opt/a.jar", "file:///opt/b.jar")
        env.add_classpaths("file:///opt/c.jar")
        conf = Configuration()
        conf.set_string("pipeline.jars", "file:///opt/d.jar")
        env.configure(conf)
        print(env._dependencies.jars, env._dependencies.executable)
        """,
    )
    assert result.stdout == (
        "{'pipeline.jars': ['file:///opt/d.jar'], 'pipeline.classpaths': ['file:///opt/c.jar']} python3\n"
    ), result.stderr


def test_missing_files_are_reported(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        """
        from ferroflow.datastream import StreamExecutionEnvironment

        env = StreamExecutionEnvironment.get_execution_environment()
        for call in (env.add_python_file, env.add_python_archive, env.set_python_requirements):
            try:
                call("/no/such/file.zip")
            except FileNotFoundError as e:
                print(e)
        """,
    )
    assert result.stdout == (
        "add_python_file(): '/no/such/file.zip' does not exist\n"
        "add_python_archive(): '/no/such/file.zip' does not exist\n"
        "set_python_requirements(): '/no/such/file.zip' does not exist\n"
    ), result.stderr


def test_python_files_configuration_key(tmp_path: Path) -> None:
    module = tmp_path / "conf_mod.py"
    module.write_text("X = 7\n")
    result = run(
        tmp_path,
        f"""
        from ferroflow.common import Configuration
        from ferroflow.datastream import StreamExecutionEnvironment

        conf = Configuration()
        conf.set_string("python.files", {str(module)!r})
        StreamExecutionEnvironment.get_execution_environment(conf)
        import conf_mod
        print(conf_mod.X)
        """,
    )
    assert result.stdout == "7\n", result.stderr
