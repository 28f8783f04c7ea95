"""DataStream, KeyedStream, ConnectedStreams and DataStreamSink: the fluent API that describes a
pipeline. Nothing runs until ``env.execute()`` (or ``execute_and_collect()``)."""

from __future__ import annotations

import operator
from collections.abc import Iterator
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, NoReturn, overload

from ferroflow._pandas import stream_to_pandas
from ferroflow.common.typeinfo import TypeInformation
from ferroflow.common.watermark_strategy import WatermarkStrategy
from ferroflow.datastream._checks import check_str, check_type_info
from ferroflow.datastream._closeable_iterator import CloseableIterator
from ferroflow.datastream._data_stream_sink import DataStreamSink
from ferroflow.datastream._operator_properties import OperatorProperties
from ferroflow.datastream._row_outputs import row_conversion
from ferroflow.datastream._transformations import Input, StreamPart, Transformation
from ferroflow.datastream._udf import UdfSpec, check_function, describe
from ferroflow.datastream.broadcast import BroadcastConnectedStream, BroadcastStream, check_broadcast_descriptors
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
)
from ferroflow.datastream.output_tag import OutputTag
from ferroflow.datastream.window import CountSlidingWindowAssigner, CountTumblingWindowAssigner, WindowAssigner

if TYPE_CHECKING:
    import pandas as pd

    from ferroflow.common.execution_config import ExecutionConfig
    from ferroflow.datastream.connectors._file_sink import FileSink
    from ferroflow.datastream.stream_execution_environment import StreamExecutionEnvironment
    from ferroflow.datastream.windowed_stream import AllWindowedStream, WindowedStream

__all__ = ["CachedDataStream", "CloseableIterator", "ConnectedStreams", "DataStream", "DataStreamSink", "KeyedStream"]

_KEYED_PARTITIONING = "Cannot override partitioning for KeyedStream."


def _constant_key(value: Any) -> int:
    """The key of every record of a window_all: one key, one window operator."""
    return 0


def watermarks_transformation(env: Any, inputs: list[Input], strategy: WatermarkStrategy) -> Transformation:
    """The operator that assigns timestamps and generates watermarks by ``strategy``."""
    kind, delay, assigner, idleness, per_record, factory = strategy._engine_spec()
    functions = tuple(f for f in (assigner, factory) if f is not None)
    return Transformation(
        kind="watermarks",
        name="Timestamps/Watermarks",
        inputs=inputs,
        spec=UdfSpec(functions, ["extract_timestamp"], env._job_parameters()),
        parallelism_follows_input=True,
        payload={
            "kind": "generator" if kind == "generator" else ("none" if kind == "none" else "bounded"),
            "delay": delay,
            "has_assigner": assigner is not None,
            "per_record": per_record,
            "idleness": idleness,
        },
    )


class UnsupportedOperationError(Exception):
    """An operation a stream of this kind does not support (PyFlink raises a plain Exception
    with the same message)."""

_AGGREGATION_NAMES = {"sum": "Sum", "min": "Min", "max": "Max", "min_by": "MinBy", "max_by": "MaxBy"}


def _method_name(function: Any, method: str) -> str:
    """``MyMap.map`` or ``<lambda>``, to name the user's code in error messages."""
    if isinstance(function, Function):
        return f"{type(function).__name__}.{method}"
    return getattr(function, "__qualname__", None) or getattr(function, "__name__", None) or repr(function)


