"""Keyed state: the descriptors that name a state, and what a keyed function gets back from
``runtime_context.get_state(descriptor)`` and friends.

State is scoped to the current key (and, for ``window_state()``, the current window): a keyed
function sees the state of the record's key. It lives in memory, as Python objects held as they
are (no serialization on access)."""

from __future__ import annotations

from abc import ABC
from typing import Any, Callable

from ferroflow.common.typeinfo import TypeInformation
from ferroflow.datastream._udf import check_function, describe
from ferroflow.datastream.functions import AggregateFunction, ReduceFunction

__all__ = [
    "AggregatingStateDescriptor",
    "ListStateDescriptor",
    "MapStateDescriptor",
    "ReducingStateDescriptor",
    "StateDescriptor",
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

    def enable_time_to_live(self, ttl_config: Any) -> None:
        """State time-to-live is not available in this version of ferroflow: the state would never
        expire, so this refuses rather than silently keeping it."""
        raise NotImplementedError(
            f"state time-to-live (for '{self.name}') is not available in this version of ferroflow yet"
        )

    def _engine_spec(self) -> tuple[Any, ...]:
        """``(kind, name, function)`` for the engine."""
        return (self._kind, self.name, None)

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
        return (self._kind, self.name, self.reduce_function)


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
        return (self._kind, self.name, self.agg_function)
