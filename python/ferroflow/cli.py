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

from ferroflow import pyflink_import

__all__ = ["main", "run_script"]

USAGE = """usage: ferroflow run SCRIPT [ARG ...]

Runs SCRIPT, a program written for PyFlink (or for ferroflow), on ferroflow: `import pyflink...`
gives ferroflow's modules. SCRIPT sees ARGs in sys.argv[1:], as under `python SCRIPT ARG ...`.
"""

# Frames of these files are ferroflow's runner, not the user's program.
_RUNNER_FILES = {os.path.abspath(__file__), os.path.abspath(pyflink_import.__file__), os.path.abspath(runpy.__file__)}


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


def run_script(path: str, args: list[str]) -> int:
    """Runs the script at ``path`` with ``args`` and returns the process's exit code."""
    if not os.path.exists(path):
        sys.stderr.write(f"ferroflow run: can't open file {os.path.abspath(path)!r}: [Errno 2] No such file or directory\n")
        return 2
    if os.path.isdir(path):
        sys.stderr.write(f"ferroflow run: {path!r} is a directory, not a Python script\n")
        return 2
    pyflink_import.install()
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
    if command != "run":
        sys.stderr.write(f"ferroflow: unknown command {command!r}\n{USAGE}")
        return 2
    if not rest or rest[0] in ("-h", "--help"):
        sys.stdout.write(USAGE) if rest else sys.stderr.write(USAGE)
        return 0 if rest else 2
    return run_script(rest[0], rest[1:])


def console_main() -> None:
    """The ``ferroflow`` console script."""
    code = main()
    sys.stdout.flush()
    sys.exit(code)
