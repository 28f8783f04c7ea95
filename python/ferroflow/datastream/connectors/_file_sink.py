"""FileSink (row format): records written as text lines into part files under a base path, with
Flink's part-file life cycle (in-progress, pending, finished), as PyFlink's
``FileSink.for_row_format(base_path, Encoder.simple_string_encoder())``."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ferroflow import _engine
from ferroflow.common._durations import to_millis
from ferroflow.common.serialization import Encoder
from ferroflow.datastream._transformations import Transformation
from ferroflow.datastream._udf import describe

if TYPE_CHECKING:
    from ferroflow.datastream.data_stream import DataStream, DataStreamSink

__all__ = [
    "BucketAssigner",
    "DefaultRollingPolicy",
    "FileSink",
    "OnCheckpointRollingPolicy",
    "OutputFileConfig",
    "RollingPolicy",
]


@dataclass(frozen=True)
class _FileSinkSpec:
    """What the engine reads (``FileSinkSpec`` in src/bindings/connectors/file_sink.rs)."""

    base_path: str
    charset: str
    bucket_assigner: str
    date_time_format: str
    timezone_id: str | None
    rolling_policy: str
    part_size: int
    rollover_interval_ms: int
    inactivity_interval_ms: int
    part_prefix: str
    part_suffix: str
    bucket_check_interval_ms: int
    # The stream's ``format_value`` (set by ``sink_to``); ``str()`` when None.
    formatter: Any = None


def _positive_millis(value: Any, what: str) -> int:
    ms = to_millis(value, what)
    if ms <= 0:
        raise ValueError(f"{what} must be positive, got {ms} ms")
    return ms


class BucketAssigner:
    """Which bucket (sub-directory of the base path) a record is written into."""

    __slots__ = ("_format", "_kind", "_timezone_id")

    def __init__(self, kind: str, format_str: str = "yyyy-MM-dd--HH", timezone_id: str | None = None) -> None:
        self._kind = kind
        self._format = format_str
        self._timezone_id = timezone_id

    @staticmethod
    def base_path_bucket_assigner() -> BucketAssigner:
        """No buckets: every part file goes into the base path."""
        return BucketAssigner("base_path")

    @staticmethod
    def date_time_bucket_assigner(format_str: str = "yyyy-MM-dd--HH", timezone_id: str | None = None) -> BucketAssigner:
        """One bucket per value of the processing time (when the record is written) in the Java
        date-time pattern ``format_str``: letters ``yyyy``/``yy``, ``MM``, ``dd``, ``HH``, ``mm``,
        ``ss`` (also single letters, unpadded), other characters and text in single quotes
        as they are. The default gives one directory per hour. ``timezone_id``: a region such as
        ``"Europe/Berlin"``, ``"UTC"`` or an offset such as ``"+01:00"``; the system's time zone
        when None. The sink's default assigner."""
        if not isinstance(format_str, str):
            raise TypeError(f"format_str must be a str such as 'yyyy-MM-dd--HH', got {describe(format_str)}")
        if timezone_id is not None and not isinstance(timezone_id, str):
            raise TypeError(f"timezone_id must be a str such as 'UTC' or None, got {describe(timezone_id)}")
        _engine.check_date_time_bucket_assigner(format_str, timezone_id)
        return BucketAssigner("date_time", format_str, timezone_id)

    def __repr__(self) -> str:
        if self._kind == "base_path":
            return "BucketAssigner.base_path_bucket_assigner()"
        return f"BucketAssigner.date_time_bucket_assigner({self._format!r}, {self._timezone_id!r})"