class DataStream(OperatorProperties):
    """A stream of values. Transformations return new streams; the operator that produced this
    one can be named and configured with ``name``, ``set_parallelism`` and so on."""

    def __init__(
        self,
        env: StreamExecutionEnvironment,
        parts: list[StreamPart],
        type_info: TypeInformation | None = None,
    ) -> None:
        self._env = env
        self._parts = parts
        self._type_info = type_info

    def get_type(self) -> TypeInformation | None:
        return self._type_info

    def get_execution_environment(self) -> StreamExecutionEnvironment:
        return self._env

    def get_execution_config(self) -> ExecutionConfig:
        """The environment's ``ExecutionConfig``."""
        return self._env.get_config()

    def cache(self) -> CachedDataStream:
        """This stream as a ``CachedDataStream``. PyFlink keeps its result for later jobs; ferroflow
        computes it again in each job that uses it (``invalidate()`` is accepted)."""
        return CachedDataStream(self._env, self._parts, self._type_info)

    # -- transformations --------------------------------------------------------------------

    def _inputs(self) -> list[Input]:
        return [Input(p) for p in self._parts]

    def _keyed(self) -> bool:
        return False

    def _udf(
        self,
        style: str,
        name: str,
        function: Any,
        methods: list[str],
        output_type: TypeInformation | None,
        inputs: list[Input] | None = None,
        keyed: bool | None = None,
    ) -> Transformation:
        return Transformation(
            kind="udf",
            name=name,
            inputs=inputs if inputs is not None else self._inputs(),
            style=style,
            spec=UdfSpec(function, methods, self._env._job_parameters(), row_conversion(style, output_type)),
            function_name=_method_name(function, methods[0]),
            keyed=self._keyed() if keyed is None else keyed,
            output_type=output_type,
        )

    def map(self, func: Callable[[Any], Any] | MapFunction, output_type: TypeInformation | None = None) -> DataStream:
        """Applies ``func`` to each value; its result is the output."""
        func = check_function(func, "map()", MapFunction, ["map"])
        output_type = check_type_info(output_type)
        return self._derive(self._udf("map", "Map", func, ["map"], output_type), output_type)

    def flat_map(
        self, func: Callable[[Any], Any] | FlatMapFunction, output_type: TypeInformation | None = None
    ) -> DataStream:
        """Applies ``func`` to each value; it yields (or returns an iterable of) the outputs."""
        func = check_function(func, "flat_map()", FlatMapFunction, ["flat_map"])
        output_type = check_type_info(output_type)
        return self._derive(self._udf("flat_map", "FlatMap", func, ["flat_map"], output_type), output_type)

    def filter(self, func: Callable[[Any], Any] | FilterFunction) -> DataStream:
        """Keeps the values for which ``func`` returns a true value."""
        func = check_function(func, "filter()", FilterFunction, ["filter"])
        return self._derive(self._udf("filter", "Filter", func, ["filter"], self._type_info), self._type_info)

    def process(self, func: Callable[[Any, Any], Any] | ProcessFunction, output_type: TypeInformation | None = None) -> DataStream:
        """Calls ``func.process_element(value, ctx)`` (or ``func(value, ctx)``) for each value. It
        yields outputs, and ``(OutputTag, value)`` pairs for side outputs."""
        func = check_function(func, "process()", ProcessFunction, ["process_element"], 2, arguments="the value and ctx")
        output_type = check_type_info(output_type)
        return self._derive(self._udf("process", "Process", func, ["process_element"], output_type), output_type)

    def project(self, *field_indexes: int) -> DataStream:
        """Keeps the fields at ``field_indexes`` of tuple values, as a new tuple."""
        if not field_indexes:
            raise ValueError("project() needs at least one field index")
        for i in field_indexes:
            if isinstance(i, bool) or not isinstance(i, int):
                raise TypeError(f"project() takes int field indexes, got {describe(i)}")
        if len(field_indexes) == 1:
            index = field_indexes[0]

            def projection(value: Any) -> Any:
                return (value[index],)

        else:
            projection = operator.itemgetter(*field_indexes)
        t = self._udf("map", "Projection", projection, ["map"], None)
        return self._derive(t, None)

    def assign_timestamps_and_watermarks(self, watermark_strategy: WatermarkStrategy) -> DataStream:
        """Gives each record its event timestamp (the strategy's timestamp assigner) and starts
        event time: watermarks from now on come from ``watermark_strategy``."""
        if not isinstance(watermark_strategy, WatermarkStrategy):
            raise TypeError(
                f"assign_timestamps_and_watermarks() takes a WatermarkStrategy, got {describe(watermark_strategy)}"
            )
        t = watermarks_transformation(self._env, self._inputs(), watermark_strategy)
        return self._derive(t, self._type_info)

    def window_all(self, window_assigner: WindowAssigner) -> AllWindowedStream:
        """The whole stream (not keyed) in windows; runs in one subtask."""
        from ferroflow.datastream.windowed_stream import AllWindowedStream

        keyed = self.key_by(_constant_key)
        return AllWindowedStream(keyed, window_assigner)

    def _derive(self, t: Transformation, type_info: TypeInformation | None) -> DataStream:
        return DataStream(self._env, [t.main_part()], type_info)

    def key_by(self, key_selector: Callable[[Any], Any] | KeySelector, key_type: TypeInformation | None = None) -> KeyedStream:
        """Partitions the stream by the key ``key_selector`` returns (a hashable value)."""
        key_selector = check_function(key_selector, "key_by()", KeySelector, ["get_key"])
        check_type_info(key_type, "key_type")
        t = Transformation(
            kind="key_by",
            name="KeyBy",
            inputs=[Input(p) for p in self._parts_for_rekey()],
            spec=UdfSpec(key_selector, ["get_key"], self._env._job_parameters()),
            function_name=_method_name(key_selector, "get_key"),
            parallelism_follows_input=True,
        )
        return KeyedStream(self._env, [StreamPart(t, partitioning="keyed")], self._type_info)

    def _parts_for_rekey(self) -> list[StreamPart]:
        return self._parts

    def union(self, *streams: DataStream) -> DataStream:
        """One stream with the values of this stream and of ``streams``."""
        parts = list(self._parts)
        for s in streams:
            if not isinstance(s, DataStream):
                raise TypeError(f"union() takes DataStreams, got {describe(s)}")
            if s._env is not self._env:
                raise ValueError("union() of streams from different environments")
            parts.extend(s._parts)
        return DataStream(self._env, parts, self._type_info)

    def connect(self, ds: DataStream | BroadcastStream) -> Any:
        """Two streams processed together by one co-function (``map1``/``map2`` ...): a
        ConnectedStreams; with a BroadcastStream (``other.broadcast(descriptor)``), a
        BroadcastConnectedStream for a (Keyed)BroadcastProcessFunction."""
        if isinstance(ds, BroadcastStream):
            return BroadcastConnectedStream(self, ds)
        if not isinstance(ds, DataStream):
            raise TypeError(f"connect() takes a DataStream or a BroadcastStream, got {describe(ds)}")
        return ConnectedStreams(self, ds)

    def get_side_output(self, output_tag: OutputTag) -> DataStream:
        """The side output ``output_tag`` of the process function that produced this stream."""
        if not isinstance(output_tag, OutputTag):
            raise TypeError(f"get_side_output() takes an OutputTag, got {describe(output_tag)}")
        t = self._operator("get_side_output")
        if not ((t.kind == "udf" and t.style == "process") or t.kind == "window"):
            raise ValueError(
                f"get_side_output() reads side outputs of process functions and windows, but '{t.name}' is neither"
            )
        return DataStream(self._env, [StreamPart(t, tag=output_tag.tag_id)], output_tag.type_info)

    # -- partitioning -------------------------------------------------------------------------

    def _partitioned(self, partitioning: str, custom: Any = None) -> DataStream:
        return DataStream(self._env, [p.with_partitioning(partitioning, custom) for p in self._parts], self._type_info)

    def forward(self) -> DataStream:
        """Each subtask sends to the subtask with its own index (same parallelism needed)."""
        return self._partitioned("forward")

    def rebalance(self) -> DataStream:
        """Round-robin over all receiving subtasks."""
        return self._partitioned("rebalance")

    def rescale(self) -> DataStream:
        """Round-robin over a local group of receiving subtasks."""
        return self._partitioned("rescale")

    def shuffle(self) -> DataStream:
        """A random receiving subtask per value."""
        return self._partitioned("shuffle")

    def broadcast(self, *state_descriptors: Any) -> Any:
        """Every value to every receiving subtask. With MapStateDescriptors, a BroadcastStream
        whose records change the broadcast states of the function it is connected to."""
        if state_descriptors:
            return BroadcastStream(self._partitioned("broadcast"), check_broadcast_descriptors(state_descriptors))
        return self._partitioned("broadcast")

    def partition_custom(
        self,
        partitioner: Callable[[Any, int], int] | Partitioner,
        key_selector: Callable[[Any], Any] | KeySelector,
    ) -> DataStream:
        """``partitioner(key, num_partitions)`` chooses the receiving subtask of each value."""
        partitioner = check_function(
            partitioner, "partition_custom()", Partitioner, ["partition"], 2, arguments="the key and the number of partitions"
        )
        key_selector = check_function(key_selector, "partition_custom()", KeySelector, ["get_key"])
        if isinstance(partitioner, Function):
            partitioner = partitioner.partition
        if isinstance(key_selector, Function):
            key_selector = key_selector.get_key
        return self._partitioned("custom", (partitioner, key_selector))

    # -- sinks ----------------------------------------------------------------------------------

    def print(self, sink_identifier: str | None = None) -> DataStreamSink:
        """Prints each value to standard output (``N> `` prefixed when parallel)."""
        if sink_identifier is not None:
            check_str(sink_identifier, "sink_identifier")
        formatter = self._type_info.format_value if self._type_info is not None else None
        t = Transformation(
            kind="print",
            name="Sink: Print to Std. Out",
            inputs=self._inputs(),
            payload=(sink_identifier, formatter),
            is_sink=True,
        )
        return self._env._add_sink(t)

    def add_sink(self, sink_func: Callable[[Any], Any] | SinkFunction) -> DataStreamSink:
        """Sends each value to ``sink_func``: a callable taking the value, or a SinkFunction
        (``invoke(value, context)``)."""
        sink_func = check_function(sink_func, "add_sink()", SinkFunction, ["invoke"], 1, 2)
        style = "sink_with_context" if isinstance(sink_func, SinkFunction) else "sink"
        t = self._udf(style, "Sink: Python Sink", sink_func, ["invoke"], None)
        t.is_sink = True
        return self._env._add_sink(t)

    def sink_to(self, sink: FileSink) -> DataStreamSink:
        """Writes the stream with a sink connector (``FileSink``)."""
        from ferroflow.datastream.connectors._file_sink import sink_to

        return sink_to(self, sink)

    @overload
    def execute_and_collect(self, job_execution_name: str | None = None, limit: None = None) -> CloseableIterator: ...

    @overload
    def execute_and_collect(self, job_execution_name: str | None = None, *, limit: int) -> list[Any]: ...

    @overload
    def execute_and_collect(self, job_execution_name: str | None, limit: int) -> list[Any]: ...

    def execute_and_collect(
        self, job_execution_name: str | None = None, limit: int | None = None
    ) -> CloseableIterator | list[Any]:
        """Runs the job and returns its results: an iterator (results as they come), or, with
        ``limit``, a list of the first ``limit`` results (the job then stops)."""
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int):
                raise TypeError(f"limit must be an int, got {describe(limit)}")
            if limit < 0:
                raise ValueError(f"limit must not be negative, got {limit}")
        collect = Transformation(kind="collect", name="Sink: Collect", inputs=self._inputs())
        iterator = CloseableIterator(self._env._execute_and_collect(collect, job_execution_name))
        if limit is None:
            return iterator
        with iterator:
            out: list[Any] = []
            if limit > 0:
                for value in iterator:
                    out.append(value)
                    if len(out) >= limit:
                        break
            return out

    def to_pandas(self, limit: int | None = None) -> pd.DataFrame:
        """Runs the job and returns its results (the first ``limit`` ones) as a pandas DataFrame:
        Rows give their field names, tuples ``f0..fn``, dicts their keys, other values ``f0``."""
        return stream_to_pandas(self, limit)

    def __repr__(self) -> str:
        producers = ", ".join(
            p.transformation.name + (f" [side output {p.tag!r}]" if p.tag else "") for p in self._parts
        )
        return f"{type(self).__name__}({producers})"

    def __iter__(self) -> Iterator[Any]:
        raise TypeError("a DataStream is not iterable: use execute_and_collect() to run the job and read its results")


