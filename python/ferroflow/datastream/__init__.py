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
    "StreamExecutionEnvironment",
    "DataStream",
    "KeyedStream",
    "ConnectedStreams",
    "DataStreamSink",
    "CloseableIterator",
    "Function",
    "MapFunction",
    "FlatMapFunction",
    "FilterFunction",
    "ReduceFunction",
    "KeySelector",
    "Partitioner",
    "SinkFunction",
    "ProcessFunction",
    "KeyedProcessFunction",
    "CoMapFunction",
    "CoFlatMapFunction",
    "CoProcessFunction",
    "KeyedCoProcessFunction",
    "RuntimeContext",
    "TimerService",
    "TimeDomain",
    "OutputTag",
]
