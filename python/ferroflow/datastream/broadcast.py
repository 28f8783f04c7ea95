"""Broadcast streams: ``rules = other.broadcast(descriptor)``, then
``ds.connect(rules).process(BroadcastProcessFunction)`` (or a KeyedBroadcastProcessFunction after
``key_by``). Every parallel instance of the function gets every broadcast record and keeps its
own broadcast state (a dict per MapStateDescriptor); the other stream's records are partitioned
as they come and read that state. The function runs as a two-input process function whose first
input is the stream and whose second is the broadcast stream.

In checkpoints each parallel instance writes its copy of the broadcast states (as operator state
of the broadcast kind); on restore each new instance gets the copy of one old instance, round
robin (new instance ``i`` that of old instance ``i % old parallelism``), as in Flink: the copies
are expected to be equal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ferroflow.datastream._checks import check_type_info
from ferroflow.datastream._transformations import Input
from ferroflow.datastream._udf import describe, subtask_copy
from ferroflow.datastream.broadcast_state import BroadcastState, ReadOnlyBroadcastState
from ferroflow.datastream.checkpointed_function import (
    CheckpointedFunction,
    FunctionInitializationContext,
    FunctionSnapshotContext,
)
from ferroflow.datastream.functions import (
    BaseBroadcastProcessFunction,
    BroadcastProcessFunction,
    CoProcessFunction,
    KeyedBroadcastProcessFunction,
    KeyedCoProcessFunction,
)
from ferroflow.datastream.state import MapStateDescriptor

if TYPE_CHECKING:
    from ferroflow.common.typeinfo import TypeInformation
    from ferroflow.datastream.data_stream import DataStream
    from ferroflow.datastream.time_domain import TimeDomain

__all__ = ["BroadcastConnectedStream", "BroadcastStream"]


def check_broadcast_descriptors(descriptors: tuple[Any, ...]) -> tuple[MapStateDescriptor, ...]:
    for d in descriptors:
        if not isinstance(d, MapStateDescriptor):
            raise TypeError(f"broadcast() takes MapStateDescriptors, got {describe(d)}")
    names = [d.name for d in descriptors]
    if len(set(names)) != len(names):
        raise ValueError(f"broadcast() takes descriptors with different names, got {names}")
    return descriptors


class BroadcastStream:
    """A stream sent whole to every parallel instance of the function it is connected to, with
    the broadcast states that function keeps. Connect a stream to it: ``ds.connect(this)``."""

    def __init__(self, stream: DataStream, descriptors: tuple[MapStateDescriptor, ...]) -> None:
        self._stream = stream
        self._descriptors = descriptors


class BroadcastConnectedStream:
    """A stream connected to a broadcast stream: ``process(BroadcastProcessFunction)``, or
    ``process(KeyedBroadcastProcessFunction)`` when the stream is keyed."""

    def __init__(self, stream: DataStream, broadcast_stream: BroadcastStream) -> None:
        if stream._env is not broadcast_stream._stream._env:
            raise ValueError("connect() of streams from different environments")
        self._stream = stream
        self._broadcast = broadcast_stream

    def process(
        self,
        func: BroadcastProcessFunction | KeyedBroadcastProcessFunction,
        output_type: TypeInformation | None = None,
    ) -> DataStream:
        from ferroflow.datastream.data_stream import DataStream, KeyedStream

        keyed = isinstance(self._stream, KeyedStream)
        expected = KeyedBroadcastProcessFunction if keyed else BroadcastProcessFunction
        if not isinstance(func, expected):
            side = "a keyed stream" if keyed else "a stream that is not keyed"
            raise TypeError(f"process() of {side} connected to a broadcast stream takes a {expected.__name__}, "
                            f"got {describe(func)}")
        output_type = check_type_info(output_type)
        descriptors = self._broadcast._descriptors
        adapter: Any = _KeyedBroadcastAdapter(func, descriptors) if keyed else _BroadcastAdapter(func, descriptors)
        methods = ["process_element1", "process_element2", *(["on_timer"] if keyed else [])]
        inputs = [Input(p, 0) for p in self._stream._parts] + [Input(p, 1) for p in self._broadcast._stream._parts]
        name = "KeyedBroadcastProcess" if keyed else "BroadcastProcess"
        t = self._stream._udf("process", name, adapter, methods, output_type, inputs=inputs, keyed=keyed)
        t.function_name = f"{type(func).__qualname__}.process_element"
        if keyed:
            t.has_on_timer = True
        return DataStream(self._stream._env, [t.main_part()], output_type)


class _States:
    """One parallel instance's broadcast states, by descriptor name."""

    def __init__(self, descriptors: tuple[MapStateDescriptor, ...]) -> None:
        self.entries: dict[str, dict[Any, Any]] = {d.name: {} for d in descriptors}

    def lookup(self, state_descriptor: Any) -> tuple[str, dict[Any, Any]]:
        if not isinstance(state_descriptor, MapStateDescriptor):
            raise TypeError(f"get_broadcast_state() takes a MapStateDescriptor, got {describe(state_descriptor)}")
        entries = self.entries.get(state_descriptor.name)
        if entries is None:
            raise ValueError(
                f"no broadcast state '{state_descriptor.name}': the broadcast stream was made with "
                f"broadcast({', '.join(repr(n) for n in self.entries) or 'no descriptors'})"
            )
        return state_descriptor.name, entries