class RollingPolicy:
    """When a bucket closes its part file and starts the next one."""

    __slots__ = ("_inactivity_interval", "_kind", "_part_size", "_rollover_interval")

    def __init__(self, kind: str, part_size: int, rollover_interval: int, inactivity_interval: int) -> None:
        self._kind = kind
        self._part_size = part_size
        self._rollover_interval = rollover_interval
        self._inactivity_interval = inactivity_interval

    @staticmethod
    def default_rolling_policy(
        part_size: int = 1024 * 1024 * 128,
        rollover_interval: Any = 60 * 1000,
        inactivity_interval: Any = 60 * 1000,
    ) -> DefaultRollingPolicy:
        """Rolls a part file when it is larger than ``part_size`` bytes (checked before each
        record and at each checkpoint), older than ``rollover_interval``, or not written for
        ``inactivity_interval`` (both checked every bucket check interval; int milliseconds,
        ``Duration``, ``Time`` or ``datetime.timedelta``)."""
        if isinstance(part_size, bool) or not isinstance(part_size, int):
            raise TypeError(f"part_size must be an int (bytes), got {describe(part_size)}")
        if not 0 < part_size < 2**63:
            raise ValueError(f"part_size must be positive, got {part_size}")
        return DefaultRollingPolicy(
            "default",
            part_size,
            _positive_millis(rollover_interval, "rollover_interval"),
            _positive_millis(inactivity_interval, "inactivity_interval"),
        )

    @staticmethod
    def on_checkpoint_rolling_policy() -> OnCheckpointRollingPolicy:
        """Rolls at every checkpoint, and only then (each part file holds what came between
        two checkpoints)."""
        return OnCheckpointRollingPolicy("on_checkpoint", 0, 0, 0)

    def __repr__(self) -> str:
        if self._kind == "on_checkpoint":
            return "RollingPolicy.on_checkpoint_rolling_policy()"
        return (
            f"RollingPolicy.default_rolling_policy(part_size={self._part_size}, "
            f"rollover_interval={self._rollover_interval}, inactivity_interval={self._inactivity_interval})"
        )


class DefaultRollingPolicy(RollingPolicy):
    __slots__ = ()


class OnCheckpointRollingPolicy(RollingPolicy):
    __slots__ = ()


