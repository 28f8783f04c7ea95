"""WindowedStream and AllWindowedStream: a keyed stream (or the whole stream) cut into windows,
and the functions that turn each window into results."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ferroflow.common._durations import to_millis
from ferroflow.common.typeinfo import TypeInformation
from ferroflow.datastream._checks import check_type_info
from ferroflow.datastream._transformations import Input, Transformation
from ferroflow.datastream._udf import FunctionsSpec, check_function, describe
from ferroflow.datastream.functions import (
    AggregateFunction,
    AllWindowFunction,
    Function,
    ProcessAllWindowFunction,
    ProcessWindowFunction,
    ReduceFunction,
    WindowFunction,
)
from ferroflow.datastream.output_tag import OutputTag
from ferroflow.datastream.window import Trigger, WindowAssigner

if TYPE_CHECKING:
    from ferroflow.datastream.data_stream import DataStream

__all__ = ["AllWindowedStream", "WindowedStream"]

_AGGREGATE_METHODS = ["create_accumulator", "add", "get_result", "merge"]


def _function_name(function: Any, method: str) -> str:
    if isinstance(function, Function):
        return f"{type(function).__name__}.{method}"
    return getattr(function, "__qualname__", None) or repr(function)


class WindowedStream:
    """``keyed_stream.window(assigner)``: each key's records in windows. Configure with
    ``trigger``, ``allowed_lateness`` and ``side_output_late_data``, then give the function that
    makes each window's result: ``reduce``, ``aggregate``, ``process`` or ``apply``."""

    _keyless = False

    def __init__(self, stream: DataStream, assigner: WindowAssigner) -> None:
        if not isinstance(assigner, WindowAssigner) or not hasattr(assigner, "_engine_spec"):
            raise TypeError(
                f"window() takes a window assigner such as TumblingEventTimeWindows.of(Time.seconds(5)), "
                f"got {describe(assigner)}"
            )
        self._stream = stream
        self._assigner = assigner
        self._trigger: Trigger | None = None
        self._allowed_lateness = 0
        self._late_tag: OutputTag | None = None

    def get_execution_environment(self) -> Any:
        return self._stream.get_execution_environment()

    def get_input_type(self) -> TypeInformation | None:
        return self._stream.get_type()

    def trigger(self, trigger: Trigger) -> WindowedStream:
        """When windows fire (default: the assigner's own trigger)."""
        if not isinstance(trigger, Trigger):
            raise TypeError(f"trigger() takes a Trigger, got {describe(trigger)}")
        if self._assigner.is_merging() and not trigger.can_merge():
            raise TypeError("a merging window assigner (sessions) needs a trigger whose can_merge() returns True")
        self._trigger = trigger
        return self

    def allowed_lateness(self, time_ms: Any) -> WindowedStream:
        """How long after a window's end late records still update it (int ms, Time, Duration
        or timedelta; default 0). Later records go to the late side output, or are dropped.
        Processing-time windows have no late records: there, as in PyFlink, it has no effect."""
        lateness = to_millis(time_ms, "allowed_lateness")
        if lateness < 0:
            raise ValueError(f"allowed_lateness must not be negative, got {lateness} ms")
        self._allowed_lateness = lateness if self._assigner.is_event_time() else 0
        return self

    def side_output_late_data(self, output_tag: OutputTag) -> WindowedStream:
        """Sends records too late for every window to the side output ``output_tag`` (read it
        with ``result.get_side_output(output_tag)``)."""
        if not isinstance(output_tag, OutputTag):
            raise TypeError(f"side_output_late_data() takes an OutputTag, got {describe(output_tag)}")
        self._late_tag = output_tag
        return self

    # -- window functions ------------------------------------------------------------------------

    def _window_fn_part(self, window_function: Any, api: str) -> tuple[tuple[Any, list[str]] | None, str | None]:
        if window_function is None:
            return None, None
        process_cls = ProcessAllWindowFunction if self._keyless else ProcessWindowFunction
        apply_cls = AllWindowFunction if self._keyless else WindowFunction
        if isinstance(window_function, process_cls):
            return (window_function, ["process"]), "process"
        if isinstance(window_function, apply_cls):
            return (window_function, ["apply"]), "apply"
        if callable(window_function) and not isinstance(window_function, Function):
            # A plain function: called like WindowFunction.apply.
            return (window_function, ["apply"]), "apply"
        raise TypeError(
            f"{api} takes a {apply_cls.__name__} or {process_cls.__name__} as window function, "
            f"got {describe(window_function)}"
        )

    def _build(
        self,
        kind: str,
        style: str | None,
        parts: list[tuple[Any, list[str]] | None],
        name: str,
        function_name: str,
        output_type: TypeInformation | None,
    ) -> DataStream:
        from ferroflow.datastream.data_stream import DataStream

        stream = self._stream
        env = stream.get_execution_environment()
        t = Transformation(
            kind="window",
            name=name,
            inputs=[Input(p) for p in stream._parts],
            spec=FunctionsSpec(parts, env._job_parameters()),
            function_name=function_name,
            keyed=True,
            style=style,
            payload={
                "fn_kind": kind,
                "assigner": self._assigner._engine_spec(),
                "trigger": self._trigger._engine_spec() if self._trigger is not None else None,
                "allowed_lateness": self._allowed_lateness,
                "late_tag": self._late_tag.tag_id if self._late_tag is not None else None,
                "keyless": self._keyless,
            },
            output_type=output_type,
        )
        if self._keyless:
            t.parallelism = 1
            t.parallelism_fixed = True
        return DataStream(env, [t.main_part()], output_type)

    def reduce(self, reduce_function: Callable[[Any, Any], Any] | ReduceFunction, window_function: Any = None,
               output_type: TypeInformation | None = None) -> DataStream:
        """Combines each window's records incrementally with ``reduce_function``; the result (or,
        with ``window_function``, what that makes of it) is emitted when the window fires."""
        reduce_function = check_function(reduce_function, "reduce()", ReduceFunction, ["reduce"], 2, arguments="two values")
        window_part, style = self._window_fn_part(window_function, "reduce()")
        check_type_info(output_type)
        return self._build("reduce", style, [(reduce_function, ["reduce"]), window_part], "Window(Reduce)",
                           _function_name(reduce_function, "reduce"), output_type)

    def aggregate(self, aggregate_function: AggregateFunction, window_function: Any = None,
                  accumulator_type: TypeInformation | None = None,
                  output_type: TypeInformation | None = None) -> DataStream:
        """Adds each record to an accumulator (``create_accumulator``/``add``); when the window
        fires, ``get_result`` (then ``window_function``, if given) makes the result."""
        if not isinstance(aggregate_function, AggregateFunction) and not all(
            callable(getattr(aggregate_function, m, None)) for m in _AGGREGATE_METHODS
        ):
            raise TypeError(f"aggregate() takes an AggregateFunction, got {describe(aggregate_function)}")
        window_part, style = self._window_fn_part(window_function, "aggregate()")
        check_type_info(accumulator_type, "accumulator_type")
        check_type_info(output_type)
        return self._build("aggregate", style, [(aggregate_function, _AGGREGATE_METHODS), window_part],
                           "Window(Aggregate)", _function_name(aggregate_function, "add"), output_type)

    def process(self, process_window_function: Any, output_type: TypeInformation | None = None) -> DataStream:
        """Calls ``process(key, context, elements)`` with all of a window's records when it fires;
        ``context.window()`` is the window."""
        cls = ProcessAllWindowFunction if self._keyless else ProcessWindowFunction
        arity = 2 if self._keyless else 3
        function = check_function(process_window_function, "process()", cls, ["process"], arity,
                                  arguments="(key,) context and elements")
        check_type_info(output_type)
        methods = ["process", "clear"] if isinstance(function, Function) else ["process"]
        return self._build("process", None, [(function, methods), None] if len(methods) == 1 else [(function, methods)],
                           "Window(Process)", _function_name(function, "process"), output_type)

    def apply(self, window_function: Any, output_type: TypeInformation | None = None) -> DataStream:
        """Calls ``apply(key, window, inputs)`` with all of a window's records when it fires."""
        cls = AllWindowFunction if self._keyless else WindowFunction
        arity = 2 if self._keyless else 3
        function = check_function(window_function, "apply()", cls, ["apply"], arity, arguments="(key,) window and inputs")
        check_type_info(output_type)
        return self._build("apply", None, [(function, ["apply"])], "Window(Apply)", _function_name(function, "apply"),
                           output_type)


class AllWindowedStream(WindowedStream):
    """``stream.window_all(assigner)``: the whole stream in windows, in one subtask. Its window
    functions take no key (AllWindowFunction, ProcessAllWindowFunction)."""

    _keyless = True
