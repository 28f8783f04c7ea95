"""A checkpointed job for crash tests: numbers from a collection, a keyed process function with
keyed state and event-time timers, a rolling reduce, and a two-phase-commit sink that makes each
checkpoint's lines visible as files in ``--out`` only once the checkpoint completed. Run in a
process of its own by tests/test_recovery.py, killed with SIGKILL at random moments and started
again from its newest checkpoint each time (``--resume``). With ``--fail-once MARKER`` a user
function raises once (when MARKER does not exist yet) and the job's restart strategy takes over.

    python tests/recovery_job.py --out /tmp/out --checkpoints /tmp/ckpt --resume
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from pathlib import Path
from typing import Any

from ferroflow._engine import latest_checkpoint
from ferroflow.common import Configuration, Duration, Types, WatermarkStrategy
from ferroflow.common.watermark_strategy import TimestampAssigner
from ferroflow.datastream import (
    EmbeddedRocksDBStateBackend,
    KeyedProcessFunction,
    StreamExecutionEnvironment,
    TwoPhaseCommitSinkFunction,
)
from ferroflow.datastream.state import ValueStateDescriptor


class LineFiles(TwoPhaseCommitSinkFunction):
    """Each transaction is a hidden file in ``directory``; committing renames it into view."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    @property
    def _handles(self) -> dict[str, Any]:
        # Per subtask (each has its own copy of the function), made on first use: recovery
        # (initialize_state) comes before open().
        if "_open_files" not in self.__dict__:
            self._open_files: dict[str, Any] = {}
        return self._open_files

    def begin_transaction(self) -> str:
        return os.path.join(self.directory, f".txn-{uuid.uuid4().hex}")

    def write(self, transaction: str, value: Any, context: Any) -> None:
        handle = self._handles.get(transaction)
        if handle is None:
            handle = self._handles[transaction] = open(transaction, "a", encoding="utf-8")  # noqa: SIM115
        handle.write(f"{value}\n")

    def pre_commit(self, transaction: str) -> None:
        handle = self._handles.pop(transaction, None)
        if handle is None:
            Path(transaction).touch()
            return
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()

    def commit(self, transaction: str) -> None:
        final = transaction.replace(".txn-", "part-")
        if os.path.exists(transaction):
            os.replace(transaction, final)

    def abort(self, transaction: str) -> None:
        handle = self._handles.pop(transaction, None)
        if handle is not None:
            handle.close()
        if os.path.exists(transaction):
            os.remove(transaction)


class CountAndRemind(KeyedProcessFunction):
    """Counts each key's records (ValueState) and sets an event-time timer 50 ms after each."""

    def open(self, runtime_context: Any) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))

    def process_element(self, value: int, ctx: KeyedProcessFunction.Context):
        n = (self.count.value() or 0) + 1
        self.count.update(n)
        ctx.timer_service().register_event_time_timer(value * 10 + 50)
        yield f"count {ctx.get_current_key()} {value} {n}"

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext):
        yield f"timer {ctx.get_current_key()} {timestamp}"


class Stamp(TimestampAssigner):
    def extract_timestamp(self, value: int, record_timestamp: int) -> int:
        return value * 10


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--records", type=int, default=6000)
    p.add_argument("--parallelism", type=int, default=1)
    p.add_argument("--backend", default="hashmap")
    p.add_argument("--rocksdb-dir")
    p.add_argument("--out", required=True)
    p.add_argument("--checkpoints")
    p.add_argument("--interval", type=int, default=100)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--delay", type=float, default=0.0002, help="seconds per record, to give kills a chance")
    p.add_argument("--fail-once", help="a marker file: a function raises once while it does not exist")
    args = p.parse_args()

    cfg = Configuration()
    if args.checkpoints:
        cfg.set_string("execution.checkpointing.dir", args.checkpoints)
        if args.resume:
            latest = latest_checkpoint(args.checkpoints)
            if latest is not None:
                cfg.set_string("execution.state-recovery.path", latest)
    if args.fail_once:
        cfg.set_string("restart-strategy.type", "fixed-delay")
        cfg.set_string("restart-strategy.fixed-delay.attempts", "3")
        cfg.set_string("restart-strategy.fixed-delay.delay", "10 ms")
    env = StreamExecutionEnvironment.get_execution_environment(cfg)
    env.set_parallelism(args.parallelism)
    if args.checkpoints:
        env.enable_checkpointing(args.interval)
    if args.backend == "rocksdb":
        env.set_state_backend(EmbeddedRocksDBStateBackend(local_directory=args.rocksdb_dir, memory_budget="32mb"))

    delay, marker = args.delay, args.fail_once

    def slow(v: int) -> int:
        if delay:
            time.sleep(delay)
        if marker and v == args.records // 2 and not os.path.exists(marker):
            Path(marker).touch()
            raise RuntimeError("injected failure")
        return v

    numbers = (
        env.from_collection(list(range(args.records)))
        .map(slow)
        .set_parallelism(1)
        .uid("slow")
        .assign_timestamps_and_watermarks(
            WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(0)).with_timestamp_assigner(Stamp())
        )
        .uid("stamps")
    )
    events = numbers.key_by(lambda v: v % 13).process(CountAndRemind()).uid("count")
    sums = numbers.key_by(lambda v: v % 7).reduce(lambda a, b: a + b).uid("sums").map(lambda s: f"sum {s}")
    events.union(sums).add_sink(LineFiles(args.out)).uid("files")
    env.execute("recovery")


if __name__ == "__main__":
    main()
