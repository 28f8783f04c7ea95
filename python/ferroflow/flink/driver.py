"""The program's entry point on Flink's client: ``flink run -py`` runs a copy of :data:`SCRIPT`,
which runs the ferroflow program with ``import ferroflow...`` mapped to PyFlink
(:mod:`ferroflow.flink.imports`). A job that fails on the cluster is reported with the Python
exception of the user function that failed, not the Java stack around it."""

from __future__ import annotations

import os
import re
import runpy
import sys

__all__ = ["SCRIPT", "main", "remote_failure"]

# What ``flink run -py`` is given (written to a temporary file): Flink's PythonDriver runs it
# with the program's path and arguments.
SCRIPT = """\
from ferroflow.flink.driver import main

main()
"""

_JOB_FAILED = re.compile(r"Job failed \(JobID: ([0-9a-f]{32})\)")
_TRACEBACK = "Traceback (most recent call last):"
# Frames of these are Flink's and Beam's machinery around the user's function.
_MACHINERY = ("/site-packages/", "/dist-packages/", "apache_beam/", "pyflink/")


def main() -> None:
    if len(sys.argv) < 2:
        sys.stderr.write("usage: ferroflow_flink_driver.py PROGRAM [ARG ...]\n")
        sys.exit(2)
    code = _run(sys.argv[1], sys.argv[2:])
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)


def _run(path: str, args: list[str]) -> int:
    from ferroflow import cli
    from ferroflow.flink import imports

    imports.install()
    sys.argv = [path, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as e:
        return cli._exit_code(e)
    except BaseException as e:  # noqa: BLE001 - reported as the program's failure
        failure = remote_failure(e)
        if failure is not None:
            sys.stderr.write(failure)
        else:
            cli._print_user_traceback(e, e.__traceback__)
        return 130 if isinstance(e, KeyboardInterrupt) else 1
    return 0


def remote_failure(error: BaseException) -> str | None:
    """For the error ``env.execute()`` raises when the job failed on the cluster: the job and the
    user function's Python traceback (Flink's and Beam's frames left out); else None."""
    text = str(error)
    match = _JOB_FAILED.search(text)
    if match is None:
        return None
    lines = [f"ferroflow run: job {match.group(1)} failed on the Flink cluster"]
    start = text.rfind(_TRACEBACK)
    if start < 0:
        causes = [line.strip() for line in text.splitlines() if line.strip().startswith("Caused by: ")]
        lines.append(causes[-1] if causes else text.strip().splitlines()[0])
        return "\n".join(lines) + "\n"
    lines.append(_TRACEBACK)
    keep = False
    for line in text[start:].splitlines()[1:]:
        if line.startswith('  File "'):
            keep = not any(m in line for m in _MACHINERY)
        elif not line.startswith("  "):
            if not line.strip() or line.startswith("\tat "):
                break
            keep = True
        if keep:
            lines.append(line)
    return "\n".join(lines) + "\n"
