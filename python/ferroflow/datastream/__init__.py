"""The DataStream API: ``StreamExecutionEnvironment``, streams, and the function interfaces."""

from ferroflow.datastream.data_stream import (
    CloseableIterator,
    ConnectedStreams,
    DataStream,
    DataStreamSink,
    KeyedStream,
)
from ferroflow.datastream.functions import (
    CoFlatMapFunction,
    CoMapFunction,
    CoProcessFunction,
    FilterFunction,
    FlatMapFunction,
    Function,
    KeyedCoProcessFunction,
    KeyedProcessFunction,
    KeySelector,
    MapFunction,
    Partitioner,
    ProcessFunction,
    ReduceFunction,
    SinkFunction,
    TimerService,
)
from ferroflow.datastream.output_tag import OutputTag
from ferroflow.datastream.runtime_context import RuntimeContext
from ferroflow.datastream.stream_execution_environment import StreamExecutionEnvironment
from ferroflow.datastream.time_domain import TimeDomain

__all__ = [
    "CloseableIterator",
    "CoFlatMapFunction",
    "CoMapFunction",
    "CoProcessFunction",
    "ConnectedStreams",
    "DataStream",
    "DataStreamSink",
    "FilterFunction",
    "FlatMapFunction",
    "Function",
    "KeySelector",
    "KeyedCoProcessFunction",
    "KeyedProcessFunction",
    "KeyedStream",
    "MapFunction",
    "OutputTag",
    "Partitioner",
    "ProcessFunction",
    "ReduceFunction",
    "RuntimeContext",
    "SinkFunction",
    "StreamExecutionEnvironment",
    "TimeDomain",
    "TimerService",
]
