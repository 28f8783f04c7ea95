"""``ferroflow run prog.py [args...]``: runs a PyFlink program on ferroflow, unmodified.

The script runs as ``__main__`` with ``sys.argv == ["prog.py", *args]`` and its directory first on
``sys.path``, as ``python prog.py args...`` would run it, with ``import pyflink...`` mapped to
ferroflow (:mod:`ferroflow.pyflink_import`). Its exit code and, when it raises, its traceback
are those of the script (the runner's own frames are left out).
"""

from __future__ import annotations

import os
import runpy
import sys
import traceback
from types import TracebackType
from typing import Callable

from ferroflow import pyflink_import

__all__ = ["main", "run_script"]

USAGE = """usage: ferroflow run SCRIPT [ARG ...]
       ferroflow run --target remote -m HOST:PORT SCRIPT [ARG ...]
       ferroflow check SCRIPT

run     Runs SCRIPT, a program written for PyFlink (or for ferroflow), on ferroflow: `import
        pyflink...` gives ferroflow's modules. SCRIPT sees ARGs in sys.argv[1:], as under
        `python SCRIPT ARG ...`.
        With --target remote (-t remote) and -m HOST:PORT (the cluster's REST address), runs a
        program written for ferroflow on a Flink 2.x cluster through PyFlink (pip install
        'ferroflow[flink]'): `import ferroflow...` gives PyFlink's modules.
check   Reports what of SCRIPT would and would not run on a Flink cluster, and why (no cluster
        needed).
"""

# Frames of these files are ferroflow's runner, not the user's program.
_FLINK_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flink")
_RUNNER_FILES = {
    os.path.abspath(__file__),
    os.path.abspath(pyflink_import.__file__),
    os.path.abspath(runpy.__file__),
    os.path.join(_FLINK_DIR, "imports.py"),
    os.path.join(_FLINK_DIR, "driver.py"),
}


def _is_runner_frame(filename: str) -> bool:
    return os.path.abspath(filename) in _RUNNER_FILES or filename.startswith(("<frozen importlib", "<frozen runpy"))


def _strip_runner_frames(te: traceback.TracebackException, seen: set[int]) -> None:
    if id(te) in seen:
        return
    seen.add(id(te))
    te.stack = traceback.StackSummary.from_list([f for f in te.stack if not _is_runner_frame(f.filename)])
    for chained in (te.__cause__, te.__context__):
        if chained is not None:
            _strip_runner_frames(chained, seen)


def _print_user_traceback(exc: BaseException, tb: TracebackType | None) -> None:
    te = traceback.TracebackException(type(exc), exc, tb)
    _strip_runner_frames(te, set())
    sys.stderr.write("".join(te.format()))
    sys.stderr.flush()


def run_script(path: str, args: list[str], install: Callable[[], None] = pyflink_import.install) -> int:
    """Runs the script at ``path`` with ``args`` and returns the process's exit code; ``install``
    sets up the import hook first (``import pyflink`` gives ferroflow's modules by default)."""
    if not os.path.exists(path):
        sys.stderr.write(f"ferroflow run: can't open file {os.path.abspath(path)!r}: [Errno 2] No such file or directory\n")
        return 2
    if os.path.isdir(path):
        sys.stderr.write(f"ferroflow run: {path!r} is a directory, not a Python script\n")
        return 2
    install()
    sys.argv = [path, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as e:
        return _exit_code(e)
    except KeyboardInterrupt as e:
        _print_user_traceback(e, e.__traceback__)
        return 130
    except BaseException as e:  # noqa: BLE001 - the script's failure is reported like Python does
        _print_user_traceback(e, e.__traceback__)
        return 1
    return 0


def _exit_code(e: SystemExit) -> int:
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")
    return 1


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        sys.stdout.write(USAGE) if argv else sys.stderr.write(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in ("run", "check"):
        sys.stderr.write(f"ferroflow: unknown command {command!r}\n{USAGE}")
        return 2
    if not rest or rest[0] in ("-h", "--help"):
        sys.stdout.write(USAGE) if rest else sys.stderr.write(USAGE)
        return 0 if rest else 2
    if command == "check":
        return _check(rest)
    try:
        target, address, rest = _run_options(rest)
    except ValueError as e:
        sys.stderr.write(f"ferroflow run: {e}\n{USAGE}")
        return 2
    if target == "remote":
        from ferroflow.flink.submit import run_remote

        return run_remote(rest[0], rest[1:], address or "")
    return run_script(rest[0], rest[1:])


def _run_options(rest: list[str]) -> tuple[str, str | None, list[str]]:
    """``[-t|--target local|remote] [-m|--jobmanager HOST:PORT] SCRIPT ARG...`` (Flink CLI's spelling)."""
    target, address = "local", None
    while rest and rest[0].startswith("-"):
        option, _, value = rest[0].partition("=")
        if option not in ("-t", "--target", "-m", "--jobmanager"):
            raise ValueError(f"unknown option {option!r}")
        if not value:
            if len(rest) < 2:
                raise ValueError(f"{option} needs a value")
            value, rest = rest[1], rest[2:]
        else:
            rest = rest[1:]
        if option in ("-t", "--target"):
            if value not in ("local", "remote"):
                raise ValueError(f"--target is 'local' (ferroflow) or 'remote' (a Flink cluster), got {value!r}")
            target = value
        else:
            address = value
    if not rest:
        raise ValueError("no SCRIPT given")
    if target == "remote" and address is None:
        raise ValueError("--target remote needs the cluster's REST address: -m HOST:PORT")
    if target == "local" and address is not None:
        raise ValueError("-m HOST:PORT goes with --target remote")
    return target, address, rest


def _check(rest: list[str]) -> int:
    from ferroflow.flink import check

    if len(rest) != 1:
        sys.stderr.write(f"ferroflow check: takes one SCRIPT\n{USAGE}")
        return 2
    path = rest[0]
    try:
        findings = check.check_file(path)
    except OSError as e:
        sys.stderr.write(f"ferroflow check: can't open file {path!r}: {e.strerror}\n")
        return 2
    except SyntaxError as e:
        sys.stderr.write(f"ferroflow check: {path}:{e.lineno}: {e.msg}\n")
        return 2
    sys.stdout.write(check.format_report(path, findings))
    return 1 if any(not f.runs for f in findings) else 0


def console_main() -> None:
    """The ``ferroflow`` console script."""
    code = main()
    sys.stdout.flush()
    sys.exit(code)