class KeyedStream(DataStream):
    """A stream partitioned by key. Its operators see one key at a time."""

    class AccumulateType(Enum):
        """The rolling aggregations of a keyed stream (``sum``, ``min``, ``max``, ...)."""

        MIN = 1
        MAX = 2
        MIN_BY = 3
        MAX_BY = 4
        SUM = 5

    def _keyed(self) -> bool:
        return True

    def _parts_for_rekey(self) -> list[StreamPart]:
        # The values are keyed anew where they are: no exchange before the new key selector.
        return [p.with_partitioning("default") for p in self._parts]

    def _unsupported(self, what: str) -> Any:
        raise UnsupportedOperationError(f"{what} for KeyedStream is not supported.")

    def name(self, name: str) -> DataStream:
        return self._unsupported("Setting name")

    def cache(self) -> NoReturn:
        raise UnsupportedOperationError("Cache for KeyedStream is not supported.")

    def get_name(self) -> str:
        return self._unsupported("Getting name")

    def uid(self, uid: str) -> DataStream:
        return self._unsupported("Setting uid")

    def set_uid_hash(self, uid_hash: str) -> DataStream:
        return self._unsupported("Setting uid hash")

    def set_parallelism(self, parallelism: int) -> DataStream:
        return self._unsupported("Setting parallelism")

    def set_max_parallelism(self, max_parallelism: int) -> DataStream:
        return self._unsupported("Setting max parallelism")

    def set_buffer_timeout(self, timeout_millis: int) -> DataStream:
        return self._unsupported("Setting buffer time out")

    def force_non_parallel(self) -> DataStream:
        return self._unsupported("Setting force non-parallel")

    def start_new_chain(self) -> DataStream:
        return self._unsupported("Starting new chain")

    def disable_chaining(self) -> DataStream:
        return self._unsupported("Disabling chaining")

    def slot_sharing_group(self, slot_sharing_group: Any) -> DataStream:
        return self._unsupported("Setting slot sharing group")

    def forward(self) -> DataStream:
        raise UnsupportedOperationError(_KEYED_PARTITIONING)

    def rebalance(self) -> DataStream:
        raise UnsupportedOperationError(_KEYED_PARTITIONING)

    def rescale(self) -> DataStream:
        raise UnsupportedOperationError(_KEYED_PARTITIONING)

    def shuffle(self) -> DataStream:
        raise UnsupportedOperationError(_KEYED_PARTITIONING)

    def broadcast(self, *state_descriptors: Any) -> DataStream:
        raise UnsupportedOperationError(_KEYED_PARTITIONING)

    def partition_custom(self, partitioner: Any, key_selector: Any) -> DataStream:
        raise UnsupportedOperationError(_KEYED_PARTITIONING)

    def get_side_output(self, output_tag: OutputTag) -> DataStream:
        raise ValueError("get_side_output() reads the side outputs of the process function before key_by()")

    def process(
        self, func: Callable[[Any, Any], Any] | KeyedProcessFunction, output_type: TypeInformation | None = None
    ) -> DataStream:
        """Calls ``func.process_element(value, ctx)`` per value, with ``ctx.get_current_key()``."""
        if isinstance(func, ProcessFunction):
            raise TypeError(
                "KeyedStream.process() expects a KeyedProcessFunction (or a callable), got a "
                f"ProcessFunction ({type(func).__name__}); on a keyed stream, subclass KeyedProcessFunction"
            )
        func = check_function(
            func, "KeyedStream.process()", KeyedProcessFunction, ["process_element"], 2, arguments="the value and ctx"
        )
        output_type = check_type_info(output_type)
        t = self._udf("process", "KeyedProcess", func, ["process_element", "on_timer"], output_type)
        t.has_on_timer = isinstance(func, Function)
        return self._derive(t, output_type)

    def window(self, window_assigner: WindowAssigner) -> WindowedStream:
        """Each key's records in windows chosen by ``window_assigner``."""
        from ferroflow.datastream.windowed_stream import WindowedStream

        return WindowedStream(self, window_assigner)

    def count_window(self, size: int, slide: int = 0) -> WindowedStream:
        """Windows of ``size`` records per key, tumbling or (with ``slide``) sliding. Only full
        windows fire, as in PyFlink."""
        for what, v in (("size", size), ("slide", slide)):
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"count_window() {what} must be an int, got {describe(v)}")
        if size <= 0 or slide < 0:
            raise ValueError(f"count_window() needs size > 0 and slide >= 0, got size={size}, slide={slide}")
        assigner = CountTumblingWindowAssigner.of(size) if slide == 0 else CountSlidingWindowAssigner.of(size, slide)
        return self.window(assigner)

    def reduce(self, func: Callable[[Any, Any], Any] | ReduceFunction) -> DataStream:
        """A rolling reduce per key: emits ``func(reduced_so_far, value)`` after each value (the
        first value of a key as it is)."""
        func = check_function(func, "reduce()", ReduceFunction, ["reduce"], 2, arguments="two values")
        t = Transformation(
            kind="reduce",
            name="Reduce",
            inputs=self._inputs(),
            spec=UdfSpec(func, ["reduce"], self._env._job_parameters()),
            keyed=True,
        )
        return self._derive(t, self._type_info)

    def _aggregate(self, aggregation: str, position: int | str) -> DataStream:
        if isinstance(position, bool) or not isinstance(position, (int, str)):
            raise TypeError(f"{aggregation}() takes a field index (int) or a Row field name (str), got {describe(position)}")
        t = Transformation(
            kind="aggregate",
            name=_AGGREGATION_NAMES[aggregation],
            inputs=self._inputs(),
            payload=(aggregation, position),
            keyed=True,
        )
        return self._derive(t, self._type_info)

    def sum(self, position_to_sum: int | str = 0) -> DataStream:
        """Rolling sum of field ``position_to_sum`` per key."""
        return self._aggregate("sum", position_to_sum)

    def min(self, position_to_min: int | str = 0) -> DataStream:
        """Rolling minimum of field ``position_to_min`` per key (other fields: the first value's)."""
        return self._aggregate("min", position_to_min)

    def max(self, position_to_max: int | str = 0) -> DataStream:
        """Rolling maximum of field ``position_to_max`` per key (other fields: the first value's)."""
        return self._aggregate("max", position_to_max)

    def min_by(self, position_to_min_by: int | str = 0) -> DataStream:
        """Per key, the value with the smallest field ``position_to_min_by`` so far."""
        return self._aggregate("min_by", position_to_min_by)

    def max_by(self, position_to_max_by: int | str = 0) -> DataStream:
        """Per key, the value with the largest field ``position_to_max_by`` so far."""
        return self._aggregate("max_by", position_to_max_by)


