"""Sources and sinks."""

from ferroflow.datastream.connectors.file_system import (
    BucketAssigner,
    DefaultRollingPolicy,
    FileSink,
    FileSource,
    FileSourceBuilder,
    OnCheckpointRollingPolicy,
    OutputFileConfig,
    RollingPolicy,
    StreamFormat,
)
from ferroflow.datastream.connectors.number_seq import NumberSequenceSource
from ferroflow.datastream.connectors.rewindable import RewindableSource

__all__ = [
    "BucketAssigner",
    "DefaultRollingPolicy",
    "FileSink",
    "FileSource",
    "FileSourceBuilder",
    "NumberSequenceSource",
    "OnCheckpointRollingPolicy",
    "OutputFileConfig",
    "RewindableSource",
    "RollingPolicy",
    "StreamFormat",
]
