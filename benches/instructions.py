"""Instructions per record of W1, W2 and W3 (see bench_workloads.py), for ferroflow and for the plain
Python loop, counted by valgrind's callgrind: a figure that does not move with the machine's load,
unlike seconds on a shared host.

Each workload runs twice per implementation (N and 5N records); the difference divided by 4N is
the cost of one record, without interpreter start-up and imports.

    python benches/instructions.py [--n 100000] [--metrics]

With --metrics, ferroflow runs each workload with its live metrics on (the default) and off
(``ferroflow.metrics.enabled: false``), and the difference is the cost of the metrics.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CHILD = """
import sys
sys.path.insert(0, {here!r})
import bench_workloads as b
fn = getattr(b, sys.argv[1])
fn(1000)
fn(int(sys.argv[2]))
"""


def instructions(function: str, n: int, metrics: bool = True) -> int:
    env = dict(os.environ, FERROFLOW_BENCH_METRICS="on" if metrics else "off")
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c",
         CHILD.format(here=HERE), function, str(n)],
        check=False, capture_output=True, text=True, env=env,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{function}({n}) failed under valgrind:\n{out.stderr[-3000:]}")
    match = re.search(r"Collected : (\d+)", out.stderr)
    if not match:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{out.stderr[-2000:]}")
    return int(match.group(1))


def per_record(function: str, n: int, metrics: bool = True) -> float:
    return (instructions(function, 5 * n, metrics) - instructions(function, n, metrics)) / (4 * n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--metrics", action="store_true", help="compare ferroflow with metrics on and off")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is needed (apt-get install valgrind)")
    if args.metrics:
        print(f"{'workload':<10} {'metrics on instr/rec':>21} {'metrics off instr/rec':>22} {'cost':>7}")
        for w in ("w1", "w2", "w3"):
            on = per_record(f"{w}_ferroflow", args.n, True)
            off = per_record(f"{w}_ferroflow", args.n, False)
            print(f"{w.upper():<10} {on:>21,.0f} {off:>22,.0f} {(on - off) / off:>+7.1%}")
        return
    print(f"{'workload':<10} {'plain Python instr/rec':>23} {'ferroflow instr/rec':>20} {'ratio':>6}")
    for w in ("w1", "w2", "w3"):
        floor = per_record(f"{w}_floor", args.n)
        engine = per_record(f"{w}_ferroflow", args.n)
        print(f"{w.upper():<10} {floor:>23,.0f} {engine:>20,.0f} {floor / engine:>6.2f}")


if __name__ == "__main__":
    main()
