"""FileSource: the lines of text files, as PyFlink's
``FileSource.for_record_stream_format(StreamFormat.text_line_format(), *paths)``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ferroflow import _engine
from ferroflow.common._durations import to_millis
from ferroflow.datastream._transformations import Transformation
from ferroflow.datastream._udf import describe

if TYPE_CHECKING:
    from ferroflow.common.typeinfo import TypeInformation
    from ferroflow.datastream.data_stream import DataStream
    from ferroflow.datastream.stream_execution_environment import StreamExecutionEnvironment

__all__ = ["FileSource", "FileSourceBuilder", "StreamFormat"]


@dataclass(frozen=True)
class _FileSourceSpec:
    """What the engine reads (``FileSourceSpec`` in src/bindings/connectors/file_source.rs)."""

    paths: tuple[str, ...]
    monitor_interval_ms: int | None
    charset: str


class StreamFormat:
    """How a file source reads records from a file. Make one with :meth:`text_line_format`."""

    __slots__ = ("_charset",)

    def __init__(self, charset: str) -> None:
        self._charset = charset

    @staticmethod
    def text_line_format(charset_name: str = "UTF-8", *, charset: str | None = None) -> StreamFormat:
        """Each line of a file is one ``str`` record, without its terminator (``\\n``, ``\\r\\n``
        or ``\\r``, as Java's ``readLine``). ``charset_name`` (or ``charset``): ``"UTF-8"``,
        ``"US-ASCII"`` or ``"ISO-8859-1"``. Bytes that are not valid in it stop the job with a
        ``UnicodeError`` naming the file and the byte offset.

        Unlike Flink's, this format recovers from a checkpoint by seeking to the byte offset
        after the last line emitted, without reading the file again."""
        name = charset if charset is not None else charset_name
        if not isinstance(name, str):
            raise TypeError(f"charset_name must be a str such as 'UTF-8', got {describe(name)}")
        return StreamFormat(_engine.file_connector_charset(name))

    def __repr__(self) -> str:
        return f"StreamFormat.text_line_format({self._charset!r})"


def _absolute(path: Any) -> str:
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"FileSource paths must be str or os.PathLike, got {describe(path)}")
    text = os.fspath(path)
    if not isinstance(text, str) or not text:
        raise ValueError(f"FileSource paths must be non-empty text paths, got {path!r}")
    return os.path.abspath(text)


class FileSourceBuilder:
    """Configures a :class:`FileSource`: bounded (the default) or monitoring its paths for new
    files."""

    def __init__(self, stream_format: StreamFormat, paths: tuple[str, ...]) -> None:
        self._format = stream_format
        self._paths = paths
        self._monitor_interval_ms: int | None = None

    def monitor_continuously(self, discovery_interval: Any) -> FileSourceBuilder:
        """Unbounded: lists the paths again every ``discovery_interval`` (a ``Duration``,
        ``Time``, ``datetime.timedelta`` or int milliseconds) and reads the files that appeared.
        Each file is read once, as it is when read, whether or not it changes later: write a
        file elsewhere, or under a hidden name (``.name`` or ``_name``), and rename it into place
        when it is complete."""
        ms = to_millis(discovery_interval, "discovery_interval")
        if ms <= 0:
            raise ValueError(f"discovery_interval must be positive, got {ms} ms")
        self._monitor_interval_ms = ms
        return self

    def process_static_file_set(self) -> FileSourceBuilder:
        """Bounded (the default): reads the files that are there when the job starts, then ends."""
        self._monitor_interval_ms = None
        return self

    def build(self) -> FileSource:
        return FileSource(_FileSourceSpec(self._paths, self._monitor_interval_ms, self._format._charset))


class FileSource:
    """Reads text files, for ``env.from_source(source, WatermarkStrategy.no_watermarks(), name)``.

    Directories are listed recursively; files and directories found there whose names start
    with ``.`` or ``_`` are skipped (as Flink's default filter does). Each file is read by one
    parallel subtask (chosen by a stable hash of its path), from start to end. In checkpoints the
    source records the byte offset after the last line it emitted in each unfinished file, and
    the files already taken, so a restored job, at any parallelism, reads each line once."""

    def __init__(self, spec: _FileSourceSpec) -> None:
        self._spec = spec

    @staticmethod
    def for_record_stream_format(stream_format: StreamFormat, *paths: str | os.PathLike[str]) -> FileSourceBuilder:
        """A builder of a source reading ``paths`` (files and directories) with ``stream_format``."""
        if not isinstance(stream_format, StreamFormat):
            raise TypeError(
                f"for_record_stream_format() takes a StreamFormat such as StreamFormat.text_line_format(), "
                f"got {describe(stream_format)}"
            )
        if not paths:
            raise ValueError("for_record_stream_format() needs at least one path")
        return FileSourceBuilder(stream_format, tuple(_absolute(p) for p in paths))

    def get_paths(self) -> list[str]:
        return list(self._spec.paths)

    def is_bounded(self) -> bool:
        return self._spec.monitor_interval_ms is None

    def __repr__(self) -> str:
        mode = "bounded" if self.is_bounded() else f"monitored every {self._spec.monitor_interval_ms} ms"
        return f"FileSource({', '.join(self._spec.paths)}; {mode})"


def file_source_stream(
    env: StreamExecutionEnvironment, source: FileSource, name: str, type_info: TypeInformation | None
) -> DataStream:
    """``env.from_source(file_source, ...)``: the stream of its lines (parallelism: the
    environment's default). A path that does not exist is a FileNotFoundError now."""
    from ferroflow.datastream.data_stream import DataStream

    for path in source._spec.paths:
        if not os.path.exists(path):
            raise FileNotFoundError(f"the FileSource path {path} does not exist")
    t = Transformation(kind="file_source", name=name, payload=source._spec, output_type=type_info)
    return DataStream(env, [t.main_part()], type_info)
