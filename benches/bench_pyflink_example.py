"""Whole-process time of one of PyFlink's example programs: under ``ferroflow run`` and, when
apache-flink is installed here, under PyFlink itself (``python example.py``: JVM, mini-cluster,
Python worker), beside the floor of starting a Python interpreter that does nothing.

    python benches/bench_pyflink_example.py [--runs 5] [--example windowing/tumbling_time_window.py]

The examples are those in tests/data/pyflink_examples. Each figure is the median of ``--runs``
runs (and the minimum and maximum), wall-clock time from starting the process to its exit.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "tests" / "data" / "pyflink_examples"


def timed(command: list[str], runs: int, env: dict[str, str]) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - start)
    return times


def report(label: str, times: list[float]) -> None:
    print(f"{label:<28} median {statistics.median(times):6.2f} s   (min {min(times):.2f}, max {max(times):.2f}, {len(times)} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--example", default="windowing/tumbling_time_window.py")
    args = parser.parse_args()
    example = str(EXAMPLES / args.example)
    env = dict(os.environ)
    # PyFlink starts its Python workers with the `python` found on PATH.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    print(f"{args.example}:")
    report("python -c pass (floor)", timed([sys.executable, "-c", "pass"], args.runs, env))
    report("ferroflow run", timed([sys.executable, "-m", "ferroflow", "run", example], args.runs, env))
    if importlib.util.find_spec("pyflink") is not None:
        report("PyFlink (python example)", timed([sys.executable, example], args.runs, env))
    else:
        print("PyFlink: not installed here (pip install apache-flink; needs Java 17)")


if __name__ == "__main__":
    main()
