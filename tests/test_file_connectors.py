"""FileSource and FileSink (row format): real files in tmp_path, read and written by real jobs."""

from __future__ import annotations

import _thread
import datetime
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from ferroflow.common import Configuration, Duration, Encoder, Types, WatermarkStrategy
from ferroflow.datastream import StreamExecutionEnvironment
from ferroflow.datastream.connectors import FileSink as ConnectorsFileSink
from ferroflow.datastream.connectors.file_system import (
    BucketAssigner,
    FileSink,
    FileSource,
    OutputFileConfig,
    RollingPolicy,
    StreamFormat,
)


def source(*paths: Path | str, monitor: Duration | int | None = None) -> FileSource:
    builder = FileSource.for_record_stream_format(StreamFormat.text_line_format(), *paths)
    if monitor is not None:
        builder = builder.monitor_continuously(monitor)
    return builder.build()


def sink(
    base: Path,
    *,
    part_size: int = 1 << 20,
    prefix: str = "part",
    suffix: str = "",
    assigner: BucketAssigner | None = None,
    encoder: Encoder | None = None,
) -> FileSink:
    return (
        FileSink.for_row_format(str(base), encoder or Encoder.simple_string_encoder())
        .with_rolling_policy(RollingPolicy.default_rolling_policy(part_size=part_size))
        .with_output_file_config(OutputFileConfig.builder().with_part_prefix(prefix).with_part_suffix(suffix).build())
        .with_bucket_assigner(assigner or BucketAssigner.base_path_bucket_assigner())
        .build()
    )


def files(base: Path) -> tuple[list[Path], list[Path]]:
    """(finished, hidden) files under ``base``."""
    finished, hidden = [], []
    for root, _dirs, names in os.walk(base):
        for name in names:
            (hidden if name.startswith(".") else finished).append(Path(root) / name)
    return sorted(finished), sorted(hidden)


def finished_lines(base: Path) -> Counter[str]:
    lines: Counter[str] = Counter()
    for f in files(base)[0]:
        lines.update(f.read_text(encoding="utf-8").splitlines())
    return lines


def write_inputs(directory: Path, n_files: int, per_file: int) -> Counter[str]:
    directory.mkdir(parents=True, exist_ok=True)
    expected: Counter[str] = Counter()
    for f in range(n_files):
        sub = directory / ("sub" if f % 2 else "")
        sub.mkdir(exist_ok=True)
        lines = [f"file{f}-line{i}" for i in range(per_file)]
        (sub / f"in-{f}.txt").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        expected.update(lines)
    return expected


def lines_of(env: StreamExecutionEnvironment, *paths: Path) -> list[str]:
    return env.from_source(source(*paths), WatermarkStrategy.no_watermarks(), "files").execute_and_collect(limit=10**6)


# -- end to end ------------------------------------------------------------------------------------


def test_directory_through_map_into_finished_files(env: StreamExecutionEnvironment, tmp_path: Path) -> None:
    expected = write_inputs(tmp_path / "in", n_files=6, per_file=50)
    out = tmp_path / "out"
    env.from_source(source(tmp_path / "in"), WatermarkStrategy.no_watermarks(), "events").map(str.upper).sink_to(
        sink(out)
    )
    result = env.execute()
    finished, hidden = files(out)
    assert hidden == []
    assert finished_lines(out) == Counter({k.upper(): v for k, v in expected.items()})
    # One part file per subtask that received records, named <prefix>-<uuid>-<subtask>-<n>.
    assert 1 <= len(finished) <= env.get_parallelism()
    for f in finished:
        prefix, rest = f.name.split("-", 1)
        assert prefix == "part" and rest.endswith("-0") and len(rest) == 36 + len("-0-0")
    assert result.get_counter("numPartFilesCommitted") == len(finished)


def test_part_size_rolls_into_several_files(tmp_path: Path) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    expected = write_inputs(tmp_path / "in", n_files=1, per_file=200)
    out = tmp_path / "out"
    env.from_source(source(tmp_path / "in"), WatermarkStrategy.no_watermarks(), "events").sink_to(
        sink(out, part_size=300)
    )
    env.execute()
    finished, hidden = files(out)
    assert hidden == [] and len(finished) > 5
    # A file is rolled before the record that finds it larger than the part size.
    longest = max(len(line) + 1 for line in expected)
    assert all(f.stat().st_size <= 300 + longest for f in finished)
    counters = sorted(int(f.name.rsplit("-", 1)[1]) for f in finished)
    assert counters == list(range(len(finished)))
    assert finished_lines(out) == expected


