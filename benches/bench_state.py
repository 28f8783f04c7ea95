"""Keyed state: a per-key counter in a KeyedProcessFunction's ValueState (the W2 shape: event
i = (i % 1000, 1), 1000 keys, one output per record), on the heap backend (Python objects as
they are) and on RocksDB (values serialized), beside the plain-Python loop keeping the counters
in a dict, measured in the same run. Then, on each backend, a snapshot of a store holding one
ValueState counter for each of ``--snapshot-keys`` keys: time to write it, its size, and time to
restore it; on RocksDB also a second snapshot after 1% of the keys changed (incremental).

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
from ferroflow.datastream import EmbeddedRocksDBStateBackend, KeyedProcessFunction, StreamExecutionEnvironment
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


def ferroflow(n: int, backend: str = "hashmap") -> dict[str, int]:
    out = 0
    total = 0
    keys: set[int] = set()

    def sink(c: int) -> None:
        nonlocal out, total
        out += 1
        total += c

    env = StreamExecutionEnvironment.get_execution_environment()
    if backend == "rocksdb":
        env.set_state_backend(EmbeddedRocksDBStateBackend())
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


def snapshot_figures(keys: int, backend: str) -> str:
    directory = Path(tempfile.mkdtemp(prefix="ferroflow-bench-"))
    try:
        store = KeyedStateStore(backend=backend, directory=directory / "live" if backend == "rocksdb" else None)
        count = store.view().get_state(ValueStateDescriptor("count"))
        for k in range(keys):
            store.set_current_key(k)
            count.update(k)
        t0 = time.perf_counter()
        written = store.snapshot(directory / "snapshot")
        write_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        restored = KeyedStateStore.restore(
            [directory / "snapshot"], 0, DEFAULT_MAX_PARALLELISM,
            directory=directory / "restored" if backend == "rocksdb" else None,
        )
        read_s = time.perf_counter() - t0
        if len(restored) != keys:
            raise AssertionError(f"restored {len(restored)} of {keys} entries")
        line = (
            f"snapshot of {keys:,} keys ({backend}): {written['bytes'] / 1e6:.1f} MB, "
            f"written in {write_s:.2f} s, restored in {read_s:.2f} s"
        )
        if backend == "rocksdb":
            for k in range(0, keys, 100):
                store.set_current_key(k)
                count.update(-k)
            t0 = time.perf_counter()
            again = store.snapshot(directory / "snapshot-2")
            again_s = time.perf_counter() - t0
            line += (
                f"; after 1% of keys changed, the next snapshot adds {again['new_bytes'] / 1e6:.1f} MB "
                f"of {again['bytes'] / 1e6:.1f} MB in {again_s:.2f} s"
            )
        del store, restored
        return line
    finally:
        shutil.rmtree(directory)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--snapshot-keys", type=int, default=1_000_000)
    args = ap.parse_args()
    backends = ["hashmap", "rocksdb"]
    floor_s: list[float] = []
    engine_s: dict[str, list[float]] = {b: [] for b in backends}
    ratios: dict[str, list[float]] = {b: [] for b in backends}
    for r in range(args.rounds):
        labels = ["floor", *backends]
        if r % 2:
            labels.reverse()
        results, secs = {}, {}
        for label in labels:
            t0 = time.perf_counter()
            results[label] = floor(args.n) if label == "floor" else ferroflow(args.n, label)
            secs[label] = time.perf_counter() - t0
        for b in backends:
            if results["floor"] != results[b]:
                raise AssertionError(f"results differ: {results}")
            engine_s[b].append(secs[b])
            ratios[b].append(secs["floor"] / secs[b])
        floor_s.append(secs["floor"])
    print(f"{'workload':<34} {'N':>10} {'plain Python rec/s':>19} {'ferroflow rec/s':>16} {'ratio':>6}")
    for b in backends:
        print(
            f"{f'ValueState counter ({b})':<34} {args.n:>10,} {args.n / statistics.median(floor_s):>19,.0f} "
            f"{args.n / statistics.median(engine_s[b]):>16,.0f} {statistics.median(ratios[b]):>6.2f}"
        )
    for b in backends:
        print(snapshot_figures(args.snapshot_keys, b))


if __name__ == "__main__":
    main()