class _RecordContext:
    """What both contexts take from the engine's context of the record, and the states."""

    __slots__ = ()

    def __init__(self, states: _States) -> None:
        self._states = states
        self._ctx: Any = None

    def timestamp(self) -> int | None:
        return self._ctx.timestamp()

    def current_processing_time(self) -> int:
        return self._ctx.current_processing_time()

    def current_watermark(self) -> int:
        return self._ctx.current_watermark()


class _Context(_RecordContext, KeyedBroadcastProcessFunction.Context):
    """``process_broadcast_element``'s context: the broadcast state can be changed; with a
    keyed stream, every key's keyed state can be reached (``apply_to_keyed_state``)."""

    __slots__ = ("_ctx", "_keyed", "_states")

    def __init__(self, states: _States, keyed: Any = None) -> None:
        super().__init__(states)
        self._keyed = keyed

    def get_broadcast_state(self, state_descriptor: Any) -> BroadcastState:
        return BroadcastState(*self._states.lookup(state_descriptor))

    def apply_to_keyed_state(self, state_descriptor: Any, function: Any) -> None:
        if self._keyed is None:
            raise TypeError("apply_to_keyed_state() is for a KeyedBroadcastProcessFunction (a keyed stream)")
        if not callable(function):
            raise TypeError(f"apply_to_keyed_state() takes a function of (key, state), got {describe(function)}")
        state = self._keyed.state(state_descriptor)
        try:
            for key in self._keyed.keys_with_state(state_descriptor):
                self._keyed.set_current_key(key)
                function(key, state)
        finally:
            self._keyed.set_current_key(None)


class _ReadOnlyContext(_RecordContext, KeyedBroadcastProcessFunction.OnTimerContext):
    """``process_element``'s (and ``on_timer``'s) context: the broadcast state read-only; with a
    keyed stream also the key, timers and the time domain of a timer."""

    __slots__ = ("_ctx", "_states")

    def get_broadcast_state(self, state_descriptor: Any) -> ReadOnlyBroadcastState:
        return ReadOnlyBroadcastState(*self._states.lookup(state_descriptor))

    def timer_service(self) -> Any:
        return self._ctx.timer_service()

    def get_current_key(self) -> Any:
        return self._ctx.get_current_key()

    def time_domain(self) -> TimeDomain:
        return self._ctx.time_domain()


class _BroadcastAdapter(CoProcessFunction, CheckpointedFunction):
    """Runs a BroadcastProcessFunction as a two-input process function. As a
    CheckpointedFunction it keeps the broadcast states in checkpoints (and passes
    ``initialize_state``/``snapshot_state`` on to a user function that is one too)."""

    def __init__(self, function: BaseBroadcastProcessFunction, descriptors: tuple[MapStateDescriptor, ...]) -> None:
        self._template = function
        self._descriptors = descriptors
        self._init: FunctionInitializationContext | None = None

    def initialize_state(self, context: FunctionInitializationContext) -> None:
        # Called before open(): the states, and the user's function, are made there.
        self._init = context

    def open(self, runtime_context: Any) -> None:
        # This instance is already the subtask's own; the user's function gets the same.
        parallel = runtime_context.get_number_of_parallel_subtasks() > 1
        self._function = subtask_copy(self._template) if parallel else self._template
        self._states = states = _States(self._descriptors)
        self._checkpointed: dict[str, Any] = {}
        if self._init is not None:
            store = self._init.get_operator_state_store()
            for name, entries in states.entries.items():
                pairs = self._checkpointed[name] = store.get_broadcast_list_state(name)
                entries.update(pairs.get())  # restored: the (key, value) pairs of one old copy
            if isinstance(self._function, CheckpointedFunction):
                self._function.initialize_state(self._init)
        self._read_only = _ReadOnlyContext(states)
        self._writable = _Context(states, runtime_context._state)
        self._function.open(runtime_context)

    def snapshot_state(self, context: FunctionSnapshotContext) -> None:
        for name, entries in self._states.entries.items():
            self._checkpointed[name].update(list(entries.items()))
        if isinstance(self._function, CheckpointedFunction):
            self._function.snapshot_state(context)

    def close(self) -> None:
        self._function.close()

    def process_element1(self, value: Any, ctx: Any) -> Any:
        self._read_only._ctx = ctx
        return self._function.process_element(value, self._read_only)

    def process_element2(self, value: Any, ctx: Any) -> Any:
        self._writable._ctx = ctx
        return self._function.process_broadcast_element(value, self._writable)


class _KeyedBroadcastAdapter(_BroadcastAdapter, KeyedCoProcessFunction):
    """Runs a KeyedBroadcastProcessFunction as a keyed two-input process function."""

    def on_timer(self, timestamp: int, ctx: Any) -> Any:
        self._read_only._ctx = ctx
        return self._function.on_timer(timestamp, self._read_only)  # type: ignore[attr-defined]
