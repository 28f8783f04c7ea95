"""Triggers: when a window's contents are evaluated (FIRE) and dropped (PURGE). The built-in ones
run natively in the engine, which reads each through ``_engine_spec()``; a user's own Trigger
subclass is called from the engine. Imported from ``ferroflow.datastream.window``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import Enum
from typing import TYPE_CHECKING, Any, Generic

from ferroflow.common._durations import to_millis
from ferroflow.datastream._window_types import T, W, _count, _describe

if TYPE_CHECKING:
    from typing_extensions import Self


class TriggerResult(Enum):
    """What a trigger decides for a window. FIRE evaluates the window function and keeps the
    contents; PURGE drops the contents; FIRE_AND_PURGE does both; CONTINUE does nothing. Firing a
    window without contents emits nothing."""

    CONTINUE = (False, False)
    FIRE_AND_PURGE = (True, True)
    FIRE = (True, False)
    PURGE = (False, True)

    def is_fire(self) -> bool:
        return self.value[0]

    def is_purge(self) -> bool:
        return self.value[1]


class Trigger(ABC, Generic[T, W]):
    """Decides when a window (of one key) is evaluated and when its contents are dropped.

    Triggers keep no state in attributes (one instance serves every key and window): they use
    timers and ``ctx.get_partitioned_state(descriptor)``. To be used with a merging assigner
    (sessions) a trigger returns True from ``can_merge()`` and implements ``on_merge``.
    """

    class TriggerContext(ABC):
        """Given to the trigger's methods: clocks, timers and state of the current key and
        window."""

        @abstractmethod
        def get_current_processing_time(self) -> int: ...

        def get_metric_group(self) -> Any:
            """The metric group of the window operator (not available yet)."""
            raise NotImplementedError("metric groups are not available in ferroflow yet")

        @abstractmethod
        def get_current_watermark(self) -> int: ...

        @abstractmethod
        def register_processing_time_timer(self, time: int) -> None:
            """``on_processing_time(time, ...)`` is called when the wall clock passes ``time``."""

        @abstractmethod
        def register_event_time_timer(self, time: int) -> None:
            """``on_event_time(time, ...)`` is called when the watermark passes ``time``."""

        @abstractmethod
        def delete_processing_time_timer(self, time: int) -> None: ...

        @abstractmethod
        def delete_event_time_timer(self, time: int) -> None: ...

        @abstractmethod
        def get_partitioned_state(self, state_descriptor: Any) -> Any:
            """The state ``state_descriptor`` names, scoped to the current key and window."""

    class OnMergeContext(TriggerContext):
        """Given to ``on_merge``: can also merge the merged windows' state into the new one."""

        @abstractmethod
        def merge_partitioned_state(self, state_descriptor: Any) -> None: ...

    @abstractmethod
    def on_element(self, element: T, timestamp: int, window: W, ctx: Trigger.TriggerContext) -> TriggerResult:
        """Called for every element added to ``window``."""

    @abstractmethod
    def on_processing_time(self, time: int, window: W, ctx: Trigger.TriggerContext) -> TriggerResult:
        """Called when a processing-time timer registered for ``window`` fires."""

    @abstractmethod
    def on_event_time(self, time: int, window: W, ctx: Trigger.TriggerContext) -> TriggerResult:
        """Called when an event-time timer registered for ``window`` fires."""

    def can_merge(self) -> bool:
        """True if the trigger supports merging windows (and implements ``on_merge``)."""
        return False

    def on_merge(self, window: W, ctx: Trigger.OnMergeContext) -> None:
        """Called when windows were merged into ``window``; re-registers the timers it needs."""
        raise NotImplementedError(f"{type(self).__name__} does not support merging windows (can_merge() is False)")

    @abstractmethod
    def clear(self, window: W, ctx: Trigger.TriggerContext) -> None:
        """Called when ``window`` is discarded: deletes its timers and state."""

    def _engine_spec(self) -> tuple[Any, ...]:
        """How the engine runs this trigger: ``("python", self)`` calls its methods."""
        return ("python", self)


