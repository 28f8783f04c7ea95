"""Keyed state: the descriptors that name a state, and what a keyed function gets back from
``runtime_context.get_state(descriptor)`` and friends.

State is scoped to the current key (and, for ``window_state()``, the current window): a keyed
function sees the state of the record's key. It lives in memory, as Python objects held as they
are (no serialization on access)."""

from __future__ import annotations

from abc import ABC
from enum import Enum
from typing import Any, Callable

from ferroflow._engine import AggregatingState, ListState, MapState, OperatorStateStore, ReducingState, ValueState
from ferroflow.common._durations import to_millis
from ferroflow.common.time import Time
from ferroflow.common.typeinfo import TypeInformation
from ferroflow.datastream._udf import check_function, describe
from ferroflow.datastream.broadcast_state import BroadcastState, ReadOnlyBroadcastState
from ferroflow.datastream.functions import AggregateFunction, ReduceFunction

#: Keys the heap backend checks for expired entries per state access, as in Flink.
DEFAULT_INCREMENTAL_CLEANUP_SIZE = 5

__all__ = [
    "AggregatingState",
    "AggregatingStateDescriptor",
    "BroadcastState",
    "ListState",
    "ListStateDescriptor",
    "MapState",
    "MapStateDescriptor",
    "OperatorStateStore",
    "ReadOnlyBroadcastState",
    "ReducingState",
    "ReducingStateDescriptor",
    "StateDescriptor",
    "StateTtlConfig",
    "ValueState",
    "ValueStateDescriptor",
]


class StateDescriptor(ABC):
    """Names a state and says what it holds."""

    _kind = ""

    def __init__(self, name: str, type_info: TypeInformation | None = None) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"a state name must be a non-empty str, got {describe(name)}")
        if type_info is not None and not isinstance(type_info, TypeInformation):
            raise TypeError(f"a state's type must be a TypeInformation, got {describe(type_info)}")
        self.name = name
        self.type_info = type_info

    def get_name(self) -> str:
        return self.name

    def enable_time_to_live(self, ttl_config: StateTtlConfig) -> None:
        """Entries expire ``ttl`` of processing time after they were last written (or, with
        ``update_ttl_on_read_and_write``, read). List elements and map entries expire one by one."""
        if not isinstance(ttl_config, StateTtlConfig):
            raise TypeError(f"enable_time_to_live() takes a StateTtlConfig, got {describe(ttl_config)}")
        self.ttl_config = ttl_config

    def _engine_spec(self) -> tuple[Any, ...]:
        """``(kind, name, function, ttl)`` for the engine; ttl is ``StateTtlConfig._engine_spec()``
        or None."""
        return (self._kind, self.name, None, self._ttl_spec())

    def _ttl_spec(self) -> tuple[int, bool, bool] | None:
        config = getattr(self, "ttl_config", None)
        return config._engine_spec() if config is not None and config.is_enabled() else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class ValueStateDescriptor(StateDescriptor):
    """One value per key: ``value()``, ``update(v)``, ``clear()``."""

    _kind = "value"

    def __init__(self, name: str, value_type_info: TypeInformation | None = None) -> None:
        super().__init__(name, value_type_info)


class ListStateDescriptor(StateDescriptor):
    """A list per key: ``get()``, ``add(v)``, ``add_all(vs)``, ``update(vs)``, ``clear()``."""

    _kind = "list"

    def __init__(self, name: str, elem_type_info: TypeInformation | None = None) -> None:
        super().__init__(name, elem_type_info)


class MapStateDescriptor(StateDescriptor):
    """A map per key: ``get``, ``put``, ``put_all``, ``remove``, ``contains``, ``keys``,
    ``values``, ``items``, ``is_empty``, ``clear``, and ``[]``/``in``/iteration."""

    _kind = "map"

    def __init__(
        self,
        name: str,
        key_type_info: TypeInformation | None = None,
        value_type_info: TypeInformation | None = None,
    ) -> None:
        super().__init__(name, value_type_info)
        if key_type_info is not None and not isinstance(key_type_info, TypeInformation):
            raise TypeError(f"a map state's key type must be a TypeInformation, got {describe(key_type_info)}")
        self.key_type_info = key_type_info


class ReducingStateDescriptor(StateDescriptor):
    """A value per key that ``add(v)`` combines with ``reduce_function``: ``get()``, ``add(v)``,
    ``clear()``."""

    _kind = "reducing"

    def __init__(
        self,
        name: str,
        reduce_function: Callable[[Any, Any], Any] | ReduceFunction,
        type_info: TypeInformation | None = None,
    ) -> None:
        super().__init__(name, type_info)
        function = check_function(reduce_function, "ReducingStateDescriptor", ReduceFunction, ["reduce"], 2,
                                  arguments="two values")
        self.reduce_function = function.reduce if isinstance(function, ReduceFunction) else function

    def _engine_spec(self) -> tuple[Any, ...]:
        return (self._kind, self.name, self.reduce_function, self._ttl_spec())


