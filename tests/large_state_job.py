"""A job whose keyed state is far larger than its memory budget: a ValueState holding a 48-byte
text for each of ``--keys`` keys, on RocksDB with a ``--budget`` memory budget. After writing
every key, the job reads back a sample of them (every key's value is a function of the key), then
prints what it saw as JSON: peak RSS of the process, bytes of state written, bytes of RocksDB
files on disk, keys checked and wrong. Run by tests/test_large_state.py in a process of its own,
and by hand for the README's figure (``--backend hashmap`` for the same job on the heap):

    python tests/large_state_job.py --keys 5000000 --budget 64mb
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from ferroflow.datastream import (
    EmbeddedRocksDBStateBackend,
    HashMapStateBackend,
    KeyedProcessFunction,
    StreamExecutionEnvironment,
)
from ferroflow.datastream.connectors import NumberSequenceSource
from ferroflow.datastream.state import ValueStateDescriptor

SAMPLES = 20_000


def value_of(key: int) -> str:
    return hashlib.blake2b(key.to_bytes(8, "little"), digest_size=24).hexdigest()


def peak_rss_bytes() -> int:
    """This process's peak resident set size (VmHWM). Not ``getrusage``: its maximum survives
    exec, so a child of a large process would report the parent's peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def directory_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass  # a file RocksDB removed meanwhile
    return total


class WriteThenCheck(KeyedProcessFunction):
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def open(self, runtime_context: Any) -> None:
        self.value = runtime_context.get_state(ValueStateDescriptor("value"))
        self.disk = 0

    def process_element(self, key: tuple[int, bool], ctx: Any) -> Any:
        k, check = key
        if not check:
            self.value.update(value_of(k))
            return
        if not self.disk:
            self.disk = directory_bytes(self.directory)
            yield "disk", self.disk
        yield ("checked" if self.value.value() == value_of(k) else "wrong"), k


def run(keys: int, budget: str, directory: Path, backend: str = "rocksdb") -> dict[str, int | float]:
    env = StreamExecutionEnvironment.get_execution_environment()
    if backend == "rocksdb":
        env.set_state_backend(EmbeddedRocksDBStateBackend(memory_budget=budget, local_directory=directory))
    else:
        env.set_state_backend(HashMapStateBackend())
    step = max(1, keys // SAMPLES)
    samples = keys // step

    def record(i: int) -> tuple[int, bool]:
        return (i, False) if i < keys else ((i - keys) * step, True)

    seen = {"checked": 0, "wrong": 0, "disk": 0}

    def sink(item: tuple[str, int]) -> None:
        kind, n = item
        seen[kind] += n if kind == "disk" else 1

    (
        env.from_source(NumberSequenceSource(0, keys + samples - 1))
        .map(record)
        .key_by(lambda r: r[0])
        .process(WriteThenCheck(directory))
        .add_sink(sink)
    )
    t0 = time.perf_counter()
    env.execute("large state")
    seconds = time.perf_counter() - t0
    return {
        "keys": keys,
        "seconds": round(seconds, 1),
        "state_bytes": keys * (8 + len(value_of(0))),
        "disk_bytes": seen["disk"],
        "checked": seen["checked"],
        "wrong": seen["wrong"],
        "samples": samples,
        "max_rss_bytes": peak_rss_bytes(),
        "left_behind": len(os.listdir(directory)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, default=5_000_000)
    ap.add_argument("--budget", default="64mb")
    ap.add_argument("--directory", type=Path, default=None)
    ap.add_argument("--backend", choices=["rocksdb", "hashmap"], default="rocksdb")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ferroflow-large-state-") as tmp:
        print(json.dumps(run(args.keys, args.budget, args.directory or Path(tmp), args.backend)))


if __name__ == "__main__":
    main()