_TRIGGER_METHODS = ("on_element", "on_processing_time", "on_event_time", "can_merge", "on_merge", "clear")


class _BuiltinTrigger(Trigger[Any, Any]):
    """A trigger the engine runs natively. A subclass that overrides a trigger method is run as a
    user trigger instead."""

    _builtin: type

    def _native(self) -> bool:
        cls = type(self)
        return all(getattr(cls, m) is getattr(self._builtin, m) for m in _TRIGGER_METHODS)

    def _native_spec(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def _engine_spec(self) -> tuple[Any, ...]:
        return self._native_spec() if self._native() else ("python", self)

    def _runs_in_engine(self, method: str) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__}.{method}() keeps its state in the engine and is not callable from Python"
        )

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._native_spec() == other._native_spec()  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        """``Name()``; triggers with parameters show them."""
        return f"{type(self).__name__}()"

    def __hash__(self) -> int:
        return hash((type(self), self._native_spec()))


class EventTimeTrigger(_BuiltinTrigger):
    """Fires a window once the watermark passes its end (``max_timestamp()``), and again for
    every late element within the allowed lateness. The default trigger of event-time
    assigners."""

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        if window.max_timestamp() <= ctx.get_current_watermark():
            return TriggerResult.FIRE
        ctx.register_event_time_timer(window.max_timestamp())
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.FIRE if time == window.max_timestamp() else TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: Any, ctx: Trigger.OnMergeContext) -> None:
        if window.max_timestamp() > ctx.get_current_watermark():
            ctx.register_event_time_timer(window.max_timestamp())

    def clear(self, window: Any, ctx: Trigger.TriggerContext) -> None:
        ctx.delete_event_time_timer(window.max_timestamp())

    @staticmethod
    def create() -> EventTimeTrigger:
        return EventTimeTrigger()

    def _native_spec(self) -> tuple[Any, ...]:
        return ("event_time",)


EventTimeTrigger._builtin = EventTimeTrigger


class ProcessingTimeTrigger(_BuiltinTrigger):
    """Fires a window once the wall clock passes its end (``max_timestamp()``). The default
    trigger of processing-time assigners."""

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        ctx.register_processing_time_timer(window.max_timestamp())
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.FIRE

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: Any, ctx: Trigger.OnMergeContext) -> None:
        if window.max_timestamp() > ctx.get_current_processing_time():
            ctx.register_processing_time_timer(window.max_timestamp())

    def clear(self, window: Any, ctx: Trigger.TriggerContext) -> None:
        ctx.delete_processing_time_timer(window.max_timestamp())

    @staticmethod
    def create() -> ProcessingTimeTrigger:
        return ProcessingTimeTrigger()

    def _native_spec(self) -> tuple[Any, ...]:
        return ("processing_time",)


ProcessingTimeTrigger._builtin = ProcessingTimeTrigger


def _interval(value: Any, what: str) -> int:
    millis = to_millis(value, what)
    if millis <= 0:
        raise ValueError(f"{what} must be greater than zero, got {millis} ms")
    return millis


class _ContinuousTrigger(_BuiltinTrigger):
    """Fires a window every ``interval`` of one clock; the engine runs it."""

    _spec_name = ""

    def __init__(self, interval: Any) -> None:
        self.interval = _interval(interval, f"{type(self).__name__} interval")

    @classmethod
    def of(cls, interval: Any) -> Self:
        """Takes a Time, Duration, timedelta or int milliseconds."""
        return cls(interval)

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return self._runs_in_engine("on_element")

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: Any, ctx: Trigger.OnMergeContext) -> None:
        self._runs_in_engine("on_merge")

    def clear(self, window: Any, ctx: Trigger.TriggerContext) -> None:
        self._runs_in_engine("clear")

    def _native_spec(self) -> tuple[Any, ...]:
        return (self._spec_name, self.interval)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.interval})"