class ConnectedStreams:
    """Two streams processed by one co-function: ``map1``/``flat_map1``/``process_element1`` for
    the first, the ``...2`` methods for the second."""

    def __init__(self, stream1: DataStream, stream2: DataStream) -> None:
        if stream1._env is not stream2._env:
            raise ValueError("connect() of streams from different environments")
        self.stream1 = stream1
        self.stream2 = stream2

    def _keyed(self) -> bool:
        return isinstance(self.stream1, KeyedStream) and isinstance(self.stream2, KeyedStream)

    def key_by(self, key_selector1: Any, key_selector2: Any, key_type: TypeInformation | None = None) -> ConnectedStreams:
        """Keys both streams (values with equal keys meet in the same subtask)."""
        return ConnectedStreams(self.stream1.key_by(key_selector1, key_type), self.stream2.key_by(key_selector2, key_type))

    def _inputs(self) -> list[Input]:
        return [Input(p, 0) for p in self.stream1._parts] + [Input(p, 1) for p in self.stream2._parts]

    def _co(self, style: str, name: str, func: Any, cls: type, methods: list[str], output_type: TypeInformation | None) -> DataStream:
        arity = 2 if style == "process" else 1
        api = f"ConnectedStreams.{style}()"
        func = check_function(func, api, cls, methods, arity, arguments="the value and ctx" if arity == 2 else "the value")
        output_type = check_type_info(output_type)
        t = self.stream1._udf(style, name, func, methods, output_type, inputs=self._inputs(), keyed=self._keyed())
        return DataStream(self.stream1._env, [t.main_part()], output_type)

    def map(self, func: CoMapFunction | Any, output_type: TypeInformation | None = None) -> DataStream:
        return self._co("map", "CoMap", func, CoMapFunction, ["map1", "map2"], output_type)

    def flat_map(self, func: CoFlatMapFunction | Any, output_type: TypeInformation | None = None) -> DataStream:
        return self._co("flat_map", "CoFlatMap", func, CoFlatMapFunction, ["flat_map1", "flat_map2"], output_type)

    def process(self, func: CoProcessFunction | KeyedCoProcessFunction | Any, output_type: TypeInformation | None = None) -> DataStream:
        keyed = self._keyed()
        if keyed and isinstance(func, CoProcessFunction):
            raise TypeError("connected keyed streams take a KeyedCoProcessFunction, got a CoProcessFunction")
        if not keyed and isinstance(func, KeyedCoProcessFunction):
            raise TypeError(
                "a KeyedCoProcessFunction needs both streams keyed: use connect(...).key_by(k1, k2) first"
            )
        cls = KeyedCoProcessFunction if keyed else CoProcessFunction
        name = "KeyedCoProcess" if keyed else "CoProcess"
        methods = ["process_element1", "process_element2"]
        if keyed and isinstance(func, Function):
            stream = self._co("process", name, func, cls, [*methods, "on_timer"], output_type)
            stream._parts[0].transformation.has_on_timer = True
            return stream
        return self._co("process", name, func, cls, methods, output_type)


# Defined apart (this module is long enough); it subclasses DataStream, so it comes last.
from ferroflow.datastream._cached_data_stream import CachedDataStream