class AggregatingStateDescriptor(StateDescriptor):
    """An accumulator per key that ``add(v)`` feeds (``AggregateFunction.add``); ``get()`` is
    ``get_result(accumulator)``."""

    _kind = "aggregating"

    def __init__(self, name: str, agg_function: AggregateFunction, state_type_info: TypeInformation | None = None) -> None:
        super().__init__(name, state_type_info)
        if not all(callable(getattr(agg_function, m, None)) for m in ("create_accumulator", "add", "get_result")):
            raise TypeError(f"AggregatingStateDescriptor takes an AggregateFunction, got {describe(agg_function)}")
        self.agg_function = agg_function

    def _engine_spec(self) -> tuple[Any, ...]:
        return (self._kind, self.name, self.agg_function, self._ttl_spec())


class StateTtlConfig:
    """How state entries expire: after ``ttl`` of processing time since they were last written
    (``OnCreateAndWrite``, the default) or also read (``OnReadAndWrite``). Expired entries are not
    returned (``NeverReturnExpired``, the default) and are dropped when they are next touched;
    with ``ReturnExpiredIfNotCleanedUp`` they are returned until cleaned up."""

    class UpdateType(Enum):
        Disabled = 0
        OnCreateAndWrite = 1
        OnReadAndWrite = 2

    class StateVisibility(Enum):
        ReturnExpiredIfNotCleanedUp = 0
        NeverReturnExpired = 1

    class TtlTimeCharacteristic(Enum):
        ProcessingTime = 0

    class CleanupStrategies:
        """How expired entries are cleaned up besides when they are touched. In the background
        (the default): on the heap, each state access also checks a few other keys (5, or
        ``cleanup_incrementally``'s size); on RocksDB, compactions drop expired entries (the
        compaction filter). ``cleanup_full_snapshot``: heap snapshots leave expired entries
        out."""

        def __init__(self, in_background: bool, full_snapshot: bool, incremental: tuple[int, bool] | None,
                     compact_filter: int | None) -> None:
            self._background = in_background
            self._full_snapshot = full_snapshot
            self._incremental = incremental
            self._compact_filter = compact_filter

        def is_cleanup_in_background(self) -> bool:
            return self._background

        def in_full_snapshot(self) -> bool:
            return self._full_snapshot

        def get_incremental_cleanup_strategy(self) -> tuple[int, bool] | None:
            return self._incremental

        def get_rocksdb_compact_filter_cleanup_strategy(self) -> int | None:
            return self._compact_filter

    def __init__(
        self,
        update_type: StateTtlConfig.UpdateType,
        state_visibility: StateTtlConfig.StateVisibility,
        ttl_time_characteristic: StateTtlConfig.TtlTimeCharacteristic,
        ttl: Time,
        cleanup_strategies: StateTtlConfig.CleanupStrategies,
    ) -> None:
        self._update_type = update_type
        self._visibility = state_visibility
        self._characteristic = ttl_time_characteristic
        self._ttl = ttl
        self._cleanup = cleanup_strategies

    @staticmethod
    def new_builder(ttl: Any) -> StateTtlConfig.Builder:
        """A builder for entries that live ``ttl`` (Time, Duration, timedelta or int ms)."""
        return StateTtlConfig.Builder(ttl)

    def get_update_type(self) -> StateTtlConfig.UpdateType:
        return self._update_type

    def get_state_visibility(self) -> StateTtlConfig.StateVisibility:
        return self._visibility

    def get_ttl(self) -> Time:
        return self._ttl

    def get_ttl_time_characteristic(self) -> StateTtlConfig.TtlTimeCharacteristic:
        return self._characteristic

    def is_enabled(self) -> bool:
        return self._update_type != StateTtlConfig.UpdateType.Disabled

    def get_cleanup_strategies(self) -> StateTtlConfig.CleanupStrategies:
        return self._cleanup

    def _engine_spec(self) -> tuple[int, bool, bool, int, bool]:
        """``(ttl_ms, update_on_read, return_expired, keys checked per access on the heap,
        full-snapshot cleanup)``. RocksDB's compactions always drop expired entries."""
        cleanup = self._cleanup
        incremental = cleanup.get_incremental_cleanup_strategy()
        if incremental is not None:
            per_access = incremental[0]
        else:
            per_access = DEFAULT_INCREMENTAL_CLEANUP_SIZE if cleanup.is_cleanup_in_background() else 0
        return (
            self._ttl.to_milliseconds(),
            self._update_type == StateTtlConfig.UpdateType.OnReadAndWrite,
            self._visibility == StateTtlConfig.StateVisibility.ReturnExpiredIfNotCleanedUp,
            per_access,
            cleanup.in_full_snapshot(),
        )

    def __repr__(self) -> str:
        return (
            f"StateTtlConfig(ttl={self._ttl}, update_type={self._update_type.name}, "
            f"visibility={self._visibility.name})"
        )

    class Builder:
        def __init__(self, ttl: Any) -> None:
            self._ttl = Time.milliseconds(self._millis(ttl))
            self._update_type = StateTtlConfig.UpdateType.OnCreateAndWrite
            self._visibility = StateTtlConfig.StateVisibility.NeverReturnExpired
            self._characteristic = StateTtlConfig.TtlTimeCharacteristic.ProcessingTime
            self._background = True
            self._full_snapshot = False
            self._incremental: tuple[int, bool] | None = None
            self._compact_filter: int | None = None

        @staticmethod
        def _millis(ttl: Any) -> int:
            millis = to_millis(ttl, "the state TTL")
            if millis <= 0:
                raise ValueError(f"the state TTL must be positive, got {millis} ms")
            return millis

        def set_update_type(self, update_type: StateTtlConfig.UpdateType) -> StateTtlConfig.Builder:
            if not isinstance(update_type, StateTtlConfig.UpdateType):
                raise TypeError(f"set_update_type() takes a StateTtlConfig.UpdateType, got {describe(update_type)}")
            self._update_type = update_type
            return self

        def update_ttl_on_create_and_write(self) -> StateTtlConfig.Builder:
            return self.set_update_type(StateTtlConfig.UpdateType.OnCreateAndWrite)

        def update_ttl_on_read_and_write(self) -> StateTtlConfig.Builder:
            return self.set_update_type(StateTtlConfig.UpdateType.OnReadAndWrite)

        def set_state_visibility(self, state_visibility: StateTtlConfig.StateVisibility) -> StateTtlConfig.Builder:
            if not isinstance(state_visibility, StateTtlConfig.StateVisibility):
                raise TypeError(
                    f"set_state_visibility() takes a StateTtlConfig.StateVisibility, got {describe(state_visibility)}"
                )
            self._visibility = state_visibility
            return self

        def return_expired_if_not_cleaned_up(self) -> StateTtlConfig.Builder:
            return self.set_state_visibility(StateTtlConfig.StateVisibility.ReturnExpiredIfNotCleanedUp)

        def never_return_expired(self) -> StateTtlConfig.Builder:
            return self.set_state_visibility(StateTtlConfig.StateVisibility.NeverReturnExpired)

        def set_ttl_time_characteristic(self, characteristic: StateTtlConfig.TtlTimeCharacteristic) -> StateTtlConfig.Builder:
            if not isinstance(characteristic, StateTtlConfig.TtlTimeCharacteristic):
                raise TypeError(f"TTL runs on processing time only, got {describe(characteristic)}")
            self._characteristic = characteristic
            return self

        def use_processing_time(self) -> StateTtlConfig.Builder:
            return self.set_ttl_time_characteristic(StateTtlConfig.TtlTimeCharacteristic.ProcessingTime)

        def cleanup_full_snapshot(self) -> StateTtlConfig.Builder:
            self._full_snapshot = True
            return self

        def cleanup_incrementally(self, cleanup_size: int, run_cleanup_for_every_record: bool) -> StateTtlConfig.Builder:
            if isinstance(cleanup_size, bool) or not isinstance(cleanup_size, int):
                raise TypeError(f"cleanup_size must be an int, got {describe(cleanup_size)}")
            if cleanup_size < 0:
                raise ValueError(f"cleanup_size must be >= 0, got {cleanup_size}")
            self._incremental = (cleanup_size, run_cleanup_for_every_record)
            return self

        def cleanup_in_rocksdb_compact_filter(
            self, query_time_after_num_entries: int, periodic_compaction_time: Any = None
        ) -> StateTtlConfig.Builder:
            self._compact_filter = query_time_after_num_entries
            return self

        def disable_cleanup_in_background(self) -> StateTtlConfig.Builder:
            self._background = False
            return self

        def set_ttl(self, ttl: Any) -> StateTtlConfig.Builder:
            self._ttl = Time.milliseconds(self._millis(ttl))
            return self

        def build(self) -> StateTtlConfig:
            return StateTtlConfig(
                self._update_type,
                self._visibility,
                self._characteristic,
                self._ttl,
                StateTtlConfig.CleanupStrategies(
                    self._background, self._full_snapshot, self._incremental, self._compact_filter
                ),
            )