class ContinuousEventTimeTrigger(_ContinuousTrigger):
    """Fires a window every ``interval`` of event time (as the watermark passes each multiple of
    the interval) and once more when the watermark passes the window's end."""

    _spec_name = "continuous_event_time"

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return self._runs_in_engine("on_event_time")


ContinuousEventTimeTrigger._builtin = ContinuousEventTimeTrigger


class ContinuousProcessingTimeTrigger(_ContinuousTrigger):
    """Fires a window every ``interval`` of wall-clock time while it has contents."""

    _spec_name = "continuous_processing_time"

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return self._runs_in_engine("on_processing_time")

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE


ContinuousProcessingTimeTrigger._builtin = ContinuousProcessingTimeTrigger


class PurgingTrigger(_BuiltinTrigger):
    """Wraps a trigger so that each FIRE becomes FIRE_AND_PURGE: the window's contents are
    dropped after every evaluation."""

    def __init__(self, nested_trigger: Trigger[Any, Any]) -> None:
        if isinstance(nested_trigger, type) and issubclass(nested_trigger, Trigger):
            raise TypeError(
                f"PurgingTrigger.of() takes a Trigger instance, got the class {nested_trigger.__name__}: "
                f"pass {nested_trigger.__name__}.create() or an instance"
            )
        if not isinstance(nested_trigger, Trigger):
            raise TypeError(f"PurgingTrigger.of() takes a Trigger, got {_describe(nested_trigger)}")
        self.nested_trigger = nested_trigger

    @staticmethod
    def of(nested_trigger: Trigger[Any, Any]) -> PurgingTrigger:
        return PurgingTrigger(nested_trigger)

    @staticmethod
    def _purging(result: TriggerResult) -> TriggerResult:
        return TriggerResult.FIRE_AND_PURGE if result.is_fire() else result

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return self._purging(self.nested_trigger.on_element(element, timestamp, window, ctx))

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return self._purging(self.nested_trigger.on_processing_time(time, window, ctx))

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return self._purging(self.nested_trigger.on_event_time(time, window, ctx))

    def can_merge(self) -> bool:
        return self.nested_trigger.can_merge()

    def on_merge(self, window: Any, ctx: Trigger.OnMergeContext) -> None:
        self.nested_trigger.on_merge(window, ctx)

    def clear(self, window: Any, ctx: Trigger.TriggerContext) -> None:
        self.nested_trigger.clear(window, ctx)

    def _native_spec(self) -> tuple[Any, ...]:
        return ("purging", self.nested_trigger._engine_spec())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.nested_trigger!r})"


PurgingTrigger._builtin = PurgingTrigger


class CountTrigger(_BuiltinTrigger):
    """Fires a window each time ``window_size`` more elements have been added to it. The default
    trigger of count windows."""

    def __init__(self, window_size: int) -> None:
        self._window_size = _count(window_size, "CountTrigger count")

    @staticmethod
    def of(window_size: int) -> CountTrigger:
        return CountTrigger(window_size)

    def get_count(self) -> int:
        """The number of elements that fires the window."""
        return self._window_size

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return self._runs_in_engine("on_element")

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: Any, ctx: Trigger.OnMergeContext) -> None:
        self._runs_in_engine("on_merge")

    def clear(self, window: Any, ctx: Trigger.TriggerContext) -> None:
        self._runs_in_engine("clear")

    def _native_spec(self) -> tuple[Any, ...]:
        return ("count", self._window_size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._window_size})"


CountTrigger._builtin = CountTrigger


class NeverTrigger(_BuiltinTrigger):
    """Never fires. The default trigger of ``GlobalWindows``: set another with
    ``.trigger(...)``."""

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_merge(self, window: Any, ctx: Trigger.OnMergeContext) -> None:
        pass

    def clear(self, window: Any, ctx: Trigger.TriggerContext) -> None:
        pass

    def _native_spec(self) -> tuple[Any, ...]:
        return ("never",)


NeverTrigger._builtin = NeverTrigger


# ------------------------------------------------------------------------------------------------
# Assigners
