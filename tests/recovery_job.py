"""A checkpointed job for crash tests. Numbers from a collection (event time: the number times
10 ms) go through

- a keyed process function with keyed state (a count per key) and event-time timers;
- a rolling reduce (a running sum per key);
- an event-time tumbling window: an incremental reduce with a ProcessWindowFunction that numbers
  each key's results in its per-key state (``global_state()``) and counts the window's firings in
  per-window state (``window_state()``);
- an event-time session window (bursts of numbers with gaps) with a ProcessWindowFunction that
  sees all of a session's records (merged window contents);

and out through two sinks:

- a Python two-phase-commit sink writing every line, which makes each checkpoint's lines visible
  as files in ``--out`` only once the checkpoint completed;
- the FileSink (row format, small parts so that it rolls often) writing the window results and
  the running sums into ``--file-out``, where part files are finished (visible, names not
  starting with '.') only by a completed checkpoint.

Run in a process of its own by tests/test_recovery.py, killed with SIGKILL at random moments and
started again from its newest checkpoint each time (``--resume``). With ``--fail-once MARKER`` a
user function raises once (when MARKER does not exist yet) and the job's restart strategy takes
over; otherwise a failure fails the job. ``--keep-checkpoints`` keeps the checkpoints when the job
finishes (RETAIN_ON_CANCELLATION), so that a run killed after it finished resumes from its final
checkpoint (and does nothing more). Every line is the same in every run, whatever the parallelism: the finished lines of both
outputs are compared with those of a run that never failed.

    python tests/recovery_job.py --out /tmp/out --file-out /tmp/file-out --checkpoints /tmp/ckpt --resume
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from pathlib import Path
from typing import Any

from ferroflow._engine import latest_checkpoint
from ferroflow.common import Configuration, Duration, Encoder, Types, WatermarkStrategy
from ferroflow.common.time import Time
from ferroflow.common.watermark_strategy import TimestampAssigner
from ferroflow.datastream import (
    EmbeddedRocksDBStateBackend,
    KeyedProcessFunction,
    ProcessWindowFunction,
    StreamExecutionEnvironment,
    TwoPhaseCommitSinkFunction,
)
from ferroflow.datastream.connectors.file_system import BucketAssigner, FileSink, OutputFileConfig, RollingPolicy
from ferroflow.datastream.state import ValueStateDescriptor
from ferroflow.datastream.window import EventTimeSessionWindows, TumblingEventTimeWindows


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
        if handle is None:  # no lines: no file (a run restored from the final checkpoint writes none)
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


class NumberTumbles(ProcessWindowFunction):
    """Labels a tumbling window's (sum, count) with the key, the window, the key's result number
    (per-key state) and how often this window fired (per-window state, cleared with the window)."""

    RESULTS = ValueStateDescriptor("results", Types.LONG())
    FIRINGS = ValueStateDescriptor("firings", Types.INT())

    def process(self, key: int, context: ProcessWindowFunction.Context, elements: Any):
        results = context.global_state().get_state(self.RESULTS)
        n = (results.value() or 0) + 1
        results.update(n)
        firings = context.window_state().get_state(self.FIRINGS)
        firings.update((firings.value() or 0) + 1)
        window = context.window()
        for _key, total, count in elements:
            yield f"tumble {key} {window.start} {window.end} {total} {count} #{n} fired {firings.value()}"

    def clear(self, context: ProcessWindowFunction.Context) -> None:
        context.window_state().get_state(self.FIRINGS).clear()


class Sessions(ProcessWindowFunction):
    """A session's key, bounds and all of its records."""

    def process(self, key: int, context: ProcessWindowFunction.Context, elements: Any):
        window = context.window()
        values = sorted(elements)
        yield f"session {key} {window.start} {window.end} {len(values)} {sum(values)} {values[0]}..{values[-1]}"


class Stamp(TimestampAssigner):
    def extract_timestamp(self, value: int, record_timestamp: int) -> int:
        return value * 10


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--records", type=int, default=6000)
    p.add_argument("--parallelism", type=int, default=1)
    p.add_argument("--backend", default="hashmap")
    p.add_argument("--rocksdb-dir")
    p.add_argument("--out", required=True, help="the two-phase-commit sink's directory")
    p.add_argument("--file-out", required=True, help="the FileSink's base path")
    p.add_argument("--part-size", type=int, default=4096, help="the FileSink rolls parts at this many bytes")
    p.add_argument("--checkpoints")
    p.add_argument("--interval", type=int, default=100)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--delay", type=float, default=0.0002, help="seconds per record, to give kills a chance")
    p.add_argument("--fail-once", help="a marker file: a function raises once while it does not exist")
    p.add_argument(
        "--keep-checkpoints",
        action="store_true",
        help="retain the checkpoints when the job finishes (RETAIN_ON_CANCELLATION): a resume after it finished "
        "restores its final checkpoint",
    )
    args = p.parse_args()

    cfg = Configuration()
    if args.checkpoints:
        cfg.set_string("execution.checkpointing.dir", args.checkpoints)
        if args.resume:
            latest = latest_checkpoint(args.checkpoints)
            if latest is not None:
                cfg.set_string("execution.state-recovery.path", latest)
    if args.keep_checkpoints:
        cfg.set_string("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION")
    if args.fail_once:
        cfg.set_string("restart-strategy.type", "fixed-delay")
        cfg.set_string("restart-strategy.fixed-delay.attempts", "3")
        cfg.set_string("restart-strategy.fixed-delay.delay", "10 ms")
    else:
        # A failure fails the job at once (the default strategy would retry it for about 13 s).
        cfg.set_string("restart-strategy.type", "none")
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
    sums = (
        numbers.key_by(lambda v: v % 7)
        .reduce(lambda a, b: a + b)
        .uid("sums")
        .map(lambda s: f"sum {s}")
        .uid("sum-lines")
    )
    # 370 ms windows: 37 numbers, 7 or 8 per key.
    tumbles = (
        numbers.map(lambda v: (v % 5, v, 1))
        .uid("pairs")
        .key_by(lambda t: t[0])
        .window(TumblingEventTimeWindows.of(Time.milliseconds(370)))
        .reduce(lambda a, b: (a[0], a[1] + b[1], a[2] + b[2]), NumberTumbles())
        .uid("tumbles")
    )
    # Bursts of 60 numbers, then 40 missing (400 ms): per key a session of 20 numbers, 30 ms apart.
    sessions = (
        numbers.filter(lambda v: v % 100 < 60)
        .uid("bursts")
        .key_by(lambda v: v % 3)
        .window(EventTimeSessionWindows.with_gap(Time.milliseconds(100)))
        .process(Sessions())
        .uid("sessions")
    )
    windows = tumbles.union(sessions)
    events.union(sums, windows).add_sink(LineFiles(args.out)).uid("files")
    file_sink = (
        FileSink.for_row_format(args.file_out, Encoder.simple_string_encoder())
        .with_rolling_policy(RollingPolicy.default_rolling_policy(part_size=args.part_size))
        .with_bucket_assigner(BucketAssigner.base_path_bucket_assigner())
        .with_output_file_config(OutputFileConfig.builder().with_part_prefix("rows").with_part_suffix(".txt").build())
        .build()
    )
    windows.union(sums).sink_to(file_sink).uid("file-sink")
    env.execute("recovery")


if __name__ == "__main__":
    main()
