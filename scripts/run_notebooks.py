"""Executes every notebook in notebooks/ (or the ones given) from top to bottom.

    python3 scripts/run_notebooks.py [NOTEBOOK.ipynb ...]

Prints one line per notebook. When a cell raises, prints that cell's error and, after running
the remaining notebooks, exits with status 1. Needs nbclient, nbformat and ipykernel
(``pip install nbclient nbformat ipykernel``). Outputs are never written back to the files.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

ROOT = Path(__file__).resolve().parent.parent
KERNEL = "python3"
CELL_TIMEOUT_SECONDS = 300
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run(path: Path) -> str | None:
    """Executes the notebook at ``path``; returns None, or the error of the cell that failed."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_SECONDS,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as error:
        return _ANSI.sub("", str(error))
    return None


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not paths:
        print(f"no notebooks found in {ROOT / 'notebooks'}")
        return 1
    failed = []
    for path in paths:
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        start = time.monotonic()
        error = run(path)
        seconds = time.monotonic() - start
        if error is None:
            print(f"ok    {shown} ({seconds:.1f} s)", flush=True)
        else:
            print(f"FAIL  {shown} ({seconds:.1f} s)", flush=True)
            print(error, flush=True)
            failed.append(shown)
    if failed:
        print(f"{len(failed)} of {len(paths)} notebooks failed: {', '.join(map(str, failed))}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
