"""User functions as the engine receives them: checked when the pipeline is built, and made into
one instance per parallel subtask when the job starts."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Sequence
from typing import Any, Callable

from ferroflow import _engine
from ferroflow.datastream._row_outputs import convert_outputs
from ferroflow.datastream.checkpointed_function import (
    CheckpointedFunction,
    FunctionInitializationContext,
    FunctionSnapshotContext,
)
from ferroflow.datastream.functions import Function
from ferroflow.datastream.runtime_context import RuntimeContext

# What the engine passes to `instantiate`:
# (job_name, operator_name, task_name, subtask_index, parallelism, max_parallelism, attempt)
TaskInfo = tuple[str, str, str, int, int, int, int]


def describe(value: Any) -> str:
    """``type (repr)`` of a value, for error messages."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} ({text})"


class _Lifecycle:
    """``open()``/``close()`` of one subtask's Function instance; for a CheckpointedFunction,
    also ``initialize_state`` (before ``open``) with the subtask's operator state."""

    __slots__ = ("_context", "_function", "operator_state")

    def __init__(self, function: Function | None, context: RuntimeContext | None) -> None:
        self._function = function
        self._context = context
        #: The operator state of a CheckpointedFunction (set before ``open`` to restore it).
        self.operator_state: _engine.OperatorStateStore | None = None

    def open(self) -> None:
        function = self._function
        if function is None:
            return
        if isinstance(function, CheckpointedFunction):
            if self.operator_state is None:
                self.operator_state = _engine.OperatorStateStore()
            keyed = self._context._state if self._context is not None else None
            function.initialize_state(FunctionInitializationContext(self.operator_state, keyed))
        function.open(self._context)  # type: ignore[arg-type]

    def snapshot_state(self, directory: str, checkpoint_id: int, timestamp: int) -> int:
        """Lets a CheckpointedFunction update its operator state, then writes that state to
        ``directory``; returns the bytes written (0 for other functions)."""
        if not isinstance(self._function, CheckpointedFunction) or self.operator_state is None:
            return 0
        self._function.snapshot_state(FunctionSnapshotContext(checkpoint_id, timestamp))
        return self.operator_state.snapshot(directory)

    def finish(self) -> None:
        """The input ended: the function's ``finish()``, if it has one (Flink's
        ``SinkFunction.finish``)."""
        finish = getattr(self._function, "finish", None)
        if finish is not None:
            finish()

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        """A checkpoint completed: the function's ``notify_checkpoint_complete``, if it has one
        (Flink's ``CheckpointListener``). A job without checkpoints calls it once after its
        input ended, with ``END_OF_INPUT``."""
        notify = getattr(self._function, "notify_checkpoint_complete", None)
        if notify is not None:
            notify(checkpoint_id)

    def close(self) -> None:
        if self._function is not None:
            self._function.close()


class UdfSpec:
    """A user function of one operator: a Function instance whose methods ``methods`` the
    operator calls, or plain callables (one per method)."""

    def __init__(
        self,
        function: Any,
        methods: Sequence[str],
        job_parameters: dict[str, str] | None = None,
        outputs: tuple[str, Callable[[Any], Any]] | None = None,
    ) -> None:
        self.function = function
        self.methods = tuple(methods)
        self.job_parameters = job_parameters or {}
        #: ``(style, convert)``: the function's outputs go through ``convert`` (``_row_outputs``).
        self.outputs = outputs

    def instantiate(
        self, info: TaskInfo, state: Any = None, metric_group: Any = None
    ) -> tuple[tuple[Callable[..., Any], ...], _Lifecycle]:
        calls, lifecycle = self._instantiate(info, state, metric_group)
        if self.outputs is not None:
            style, convert = self.outputs
            calls = convert_outputs(style, calls, convert)
        return calls, lifecycle

    def _instantiate(
        self, info: TaskInfo, state: Any = None, metric_group: Any = None
    ) -> tuple[tuple[Callable[..., Any], ...], _Lifecycle]:
        """The callables and lifecycle of one subtask. With parallelism > 1 each subtask gets its
        own shallow copy of a Function instance (see ``subtask_copy``). ``state`` is the keyed
        state of a keyed operator, and ``metric_group`` the operator's metric group, for its
        runtime context."""
        _job, _operator, task_name, index, parallelism, max_parallelism, attempt = info
        function = self.function
        if isinstance(function, Function):
            instance = function if parallelism == 1 else subtask_copy(function)
            context = RuntimeContext(
                task_name, index, parallelism, max_parallelism, attempt, self.job_parameters, state, metric_group
            )
            calls = tuple(getattr(instance, m) for m in self.methods)
            return calls, _Lifecycle(instance, context)
        if isinstance(function, tuple):
            return function, _Lifecycle(None, None)
        return (function,), _Lifecycle(None, None)


def subtask_copy(obj: Any) -> Any:
    """A subtask's own copy of a user object (a Function, a Trigger): a shallow copy, so
    attributes set in ``open`` (or later) are per subtask, while objects the instance held before
    (given to its constructor, or made in ``__init__``) are shared by the subtasks, as
    everything runs in one process. Unlike PyFlink, where each subtask unpickles its own copy,
    a list given to a function can collect from every subtask; per-subtask containers belong
    in ``open``."""
    return copy.copy(obj)


