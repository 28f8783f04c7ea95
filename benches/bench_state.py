"""Keyed state: a per-key counter in a KeyedProcessFunction's ValueState (the W2 shape: event
i = (i % 1000, 1), 1000 keys, one output per record), beside the plain-Python loop keeping the
counters in a dict, measured in the same run. Backend: in memory (Python objects as they are).
Then a snapshot of a store holding one ValueState counter for each of ``--snapshot-keys`` keys:
time to write it (values pickled), its size, and time to restore it.

    python benches/bench_state.py [--n 1000000] [--rounds 5] [--snapshot-keys 1000000]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from ferroflow._engine import DEFAULT_MAX_PARALLELISM, KeyedStateStore
from ferroflow.datastream import KeyedProcessFunction, StreamExecutionEnvironment
from ferroflow.datastream.connectors import NumberSequenceSource
from ferroflow.datastream.state import ValueStateDescriptor


def floor(n: int) -> dict[str, int]:
    mapper = lambda i: (i % 1000, 1)
    key_fn = lambda e: e[0]
    counts: dict[int, int] = {}
    out = 0
    total = 0
    for i in range(n):
        e = mapper(i)
        k = key_fn(e)
        c = counts.get(k, 0) + e[1]
        counts[k] = c
        out += 1
        total += c
    return {"keys": len(counts), "records_out": out, "checksum": total}


class Counter(KeyedProcessFunction):
    def open(self, runtime_context: Any) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count"))

    def process_element(self, value: Any, ctx: Any) -> Any:
        c = (self.count.value() or 0) + value[1]
        self.count.update(c)
        yield c


def ferroflow(n: int) -> dict[str, int]:
    out = 0
    total = 0
    keys: set[int] = set()

    def sink(c: int) -> None:
        nonlocal out, total
        out += 1
        total += c

    env = StreamExecutionEnvironment.get_execution_environment()
    (
        env.from_source(NumberSequenceSource(0, n - 1))
        .map(lambda i: (i % 1000, 1))
        .key_by(lambda e: e[0])
        .process(Counter())
        .add_sink(sink)
    )
    env.execute("state counter")
    keys.update(range(min(n, 1000)))
    return {"keys": len(keys), "records_out": out, "checksum": total}


def snapshot_figures(keys: int) -> str:
    store = KeyedStateStore()
    count = store.view().get_state(ValueStateDescriptor("count"))
    for k in range(keys):
        store.set_current_key(k)
        count.update(k)
    directory = Path(tempfile.mkdtemp(prefix="ferroflow-bench-"))
    try:
        t0 = time.perf_counter()
        entries, groups, size = store.snapshot(directory / "snapshot")
        written = time.perf_counter() - t0
        t0 = time.perf_counter()
        restored = KeyedStateStore.restore([directory / "snapshot"], 0, DEFAULT_MAX_PARALLELISM)
        read = time.perf_counter() - t0
    finally:
        shutil.rmtree(directory)
    if len(restored) != entries or entries != keys:
        raise AssertionError(f"restored {len(restored)} of {entries} entries")
    return (
        f"snapshot of {keys:,} keys (memory): {size / 1e6:.1f} MB in {groups} key groups, "
        f"written in {written:.2f} s, restored in {read:.2f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--snapshot-keys", type=int, default=1_000_000)
    args = ap.parse_args()
    ratios, floor_s, engine_s = [], [], []
    for r in range(args.rounds):
        pair = [("floor", floor), ("ferroflow", ferroflow)]
        if r % 2:
            pair.reverse()
        results, secs = {}, {}
        for label, fn in pair:
            t0 = time.perf_counter()
            results[label] = fn(args.n)
            secs[label] = time.perf_counter() - t0
        if results["floor"] != results["ferroflow"]:
            raise AssertionError(f"results differ: {results}")
        floor_s.append(secs["floor"])
        engine_s.append(secs["ferroflow"])
        ratios.append(secs["floor"] / secs["ferroflow"])
    print(f"{'workload':<32} {'N':>10} {'plain Python rec/s':>19} {'ferroflow rec/s':>16} {'ratio':>6}")
    print(
        f"{'ValueState counter (memory)':<32} {args.n:>10,} {args.n / statistics.median(floor_s):>19,.0f} "
        f"{args.n / statistics.median(engine_s):>16,.0f} {statistics.median(ratios):>6.2f}"
    )
    print(snapshot_figures(args.snapshot_keys))


if __name__ == "__main__":
    main()