def test_prefix_and_suffix_name_the_part_files(tmp_path: Path) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    out = tmp_path / "out"
    env.from_collection(["a", "b"]).sink_to(sink(out, prefix="p", suffix=".txt"))
    env.execute()
    (finished,) = files(out)[0]
    assert finished.name.startswith("p-") and finished.name.endswith("-0-0.txt")
    assert finished.read_text() == "a\nb\n"


def test_date_time_buckets_are_directories(tmp_path: Path) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    out = tmp_path / "out"
    before = datetime.datetime.now(datetime.timezone.utc)
    env.from_collection(["x", "y"]).sink_to(
        sink(out, assigner=BucketAssigner.date_time_bucket_assigner("'day='yyyy-MM-dd", "UTC"))
    )
    env.execute()
    after = datetime.datetime.now(datetime.timezone.utc)
    (finished,) = files(out)[0]
    bucket = finished.parent.name
    assert bucket in {before.strftime("day=%Y-%m-%d"), after.strftime("day=%Y-%m-%d")}
    assert finished.parent.parent == out


def test_the_default_bucket_is_the_local_hour(tmp_path: Path) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    out = tmp_path / "out"
    before = datetime.datetime.now()
    env.from_collection([1, 2, 3]).sink_to(FileSink.for_row_format(str(out), Encoder.simple_string_encoder()).build())
    env.execute()
    after = datetime.datetime.now()
    (finished,) = files(out)[0]
    assert finished.parent.name in {before.strftime("%Y-%m-%d--%H"), after.strftime("%Y-%m-%d--%H")}
    assert finished.read_text() == "1\n2\n3\n"


def test_hidden_files_and_directories_are_skipped(ff_env: StreamExecutionEnvironment, tmp_path: Path) -> None:
    d = tmp_path / "in"
    (d / "_temporary").mkdir(parents=True)
    (d / ".git").mkdir()
    (d / "data.txt").write_text("seen\n")
    (d / ".data.txt.inprogress").write_text("hidden\n")
    (d / "_SUCCESS").write_text("marker\n")
    (d / "_temporary" / "x.txt").write_text("temporary\n")
    (d / ".git" / "y.txt").write_text("git\n")
    assert lines_of(ff_env, d) == ["seen"]
    # A hidden file named explicitly is read.
    assert lines_of(ff_env, d / "_SUCCESS") == ["marker"]


