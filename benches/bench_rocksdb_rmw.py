"""Read-modify-write keyed state beyond RocksDB's memory budget: records/s of a keyed rolling
``reduce`` and of the README's Dedup pattern (a ValueState read, then written when empty) on the
RocksDB backend with a ``--budget`` memory budget, at each of ``--keys`` distinct keys. Every key
comes ``--passes`` times (the keys in order, pass after pass), so the first pass reads keys that
are not there yet and later passes read back what was written. A rate that stays the same from
small to large state means reads that miss the memory budget stay cheap.

    python benches/bench_rocksdb_rmw.py [--keys 500000 5000000] [--budget 64mb] [--passes 2]
"""

from __future__ import annotations

import argparse
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from ferroflow.datastream import EmbeddedRocksDBStateBackend, KeyedProcessFunction, StreamExecutionEnvironment
from ferroflow.datastream.connectors import NumberSequenceSource
from ferroflow.datastream.state import ValueStateDescriptor


class Dedup(KeyedProcessFunction):
    def open(self, runtime_context: Any) -> None:
        self.seen = runtime_context.get_state(ValueStateDescriptor("seen"))

    def process_element(self, value: Any, ctx: Any) -> Any:
        if self.seen.value() is None:
            self.seen.update(True)
            yield value


def run(workload: str, keys: int, passes: int, budget: str, directory: Path) -> tuple[float, float, int]:
    """Seconds the job took, CPU seconds of the process's threads meanwhile, and the records it
    emitted."""
    out = 0

    def sink(_: Any) -> None:
        nonlocal out
        out += 1

    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    env.set_state_backend(EmbeddedRocksDBStateBackend(memory_budget=budget, local_directory=directory))
    keyed = env.from_source(NumberSequenceSource(0, keys * passes - 1)).map(lambda i: (i % keys, 1)).key_by(
        lambda e: e[0]
    )
    if workload == "reduce":
        keyed.reduce(lambda a, b: (a[0], a[1] + b[1])).add_sink(sink)
    else:
        keyed.process(Dedup()).add_sink(sink)
    t0, c0 = time.perf_counter(), time.process_time()
    env.execute(f"rmw {workload}")
    return time.perf_counter() - t0, time.process_time() - c0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, nargs="+", default=[500_000, 5_000_000])
    ap.add_argument("--budget", default="64mb")
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("--workloads", nargs="+", default=["reduce", "dedup"], choices=["reduce", "dedup"])
    args = ap.parse_args()
    print(f"{'workload':<28} {'keys':>10} {'records':>11} {'seconds':>8} {'CPU s':>7} {'ferroflow rec/s':>16}")
    rates: dict[str, list[float]] = {w: [] for w in args.workloads}
    for workload in args.workloads:
        for keys in args.keys:
            directory = Path(tempfile.mkdtemp(prefix="ferroflow-bench-"))
            try:
                secs, cpu, out = run(workload, keys, args.passes, args.budget, directory)
            finally:
                shutil.rmtree(directory)
            records = keys * args.passes
            expected = keys if workload == "dedup" else records
            if out != expected:
                raise AssertionError(f"{workload}: {out} records out, expected {expected}")
            rates[workload].append(records / secs)
            label = f"{'rolling reduce' if workload == 'reduce' else 'Dedup ValueState'} ({args.budget})"
            print(f"{label:<28} {keys:>10,} {records:>11,} {secs:>8.2f} {cpu:>7.2f} {records / secs:>16,.0f}", flush=True)
    for workload, r in rates.items():
        if len(r) > 1:
            print(f"{workload}: rate at {args.keys[-1]:,} keys / rate at {args.keys[0]:,} keys = {r[-1] / r[0]:.2f}")
    print(
        f"(RocksDB backend, parallelism 1, {args.passes} passes over the keys; CPU s: all threads of the process, "
        f"which on a busy host says more than wall clock; Python {platform.python_version()})"
    )


if __name__ == "__main__":
    main()
