"""File connectors, as ``pyflink.datastream.connectors.file_system``: ``FileSource`` (lines of
text files) and ``FileSink`` (row format, exactly-once part files)."""

from ferroflow.datastream.connectors._file_sink import (
    BucketAssigner,
    DefaultRollingPolicy,
    FileSink,
    OnCheckpointRollingPolicy,
    OutputFileConfig,
    RollingPolicy,
)
from ferroflow.datastream.connectors._file_source import FileSource, FileSourceBuilder, StreamFormat

__all__ = [
    "BucketAssigner",
    "DefaultRollingPolicy",
    "FileSink",
    "FileSource",
    "FileSourceBuilder",
    "OnCheckpointRollingPolicy",
    "OutputFileConfig",
    "RollingPolicy",
    "StreamFormat",
]