def test_unicode_line_endings_and_empty_files(env: StreamExecutionEnvironment, tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    (d / "unicode.txt").write_bytes("é€\r\nß😀\rlast without newline".encode())
    (d / "crlf.txt").write_bytes(b"a\r\n\r\nb\r\n")
    (d / "empty.txt").write_bytes(b"")
    (d / "blank.txt").write_bytes(b"\n")
    assert Counter(lines_of(env, d)) == Counter(["é€", "ß😀", "last without newline", "a", "", "b", ""])


def test_unicode_round_trips_through_the_sink(tmp_path: Path) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_collection(["größe", "日本", "😀"]).sink_to(sink(tmp_path / "utf8"))
    env.from_collection(["café"]).sink_to(
        sink(tmp_path / "latin1", encoder=Encoder.simple_string_encoder("ISO-8859-1"))
    )
    env.execute()
    assert files(tmp_path / "utf8")[0][0].read_text(encoding="utf-8") == "größe\n日本\n😀\n"
    assert files(tmp_path / "latin1")[0][0].read_bytes() == b"caf\xe9\n"


def test_values_are_written_as_print_shows_them(tmp_path: Path) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    out_untyped, out_typed = tmp_path / "untyped", tmp_path / "typed"
    pairs = env.from_collection([("a", 1), ("b", 2)])
    pairs.sink_to(sink(out_untyped))
    pairs.map(lambda t: t, output_type=Types.TUPLE([Types.STRING(), Types.INT()])).sink_to(sink(out_typed))
    env.execute()
    assert files(out_untyped)[0][0].read_text() == "('a', 1)\n('b', 2)\n"
    assert files(out_typed)[0][0].read_text() == "(a,1)\n(b,2)\n"


def test_a_failed_job_leaves_no_finished_file(tmp_path: Path) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    out = tmp_path / "out"

    def fail_late(v: int) -> int:
        if v == 4000:  # after several batches reached the sink
            raise ValueError("boom")
        return v

    env.from_collection(list(range(5000))).map(fail_late).sink_to(sink(out, part_size=100))
    with pytest.raises(ValueError, match="boom"):
        env.execute()
    finished, hidden = files(out)
    assert finished == [] and hidden


def test_bad_text_names_the_file_and_offset(ff_env: StreamExecutionEnvironment, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\nab\xffc\n")
    with pytest.raises(UnicodeError, match=r"bad\.txt.*byte offset 7"):
        lines_of(ff_env, bad)


# -- continuous monitoring -------------------------------------------------------------------------


@pytest.fixture
def interrupt_after_30s() -> Iterator[None]:
    """A test that waits for a running job fails instead of hanging."""
    timer = threading.Timer(30, _thread.interrupt_main)
    timer.start()
    yield
    timer.cancel()
    timer.join()


@pytest.mark.usefixtures("interrupt_after_30s")
def test_a_monitored_directory_gives_files_added_while_the_job_runs(
    env: StreamExecutionEnvironment, tmp_path: Path
) -> None:
    d = tmp_path / "in"
    d.mkdir()
    (d / "first.txt").write_text("one\ntwo\n")
    stream = env.from_source(source(d, monitor=Duration.of_millis(50)), WatermarkStrategy.no_watermarks(), "watch")
    with stream.map(lambda s: s + "!").execute_and_collect() as results:
        seen = [next(results), next(results)]
        # Written under a hidden name and renamed, as a careful producer does: never half read.
        (d / ".second.txt").write_text("three\n")
        os.rename(d / ".second.txt", d / "second.txt")
        seen.append(next(results))
    assert sorted(seen) == ["one!", "three!", "two!"]


@pytest.mark.usefixtures("interrupt_after_30s")
def test_monitoring_takes_int_milliseconds_and_feeds_a_sink(tmp_path: Path) -> None:
    class Stop(Exception):
        pass

    d = tmp_path / "in"
    d.mkdir()
    (d / "a.txt").write_text("a\n")
    env = StreamExecutionEnvironment.get_execution_environment()
    seen: list[str] = []

    def collect(v: str) -> None:
        seen.append(v)
        if v == "a":
            (d / "b.txt").write_text("b\n")
        if len(seen) == 2:
            raise Stop()

    env.from_source(source(d, monitor=20), WatermarkStrategy.no_watermarks(), "watch").add_sink(collect)
    started = time.monotonic()
    with pytest.raises(Stop):
        env.execute()
    assert seen == ["a", "b"] and time.monotonic() - started < 30


# -- checkpoints ---------------------------------------------------------------------------------


def test_with_checkpointing_the_final_checkpoint_finishes_the_files(tmp_path: Path) -> None:
    cfg = Configuration()
    cfg.set_string("execution.checkpointing.dir", str(tmp_path / "checkpoints"))
    env = StreamExecutionEnvironment.get_execution_environment(cfg)
    env.set_parallelism(2)
    env.enable_checkpointing(50)
    expected = write_inputs(tmp_path / "in", n_files=4, per_file=300)
    out = tmp_path / "out"
    env.from_source(source(tmp_path / "in"), WatermarkStrategy.no_watermarks(), "events").sink_to(
        sink(out, part_size=500)
    )
    env.execute()
    assert files(out)[1] == []
    assert finished_lines(out) == expected


# -- the API -------------------------------------------------------------------------------------


def test_pyflink_import_paths() -> None:
    from ferroflow.common.serialization import Encoder as SerializationEncoder

    assert SerializationEncoder is Encoder
    assert ConnectorsFileSink is FileSink
    assert isinstance(RollingPolicy.default_rolling_policy(), RollingPolicy)
    assert OutputFileConfig.builder().build().get_part_prefix() == "part"
    assert OutputFileConfig("a", ".b").get_part_suffix() == ".b"


def test_a_missing_input_path_fails_when_the_pipeline_is_built(tmp_path: Path) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="nowhere"):
        env.from_source(source(missing), WatermarkStrategy.no_watermarks(), "events")


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: StreamFormat.text_line_format("UTF-16"), ValueError, "UTF-16"),
        (lambda: StreamFormat.text_line_format(8), TypeError, "charset"),
        (lambda: FileSource.for_record_stream_format("UTF-8", "/tmp"), TypeError, "StreamFormat"),
        (lambda: FileSource.for_record_stream_format(StreamFormat.text_line_format()), ValueError, "at least one"),
        (lambda: FileSource.for_record_stream_format(StreamFormat.text_line_format(), 3), TypeError, "paths"),
        (
            lambda: FileSource.for_record_stream_format(StreamFormat.text_line_format(), "/tmp").monitor_continuously(0),
            ValueError,
            "positive",
        ),
        (
            lambda: FileSource.for_record_stream_format(StreamFormat.text_line_format(), "/tmp").monitor_continuously("1s"),
            TypeError,
            "discovery_interval",
        ),
        (lambda: Encoder.simple_string_encoder("EBCDIC"), ValueError, "EBCDIC"),
        (lambda: FileSink.for_row_format("/tmp/x", "utf-8"), TypeError, "Encoder"),
        (lambda: FileSink.for_row_format(None, Encoder.simple_string_encoder()), TypeError, "base_path"),
        (lambda: RollingPolicy.default_rolling_policy(part_size=0), ValueError, "part_size"),
        (lambda: RollingPolicy.default_rolling_policy(part_size="1mb"), TypeError, "part_size"),
        (lambda: RollingPolicy.default_rolling_policy(rollover_interval=-1), ValueError, "rollover_interval"),
        (lambda: BucketAssigner.date_time_bucket_assigner("yyyy-MMM"), ValueError, "MMM"),
        (lambda: BucketAssigner.date_time_bucket_assigner("yyyy", "Mars/Base"), ValueError, "Mars/Base"),
        (lambda: BucketAssigner.date_time_bucket_assigner(5), TypeError, "format_str"),
        (lambda: OutputFileConfig.builder().with_part_prefix("a/b"), ValueError, "separator"),
        (lambda: OutputFileConfig.builder().with_part_suffix(1), TypeError, "suffix"),
        (
            lambda: FileSink.for_row_format("/tmp/x", Encoder.simple_string_encoder()).with_bucket_check_interval(0),
            ValueError,
            "positive",
        ),
        (
            lambda: FileSink.for_row_format("/tmp/x", Encoder.simple_string_encoder()).with_rolling_policy("size"),
            TypeError,
            "RollingPolicy",
        ),
        (
            lambda: FileSink.for_row_format("/tmp/x", Encoder.simple_string_encoder()).with_bucket_assigner(None),
            TypeError,
            "BucketAssigner",
        ),
        (
            lambda: FileSink.for_row_format("/tmp/x", Encoder.simple_string_encoder()).with_output_file_config("p"),
            TypeError,
            "OutputFileConfig",
        ),
    ],
)
def test_bad_arguments_fail_when_built(make, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        make()


def test_sink_to_takes_a_file_sink_and_the_base_path_must_be_a_directory(tmp_path: Path) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    with pytest.raises(TypeError, match="FileSink"):
        env.from_collection([1]).sink_to(print)
    a_file = tmp_path / "file"
    a_file.write_text("")
    with pytest.raises(ValueError, match="not a directory"):
        FileSink.for_row_format(a_file, Encoder.simple_string_encoder())


def test_the_time_zone_and_durations_are_accepted_in_every_spelling(tmp_path: Path) -> None:
    for tz in ["UTC", "Europe/Berlin", "+05:30", "GMT-8"]:
        BucketAssigner.date_time_bucket_assigner("yyyy-MM-dd--HH", tz)
    builder = FileSource.for_record_stream_format(StreamFormat.text_line_format("utf8"), tmp_path)
    builder.monitor_continuously(datetime.timedelta(seconds=1)).process_static_file_set().build()
    RollingPolicy.default_rolling_policy(rollover_interval=Duration.of_seconds(5), inactivity_interval=1000)


@pytest.mark.usefixtures("interrupt_after_30s")
@pytest.mark.parametrize("parallelism", [1, 2])
def test_a_restart_from_a_checkpoint_writes_each_line_once(tmp_path: Path, parallelism: int) -> None:
    cfg = Configuration()
    cfg.set_string("execution.checkpointing.dir", str(tmp_path / "checkpoints"))
    cfg.set_string("python.fn-execution.bundle.size", "10")
    cfg.set_string("restart-strategy.type", "fixed-delay")
    cfg.set_string("restart-strategy.fixed-delay.attempts", "2")
    cfg.set_string("restart-strategy.fixed-delay.delay", "10 ms")
    env = StreamExecutionEnvironment.get_execution_environment(cfg)
    env.set_parallelism(parallelism)
    env.enable_checkpointing(30)
    expected = write_inputs(tmp_path / "in", n_files=4, per_file=400)
    out = tmp_path / "out"
    # Finished files when the first run failed: the restart must leave them as they are.
    before_failure: dict[Path, str] = {}

    def slow_then_fail_once(line: str) -> str:
        time.sleep(0.0003)
        if not before_failure:
            finished = files(out)[0]
            if finished:  # a checkpoint completed and committed a file
                before_failure.update((f, f.read_text()) for f in finished)
                raise RuntimeError("injected failure")
        return line

    env.from_source(source(tmp_path / "in"), WatermarkStrategy.no_watermarks(), "events").map(
        slow_then_fail_once
    ).sink_to(sink(out, part_size=2000))
    env.execute()
    assert before_failure, "the job failed once, after a checkpoint"
    assert all(f.read_text() == text for f, text in before_failure.items())
    assert files(out)[1] == [], "no in-progress file is left behind"
    assert finished_lines(out) == expected