def _check_arity(call: Callable[..., Any], arguments: int, api: str, what: str) -> None:
    """Raises TypeError when ``call`` cannot take ``arguments`` positional arguments."""
    try:
        signature = inspect.signature(call)
    except (TypeError, ValueError):
        return  # some builtins have no signature: nothing to check
    try:
        signature.bind(*([None] * arguments))
    except TypeError:
        name = getattr(call, "__qualname__", None) or repr(call)
        raise TypeError(
            f"{api}: {name}{signature} cannot be called with {arguments} argument"
            f"{'s' if arguments != 1 else ''} ({what})"
        ) from None


def check_function(
    function: Any,
    api: str,
    function_class: type[Function],
    methods: Sequence[str],
    arity: int = 1,
    method_arity: int | None = None,
    arguments: str = "the value",
) -> Any:
    """Checks that ``function`` is a callable taking ``arity`` arguments (or, for several
    methods, a tuple of such callables) or an instance of ``function_class`` whose ``methods``
    take ``method_arity`` (default: ``arity``); raises TypeError otherwise. ``arguments`` says
    what the arguments are, for the message."""
    method_arity = arity if method_arity is None else method_arity
    expected = f"a callable or a {function_class.__name__} instance"
    if len(methods) > 1:
        expected = f"a {function_class.__name__} instance or a tuple of {len(methods)} callables"
    if isinstance(function, type) and issubclass(function, Function):
        raise TypeError(
            f"{api} expects {expected}, but got the class {function.__name__}: "
            f"pass an instance, {function.__name__}()"
        )
    if isinstance(function, Function):
        missing = [m for m in methods if not callable(getattr(function, m, None))]
        if missing or getattr(function, "__abstractmethods__", None):
            raise TypeError(
                f"{api} expects {expected}; {type(function).__name__} does not implement "
                f"{', '.join(missing or sorted(function.__abstractmethods__))}"
            )
        for m in methods:
            _check_arity(getattr(function, m), method_arity, api, arguments)
        return function
    if len(methods) > 1:
        if isinstance(function, tuple) and len(function) == len(methods) and all(callable(f) for f in function):
            calls = function
        elif all(callable(getattr(function, m, None)) for m in methods):
            # Any object with the methods works too (duck typing, as in Python).
            calls = tuple(getattr(function, m) for m in methods)
        else:
            raise TypeError(f"{api} expects {expected}, got {describe(function)}")
        for call in calls:
            _check_arity(call, arity, api, arguments)
        return calls
    if callable(function):
        _check_arity(function, arity, api, arguments)
        return function
    method = getattr(function, methods[0], None)
    if callable(method):
        _check_arity(method, method_arity, api, arguments)
        return method
    raise TypeError(f"{api} expects {expected}, got {describe(function)}")


class _Lifecycles:
    """The lifecycle of several functions of one operator, in order. The CheckpointedFunctions
    among them share one operator state store (an operator instance has one)."""

    __slots__ = ("_parts",)

    def __init__(self, parts: list[_Lifecycle]) -> None:
        self._parts = parts

    @property
    def operator_state(self) -> _engine.OperatorStateStore | None:
        return next((p.operator_state for p in self._parts if p.operator_state is not None), None)

    @operator_state.setter
    def operator_state(self, store: _engine.OperatorStateStore | None) -> None:
        for p in self._parts:
            p.operator_state = store

    def _checkpointed(self) -> list[CheckpointedFunction]:
        return [p._function for p in self._parts if isinstance(p._function, CheckpointedFunction)]

    def open(self) -> None:
        if self.operator_state is None and self._checkpointed():
            self.operator_state = _engine.OperatorStateStore()
        for p in self._parts:
            p.open()

    def snapshot_state(self, directory: str, checkpoint_id: int, timestamp: int) -> int:
        """Like ``_Lifecycle.snapshot_state``, for every CheckpointedFunction, into one store."""
        checkpointed = self._checkpointed()
        store = self.operator_state
        if not checkpointed or store is None:
            return 0
        for function in checkpointed:
            function.snapshot_state(FunctionSnapshotContext(checkpoint_id, timestamp))
        return store.snapshot(directory)

    def finish(self) -> None:
        for p in self._parts:
            p.finish()

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        for p in self._parts:
            p.notify_checkpoint_complete(checkpoint_id)

    def close(self) -> None:
        for p in self._parts:
            p.close()


class FunctionsSpec:
    """Several user functions of one operator (a reduce function and a window function, say).
    Each part is ``(function, methods)`` or None; the callables come out in order, a plain
    callable standing for the first of its methods and None for the others."""

    def __init__(self, parts: Sequence[tuple[Any, Sequence[str]] | None], job_parameters: dict[str, str] | None = None) -> None:
        self.parts = list(parts)
        self.job_parameters = job_parameters or {}

    def instantiate(self, info: TaskInfo, state: Any = None, metric_group: Any = None) -> tuple[tuple[Any, ...], _Lifecycles]:
        calls: list[Any] = []
        lifecycles: list[_Lifecycle] = []
        for part in self.parts:
            if part is None:
                calls.append(None)
                continue
            function, methods = part
            made, lifecycle = UdfSpec(function, methods, self.job_parameters).instantiate(info, state, metric_group)
            calls.extend(made)
            calls.extend([None] * (len(methods) - len(made)))
            lifecycles.append(lifecycle)
        return tuple(calls), _Lifecycles(lifecycles)