def _check_name_part(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, got {describe(value)}")
    if "/" in value or os.sep in value or "\0" in value:
        raise ValueError(f"{what} must not contain a path separator or NUL, got {value!r}")
    return value


class OutputFileConfig:
    """The prefix and suffix of part file names: ``<prefix>-<uuid>-<subtask>-<n><suffix>``."""

    __slots__ = ("_prefix", "_suffix")

    def __init__(self, part_prefix: str, part_suffix: str) -> None:
        self._prefix = _check_name_part(part_prefix, "part_prefix")
        self._suffix = _check_name_part(part_suffix, "part_suffix")

    @staticmethod
    def builder() -> OutputFileConfig.OutputFileConfigBuilder:
        return OutputFileConfig.OutputFileConfigBuilder()

    def get_part_prefix(self) -> str:
        return self._prefix

    def get_part_suffix(self) -> str:
        return self._suffix

    def __repr__(self) -> str:
        return f"OutputFileConfig({self._prefix!r}, {self._suffix!r})"

    class OutputFileConfigBuilder:
        """Builds an :class:`OutputFileConfig`; prefix ``"part"`` and no suffix by default."""

        def __init__(self) -> None:
            self.part_prefix = "part"
            self.part_suffix = ""

        def with_part_prefix(self, prefix: str) -> OutputFileConfig.OutputFileConfigBuilder:
            self.part_prefix = _check_name_part(prefix, "part prefix")
            return self

        def with_part_suffix(self, suffix: str) -> OutputFileConfig.OutputFileConfigBuilder:
            self.part_suffix = _check_name_part(suffix, "part suffix")
            return self

        def build(self) -> OutputFileConfig:
            return OutputFileConfig(self.part_prefix, self.part_suffix)


class FileSink:
    """Writes each record as a line of text into part files under a base path, for
    ``ds.sink_to(sink)``.

    Part files go into buckets (directories under the base path, by the bucket assigner; one
    per hour by default). Each parallel subtask writes its own part files. A part file is
    *in-progress* while written (hidden: ``.<name>.inprogress.<id>``), *pending* once rolled
    (by the rolling policy), and *finished* (renamed to ``<prefix>-<uuid>-<subtask>-<n><suffix>``)
    when a checkpoint at or after the one that recorded it pending completes, so readers only
    ever see finished files, with each record once, also after a failure and restore.

    Without checkpointing, everything is finished when the input ends (Flink would leave the
    files pending forever). With checkpointing, the job's final checkpoint after the end of the
    input finishes them. A job that fails leaves hidden files, which a restore from a checkpoint
    settles (commits or deletes)."""

    def __init__(self, spec: _FileSinkSpec) -> None:
        self._spec = spec

    @staticmethod
    def for_row_format(base_path: str | os.PathLike[str], encoder: Encoder) -> FileSink.RowFormatBuilder:
        if isinstance(base_path, bytes) or not isinstance(base_path, (str, os.PathLike)):
            raise TypeError(f"base_path must be a str or os.PathLike, got {describe(base_path)}")
        path = os.fspath(base_path)
        if not isinstance(path, str) or not path:
            raise ValueError(f"base_path must be a non-empty text path, got {base_path!r}")
        path = os.path.abspath(path)
        if os.path.exists(path) and not os.path.isdir(path):
            raise ValueError(f"the FileSink base path {path} exists and is not a directory")
        if not isinstance(encoder, Encoder):
            raise TypeError(
                f"for_row_format() takes an Encoder such as Encoder.simple_string_encoder(), got {describe(encoder)}"
            )
        return FileSink.RowFormatBuilder(path, encoder)

    def get_base_path(self) -> str:
        return self._spec.base_path

    def __repr__(self) -> str:
        return f"FileSink({self._spec.base_path})"

    class RowFormatBuilder:
        """Configures a row-format :class:`FileSink`."""

        def __init__(self, base_path: str, encoder: Encoder) -> None:
            self._base_path = base_path
            self._encoder = encoder
            self._assigner = BucketAssigner("date_time")
            self._rolling: RollingPolicy = RollingPolicy.default_rolling_policy()
            self._output = OutputFileConfig("part", "")
            self._check_interval = 60 * 1000

        def with_bucket_check_interval(self, interval: Any) -> FileSink.RowFormatBuilder:
            """How often time-based rolling is checked (int milliseconds or a duration; 60 s
            by default)."""
            self._check_interval = _positive_millis(interval, "interval")
            return self

        def with_bucket_assigner(self, bucket_assigner: BucketAssigner) -> FileSink.RowFormatBuilder:
            if not isinstance(bucket_assigner, BucketAssigner):
                raise TypeError(
                    "with_bucket_assigner() takes a BucketAssigner such as "
                    f"BucketAssigner.base_path_bucket_assigner(), got {describe(bucket_assigner)}"
                )
            self._assigner = bucket_assigner
            return self

        def with_rolling_policy(self, rolling_policy: RollingPolicy) -> FileSink.RowFormatBuilder:
            if not isinstance(rolling_policy, RollingPolicy):
                raise TypeError(
                    "with_rolling_policy() takes a RollingPolicy such as "
                    f"RollingPolicy.default_rolling_policy(), got {describe(rolling_policy)}"
                )
            self._rolling = rolling_policy
            return self

        def with_output_file_config(self, output_file_config: OutputFileConfig) -> FileSink.RowFormatBuilder:
            if not isinstance(output_file_config, OutputFileConfig):
                raise TypeError(
                    "with_output_file_config() takes an OutputFileConfig such as "
                    f"OutputFileConfig.builder().build(), got {describe(output_file_config)}"
                )
            self._output = output_file_config
            return self

        def build(self) -> FileSink:
            return FileSink(
                _FileSinkSpec(
                    base_path=self._base_path,
                    charset=self._encoder._charset,
                    bucket_assigner=self._assigner._kind,
                    date_time_format=self._assigner._format,
                    timezone_id=self._assigner._timezone_id,
                    rolling_policy=self._rolling._kind,
                    part_size=self._rolling._part_size,
                    rollover_interval_ms=self._rolling._rollover_interval,
                    inactivity_interval_ms=self._rolling._inactivity_interval,
                    part_prefix=self._output._prefix,
                    part_suffix=self._output._suffix,
                    bucket_check_interval_ms=self._check_interval,
                )
            )


def sink_to(stream: DataStream, sink: Any) -> DataStreamSink:
    """``stream.sink_to(sink)``: the sink node (parallelism: the environment's default)."""
    if not isinstance(sink, FileSink):
        raise TypeError(f"sink_to() takes a FileSink, got {describe(sink)}")
    type_info = stream._type_info
    spec = dataclasses.replace(sink._spec, formatter=type_info.format_value if type_info is not None else None)
    t = Transformation(kind="file_sink", name="Sink: FileSink", inputs=stream._inputs(), payload=spec, is_sink=True)
    return stream._env._add_sink(t)
