"""W1, W2 and W3 of the peer benchmarks (../shared/bench/peers/README.md), on ferroflow, beside
the plain-Python loop that calls the same lambdas, measured in the same run.

  W1  stateless chain: ints 0..N-1 -> map(x*2) -> filter(x%3==0) -> map(x+1) -> sink counting
      records and summing them.
  W2  keyed running reduce: event i = (i % 1000, 1) -> key_by(key) -> reduce(sum), emitting every
      update -> sink keeping the latest value per key.
  W3  event-time windows: event i = (i % 1000, 1, ts = i - (i*7919 % 50)) with bounded
      out-of-orderness watermarks of 100 ms -> key_by(key) -> 1 s tumbling windows -> reduce(sum)
      -> sink counting windows and summing values.

Rounds alternate the floor and ferroflow so both see the same machine load; the figures are
medians over rounds. The results of both are checked against each other.

    python benches/bench_workloads.py [--workloads w1,w2,w3] [--n1 N] [--n2 N] [--n3 N]
                                      [--rounds 9] [--json out.json]
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import platform
import statistics
import time
from typing import Any, Callable

from ferroflow.common import Configuration, Duration, Time, WatermarkStrategy
from ferroflow.datastream import StreamExecutionEnvironment
from ferroflow.datastream.connectors import NumberSequenceSource
from ferroflow.datastream.window import TumblingEventTimeWindows


# How each workload's environment is made; benches/bench_checkpoint.py sets one that checkpoints.
# FERROFLOW_BENCH_METRICS=off runs the workloads with live metrics turned off (instructions.py
# --metrics compares the two).
def environment() -> StreamExecutionEnvironment:
    conf = Configuration()
    if os.environ.get("FERROFLOW_BENCH_METRICS") == "off":
        conf.set_string("ferroflow.metrics.enabled", "false")
    # The dashboard's cost: FERROFLOW_BENCH_REST_PORT=8099 serves it while the jobs run (off by default).
    if os.environ.get("FERROFLOW_BENCH_REST_PORT"):
        conf.set_string("rest.port", os.environ["FERROFLOW_BENCH_REST_PORT"])
    return StreamExecutionEnvironment.get_execution_environment(conf)


# ------------------------------------------------------------------------------------------ W1
def w1_floor(n: int) -> dict[str, int]:
    f1 = lambda x: x * 2
    p = lambda x: x % 3 == 0
    f2 = lambda x: x + 1
    cnt = 0
    s = 0
    for x in range(n):
        y = f1(x)
        if p(y):
            z = f2(y)
            cnt += 1
            s += z
    return {"count": cnt, "sum": s}


def w1_ferroflow(n: int) -> dict[str, int]:
    cnt = 0
    s = 0

    def sink(z: int) -> None:
        nonlocal cnt, s
        cnt += 1
        s += z

    env = environment()
    (
        env.from_source(NumberSequenceSource(0, n - 1))
        .map(lambda x: x * 2)
        .filter(lambda x: x % 3 == 0)
        .map(lambda x: x + 1)
        .add_sink(sink)
    )
    env.execute("w1")
    return {"count": cnt, "sum": s}


# ------------------------------------------------------------------------------------------ W2
def _w2_result(latest: dict[int, int], out: int) -> dict[str, int]:
    return {
        "keys": len(latest),
        "total": sum(latest.values()),
        "checksum": sum((k + 1) * v for k, v in latest.items()),
        "records_out": out,
    }


def w2_floor(n: int) -> dict[str, int]:
    mapper = lambda i: (i % 1000, 1)
    key_fn = lambda e: e[0]
    reducer = lambda a, b: (a[0], a[1] + b[1])
    state: dict[int, tuple[int, int]] = {}
    latest: dict[int, int] = {}
    out = 0
    for i in range(n):
        e = mapper(i)
        k = key_fn(e)
        acc = state.get(k)
        acc = e if acc is None else reducer(acc, e)
        state[k] = acc
        latest[acc[0]] = acc[1]
        out += 1
    return _w2_result(latest, out)


def w2_ferroflow(n: int) -> dict[str, int]:
    latest: dict[int, int] = {}
    out = 0

    def sink(acc: tuple[int, int]) -> None:
        nonlocal out
        latest[acc[0]] = acc[1]
        out += 1

    env = environment()
    (
        env.from_source(NumberSequenceSource(0, n - 1))
        .map(lambda i: (i % 1000, 1))
        .key_by(lambda e: e[0])
        .reduce(lambda a, b: (a[0], a[1] + b[1]))
        .add_sink(sink)
    )
    env.execute("w2")
    return _w2_result(latest, out)


# ------------------------------------------------------------------------------------------ W3
SIZE_MS = 1000
OOO_MS = 100
# ferroflow's periodic watermark interval for W3 (Flink's default: 200 ms). The plain-Python
# loop advances the watermark after every record; a shorter interval fires windows sooner, so
# fewer are open at once.
WATERMARK_INTERVAL_MS = 200


def ts_of(i: int) -> int:
    t = i - (i * 7919) % 50
    return max(0, t)


def _w3_fire(d: dict[int, tuple[int, int, int]], acc: list[int]) -> None:
    for k, v, ts in d.values():
        acc[0] += 1
        acc[1] += v
        acc[2] += (k + 1) * (ts // SIZE_MS + 1) * v


def w3_floor(n: int) -> dict[str, int]:
    """The peers' plain-Python W3: per-record watermark, windows fired in end order."""
    mapper = lambda i: (i % 1000, 1, ts_of(i))
    ts_fn = lambda e: e[2]
    key_fn = lambda e: e[0]
    reducer = lambda a, b: (a[0], a[1] + b[1], a[2])
    wins: dict[int, dict[int, tuple[int, int, int]]] = {}
    heap: list[int] = []
    max_ts = -(1 << 62)
    wm = max_ts
    acc = [0, 0, 0]
    for i in range(n):
        e = mapper(i)
        ts = ts_fn(e)
        k = key_fn(e)
        w = ts // SIZE_MS
        if (w + 1) * SIZE_MS - 1 <= wm:
            continue
        d = wins.get(w)
        if d is None:
            d = wins[w] = {}
            heapq.heappush(heap, w)
        a = d.get(k)
        d[k] = e if a is None else reducer(a, e)
        if ts > max_ts:
            max_ts = ts
            wm = max_ts - OOO_MS - 1
            while heap and (heap[0] + 1) * SIZE_MS - 1 <= wm:
                _w3_fire(wins.pop(heapq.heappop(heap)), acc)
    while heap:
        _w3_fire(wins.pop(heapq.heappop(heap)), acc)
    return {"windows": acc[0], "total": acc[1], "checksum": acc[2]}


