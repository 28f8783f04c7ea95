"""What checkpoints cost, in one run:

1. Overhead: W2 (keyed running reduce) and W3 (event-time windows) of benches/bench_workloads.py,
   each run with checkpoints every second and without, in alternating rounds; the figure is the
   median over rounds of (time with / time without - 1). The workloads are long enough for
   several checkpoints.
2. Large state: a job keeping a ValueState counter for each of 1 M keys, checkpointing every
   second, on each state backend: the duration and size of a checkpoint once every key exists,
   and what a later checkpoint adds (incremental on RocksDB, where unchanged files are shared;
   every checkpoint is full on the heap backend). The job then stops with a savepoint.
3. Recovery: the same job resumed from that savepoint: time from starting the resumed job to
   its first record processed (state restored, sources rewound).

    python benches/bench_checkpoint.py [--n2 5000000] [--n3 5000000] [--rounds 5] [--keys 1000000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_workloads as workloads

from ferroflow.common import Configuration, WatermarkStrategy
from ferroflow.datastream import (
    EmbeddedRocksDBStateBackend,
    KeyedProcessFunction,
    StreamExecutionEnvironment,
)
from ferroflow.datastream.connectors import NumberSequenceSource
from ferroflow.datastream.state import ValueStateDescriptor

INTERVAL_MS = 1000


def checkpointing_environment(directory: Path, restore: str | None = None) -> StreamExecutionEnvironment:
    cfg = Configuration()
    cfg.set_string("execution.checkpointing.dir", str(directory))
    if restore is not None:
        cfg.set_string("execution.state-recovery.path", restore)
    env = StreamExecutionEnvironment.get_execution_environment(cfg)
    env.enable_checkpointing(INTERVAL_MS)
    return env


# ------------------------------------------------------------------------------------ overhead
def overhead(name: str, engine: Any, n: int, rounds: int, directory: Path) -> dict[str, Any]:
    plain: list[float] = []
    with_checkpoints: list[float] = []
    ratios: list[float] = []

    def checkpointed() -> StreamExecutionEnvironment:
        return checkpointing_environment(directory)

    for r in range(rounds):
        order = ["off", "on"] if r % 2 == 0 else ["on", "off"]
        results, seconds = {}, {}
        for mode in order:
            workloads.environment = checkpointed if mode == "on" else StreamExecutionEnvironment.get_execution_environment
            t0 = time.perf_counter()
            results[mode] = engine(n)
            seconds[mode] = time.perf_counter() - t0
        if results["on"] != results["off"]:
            raise AssertionError(f"{name}: results differ with checkpoints: {results}")
        plain.append(seconds["off"])
        with_checkpoints.append(seconds["on"])
        ratios.append(seconds["on"] / seconds["off"] - 1)
    workloads.environment = StreamExecutionEnvironment.get_execution_environment
    # Checkpoints per run: the run time over the interval, plus the final one.
    taken = statistics.median(with_checkpoints) * 1000 / INTERVAL_MS
    return {
        "workload": name,
        "n": n,
        "off_s": statistics.median(plain),
        "on_s": statistics.median(with_checkpoints),
        "overhead": statistics.median(ratios),
        "range": (min(ratios), max(ratios)),
        "checkpoints": taken,
    }


# --------------------------------------------------------------------------------- large state
class Count(KeyedProcessFunction):
    """A counter per key; the first record it sees sets FIRST_RECORD (recovery time)."""

    def open(self, runtime_context: Any) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count"))

    def process_element(self, value: int, ctx: Any) -> Any:
        if Stats.first_record is None:
            Stats.first_record = time.perf_counter()
        self.count.update((self.count.value() or 0) + 1)
        Stats.records += 1


class Stats:
    records = 0
    first_record: float | None = None


def counting_job(env: StreamExecutionEnvironment, keys: int, backend: str, directory: Path) -> None:
    if backend == "rocksdb":
        env.set_state_backend(EmbeddedRocksDBStateBackend(local_directory=str(directory / "rocksdb")))
    (
        env.from_source(NumberSequenceSource(0, 10**15), WatermarkStrategy.no_watermarks(), "numbers")
        .uid("numbers")
        .key_by(lambda i: i % keys)
        .process(Count())
        .uid("counts")
        .add_sink(lambda x: None)
        .uid("sink")
    )


def wait_for(condition: Any, what: str, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


def large_state(keys: int, backend: str, directory: Path) -> dict[str, Any]:
    Stats.records, Stats.first_record = 0, None
    env = checkpointing_environment(directory / "checkpoints")
    counting_job(env, keys, backend, directory)
    client = env.execute_async(f"{keys} keys on {backend}")
    # Every key exists once `keys` records went through; then two full intervals.
    wait_for(lambda: Stats.records >= keys, "every key written")
    seen = len(client.get_checkpoints())
    wait_for(lambda: len(client.get_checkpoints()) >= seen + 3, "three more checkpoints")
    checkpoints = client.get_checkpoints()
    savepoint = client.stop_with_savepoint(False, str(directory / "savepoints")).result(timeout=600)
    client.get_job_execution_result().result(timeout=600)
    full = checkpoints[seen + 1]
    later = checkpoints[seen + 2]

    # Recovery: the same job resumed from the savepoint, to its first record.
    Stats.records, Stats.first_record = 0, None
    env = checkpointing_environment(directory / "checkpoints", restore=savepoint)
    counting_job(env, keys, backend, directory / "resumed")
    t0 = time.perf_counter()
    resumed = env.execute_async("resumed")
    wait_for(lambda: Stats.first_record is not None, "the first record after the restore")
    recovery_s = (Stats.first_record or t0) - t0
    resumed.cancel().result(timeout=600)
    return {
        "backend": backend,
        "keys": keys,
        "duration_ms": full["end_to_end_duration_ms"],
        "size": full["state_size"],
        "later_duration_ms": later["end_to_end_duration_ms"],
        "later_added": later["checkpointed_size"],
        "later_size": later["state_size"],
        "recovery_s": recovery_s,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n2", type=int, default=5_000_000)
    ap.add_argument("--n3", type=int, default=5_000_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--parts", default="overhead,state")
    args = ap.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="ferroflow-bench-checkpoint-"))
    try:
        if "overhead" in args.parts:
            rows = [
                overhead("W2 key_by+reduce", workloads.w2_ferroflow, args.n2, args.rounds, directory / "w2"),
                overhead("W3 1s windows", workloads.w3_ferroflow, args.n3, args.rounds, directory / "w3"),
            ]
            print(f"{'workload':<20} {'N':>10} {'off s':>7} {'1 s ckpt s':>10} {'overhead':>9}  (range)      checkpoints/run")
            for row in rows:
                lo, hi = row["range"]
                print(
                    f"{row['workload']:<20} {row['n']:>10,} {row['off_s']:>7.2f} {row['on_s']:>10.2f} "
                    f"{row['overhead']:>+8.1%}  ({lo:+.1%} to {hi:+.1%})  ~{row['checkpoints']:.0f}"
                )
        if "state" in args.parts:
            for backend in ("hashmap", "rocksdb"):
                r = large_state(args.keys, backend, directory / backend)
                print(
                    f"{r['keys']:,} keys on {backend}: checkpoint {r['size'] / 1e6:.1f} MB in "
                    f"{r['duration_ms']:.0f} ms; the next one adds {r['later_added'] / 1e6:.1f} MB of "
                    f"{r['later_size'] / 1e6:.1f} MB in {r['later_duration_ms']:.0f} ms; resumed from a "
                    f"savepoint, first record after {r['recovery_s']:.2f} s"
                )
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
