"""The data in flight between tasks is bounded in bytes, not in records: large records (1 MB
each) through a slow sink keep the process's memory flat. Each case runs for 20 s in a child
process that samples its own RSS from /proc; the cases run side by side."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SECONDS = 20
# The README states about 4 MiB per channel plus one record per batch; a job of these shapes
# stays far below this (about 35-75 MB measured, the interpreter included).
RSS_BOUND_MB = 300

CHILD = """
import itertools, sys, time
from ferroflow.datastream import StreamExecutionEnvironment
from ferroflow.datastream.connectors import NumberSequenceSource

def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024

MB = 2**20
env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(int(sys.argv[1]))
received = []
class Holder:
    def __init__(self, payload):
        self.payload = payload

def slow_sink(x):
    received.append(len(x))
    time.sleep(0.01)
{pipeline}
job = env.execute_async()
samples = []
started = time.monotonic()
while time.monotonic() - started < {seconds}:
    time.sleep(0.5)
    samples.append(rss_mb())
job.cancel()
try:
    job.get_job_execution_result().result()
except BaseException:
    pass
assert received and set(received) == {{MB}}, set(received)
print("MAX", max(samples), "SAMPLES", samples)
"""

CASES = {
    "bytes_rebalanced_p2": (2, 'env.from_iterable(b"x" * MB for _ in itertools.count()).rebalance().add_sink(slow_sink)'),
    "bytes_chained_p1": (1, 'env.from_iterable(b"x" * MB for _ in itertools.count()).add_sink(slow_sink)'),
    "str_from_a_map_p2": (
        2,
        (
            "env.from_source(NumberSequenceSource(0, 10**12)).map(lambda i: 'y' * MB)"
            ".rebalance().add_sink(slow_sink)"
        ),
    ),
    "dicts_and_objects_p2": (
        2,
        (
            "env.from_source(NumberSequenceSource(0, 10**12))"
            ".map(lambda i: {'payload': b'z' * MB} if i % 2 else Holder(b'z' * MB))"
            ".rebalance().add_sink(lambda r: slow_sink(r['payload'] if isinstance(r, dict) else r.payload))"
        ),
    ),
    "memoryview_and_bytearray_p2": (
        2,
        (
            "env.from_source(NumberSequenceSource(0, 10**12))"
            ".map(lambda i: memoryview(bytearray(MB)) if i % 2 else bytearray(MB))"
            ".rebalance().add_sink(slow_sink)"
        ),
    ),
}


@pytest.fixture(scope="module")
def rss_of_cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    directory = tmp_path_factory.mktemp("rss")
    children = {}
    for name, (parallelism, pipeline) in CASES.items():
        script = Path(directory) / f"{name}.py"
        script.write_text(textwrap.dedent(CHILD).format(pipeline=pipeline, seconds=SECONDS))
        children[name] = subprocess.Popen(
            [sys.executable, str(script), str(parallelism)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    outputs = {}
    for name, child in children.items():
        try:
            out, _ = child.communicate(timeout=SECONDS + 120)
        except subprocess.TimeoutExpired:
            child.kill()
            out, _ = child.communicate()
        outputs[name] = out if child.returncode == 0 else f"FAILED {child.returncode}: {out}"
    return outputs


@pytest.mark.parametrize("case", sorted(CASES))
def test_large_records_keep_memory_flat(rss_of_cases: dict[str, str], case: str) -> None:
    out = rss_of_cases[case]
    assert out.startswith("MAX"), out
    peak = int(out.split()[1])
    assert peak < RSS_BOUND_MB, out