def w3_ferroflow(n: int) -> dict[str, int]:
    acc = [0, 0, 0]

    def sink(e: tuple[int, int, int]) -> None:
        k, v, ts = e
        acc[0] += 1
        acc[1] += v
        acc[2] += (k + 1) * (ts // SIZE_MS + 1) * v

    env = environment()
    env.get_config().set_auto_watermark_interval(WATERMARK_INTERVAL_MS)
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(OOO_MS)).with_timestamp_assigner(
        lambda e, ts: e[2]
    )
    (
        env.from_source(NumberSequenceSource(0, n - 1))
        .map(lambda i: (i % 1000, 1, ts_of(i)))
        .assign_timestamps_and_watermarks(strategy)
        .key_by(lambda e: e[0])
        .window(TumblingEventTimeWindows.of(Time.milliseconds(SIZE_MS)))
        .reduce(lambda a, b: (a[0], a[1] + b[1], a[2]))
        .add_sink(sink)
    )
    env.execute("w3")
    return {"windows": acc[0], "total": acc[1], "checksum": acc[2]}


# ------------------------------------------------------------------------------------------ driver
def timed(fn: Callable[[int], dict[str, int]], n: int) -> tuple[float, dict[str, int]]:
    t0 = time.perf_counter()
    result = fn(n)
    return time.perf_counter() - t0, result


def run(name: str, floor: Callable[[int], Any], engine: Callable[[int], Any], n: int, rounds: int) -> dict[str, Any]:
    floor_s: list[float] = []
    engine_s: list[float] = []
    for r in range(rounds):
        order = [("floor", floor), ("ferroflow", engine)]
        if r % 2:
            order.reverse()
        results = {}
        for label, fn in order:
            seconds, results[label] = timed(fn, n)
            (floor_s if label == "floor" else engine_s).append(seconds)
        if results["floor"] != results["ferroflow"]:
            raise AssertionError(f"{name}: results differ: floor {results['floor']} ferroflow {results['ferroflow']}")
    floor_rate = n / statistics.median(floor_s)
    engine_rate = n / statistics.median(engine_s)
    # The ratio of each round's pair, then the median: both ran back to back, so they saw the
    # same machine (its speed drifts on a shared host).
    ratios = sorted(f / e for f, e in zip(floor_s, engine_s))
    return {
        "workload": name,
        "n": n,
        "rounds": rounds,
        "floor_lambdas_rec_per_s": round(floor_rate),
        "ferroflow_rec_per_s": round(engine_rate),
        "ratio": round(statistics.median(ratios), 3),
        "ratio_min": round(ratios[0], 3),
        "ratio_max": round(ratios[-1], 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", default="w1,w2,w3")
    ap.add_argument("--n1", type=int, default=3_000_000, help="records for W1")
    ap.add_argument("--n2", type=int, default=1_000_000, help="records for W2")
    ap.add_argument("--n3", type=int, default=1_000_000, help="records for W3")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--watermark-interval", type=int, default=200, help="W3: auto-watermark interval (ms)")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    global WATERMARK_INTERVAL_MS
    WATERMARK_INTERVAL_MS = args.watermark_interval
    chosen = args.workloads.split(",")
    plan = [
        ("w1", "W1 map-filter-map", w1_floor, w1_ferroflow, args.n1),
        ("w2", "W2 key_by+reduce", w2_floor, w2_ferroflow, args.n2),
        ("w3", f"W3 1s windows ({args.watermark_interval} ms wm)", w3_floor, w3_ferroflow, args.n3),
    ]
    rows = [run(label, floor, engine, n, args.rounds) for key, label, floor, engine, n in plan if key in chosen]
    print(f"{'workload':<27} {'N':>11} {'plain Python rec/s':>19} {'ferroflow rec/s':>16} {'ratio':>6}  (range)")
    for row in rows:
        print(
            f"{row['workload']:<27} {row['n']:>11,} {row['floor_lambdas_rec_per_s']:>19,} "
            f"{row['ferroflow_rec_per_s']:>16,} {row['ratio']:>6.2f}  ({row['ratio_min']:.2f}-{row['ratio_max']:.2f})"
        )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"(ratio: median over {args.rounds} interleaved rounds of the pair's ratio; Python {platform.python_version()}; load average {load:.1f})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "python": platform.python_version(), "load1": load}, f, indent=2)


if __name__ == "__main__":
    main()
