"""``ExecutionConfig``: per-job execution settings, as ``pyflink.common.ExecutionConfig``.

Defaults follow Flink 2.x: auto-watermark interval 200 ms, latency tracking off (0), task
cancellation every 30 s with a 180 s timeout, closure cleaner and auto-generated uids on,
object reuse, forced Kryo/Avro and snapshot compression off. Parallelism starts as
``PARALLELISM_DEFAULT`` (-1): the environment's default applies. Several toggles (closure
cleaner, Kryo, Avro, generic types, snapshot compression) only exist so that PyFlink programs
run; the engine has no JVM serializers for them to affect.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

from ferroflow.common._durations import to_millis

__all__ = ["ExecutionConfig"]

_UPPER_BOUND_MAX_PARALLELISM = 1 << 15


def _check_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be an int, got {value!r} ({type(value).__name__})")
    return int(value)


def _check_bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be a bool, got {value!r} ({type(value).__name__})")
    return value


class ExecutionConfig:
    """Settings that define how a job runs; shared with the environment that owns it."""

    PARALLELISM_DEFAULT = -1
    """Use the environment's default parallelism."""

    PARALLELISM_UNKNOWN = -2
    """Leave the parallelism unchanged (``set_parallelism`` ignores it)."""

    def __init__(self) -> None:
        self._auto_watermark_interval = 200
        self._latency_tracking_interval = 0
        self._parallelism = ExecutionConfig.PARALLELISM_DEFAULT
        self._max_parallelism = -1
        self._task_cancellation_interval = 30_000
        self._task_cancellation_timeout = 180_000
        self._closure_cleaner = True
        self._object_reuse = False
        self._force_kryo = False
        self._force_avro = False
        self._generic_types = True
        self._auto_generated_uids = True
        self._snapshot_compression = False
        self._global_job_parameters: dict[str, str] = {}
        self._kryo_types: dict[str, None] = {}
        self._pojo_types: dict[str, None] = {}
        self._default_kryo_serializers: dict[str, str] = {}

    # -- watermarks and latency ---------------------------------------------------------------

    def set_auto_watermark_interval(self, interval: Any) -> ExecutionConfig:
        """Sets how often periodic watermarks are emitted (ms; also Time/Duration/timedelta).

        0 disables periodic emission; negative values raise ValueError.
        """
        millis = to_millis(interval, "auto watermark interval")
        if millis < 0:
            raise ValueError(f"Auto watermark interval must not be negative, got {millis} ms")
        self._auto_watermark_interval = millis
        return self

    def get_auto_watermark_interval(self) -> int:
        """The periodic watermark interval in milliseconds (default 200)."""
        return self._auto_watermark_interval

    def set_latency_tracking_interval(self, interval: Any) -> ExecutionConfig:
        """Sets the latency-marker interval in ms; a value <= 0 disables latency tracking."""
        self._latency_tracking_interval = to_millis(interval, "latency tracking interval")
        return self

    def get_latency_tracking_interval(self) -> int:
        return self._latency_tracking_interval

    # -- parallelism --------------------------------------------------------------------------

    def set_parallelism(self, parallelism: int) -> ExecutionConfig:
        """Sets the default parallelism: >= 1, or ``PARALLELISM_DEFAULT`` to reset it."""
        parallelism = _check_int(parallelism, "parallelism")
        if parallelism == ExecutionConfig.PARALLELISM_UNKNOWN:
            return self
        if parallelism < 1 and parallelism != ExecutionConfig.PARALLELISM_DEFAULT:
            raise ValueError(
                f"Parallelism must be at least one, or ExecutionConfig.PARALLELISM_DEFAULT "
                f"(-1, use the environment default), got {parallelism}"
            )
        self._parallelism = parallelism
        return self

    def get_parallelism(self) -> int:
        """The parallelism, or ``PARALLELISM_DEFAULT`` (-1) when the environment decides."""
        return self._parallelism

    def set_max_parallelism(self, max_parallelism: int) -> ExecutionConfig:
        """Sets the maximum parallelism (the number of key groups), 1..32768."""
        max_parallelism = _check_int(max_parallelism, "max_parallelism")
        if not 0 < max_parallelism <= _UPPER_BOUND_MAX_PARALLELISM:
            raise ValueError(
                f"The maximum parallelism must be greater than 0 and at most "
                f"{_UPPER_BOUND_MAX_PARALLELISM}, got {max_parallelism}"
            )
        self._max_parallelism = max_parallelism
        return self

    def get_max_parallelism(self) -> int:
        """The maximum parallelism, or -1 when not set (the engine then uses 128)."""
        return self._max_parallelism

    # -- task cancellation --------------------------------------------------------------------

    def set_task_cancellation_interval(self, interval: Any) -> ExecutionConfig:
        self._task_cancellation_interval = to_millis(interval, "task cancellation interval")
        return self

    def get_task_cancellation_interval(self) -> int:
        return self._task_cancellation_interval

    def set_task_cancellation_timeout(self, timeout: Any) -> ExecutionConfig:
        """Sets the cancellation timeout in ms; 0 disables it, negative raises ValueError."""
        millis = to_millis(timeout, "task cancellation timeout")
        if millis < 0:
            raise ValueError(f"Task cancellation timeout needs to be >= 0, got {millis} ms")
        self._task_cancellation_timeout = millis
        return self

    def get_task_cancellation_timeout(self) -> int:
        return self._task_cancellation_timeout

    # -- toggles ------------------------------------------------------------------------------

    def enable_closure_cleaner(self) -> ExecutionConfig:
        self._closure_cleaner = True
        return self

    def disable_closure_cleaner(self) -> ExecutionConfig:
        self._closure_cleaner = False
        return self

    def is_closure_cleaner_enabled(self) -> bool:
        return self._closure_cleaner

    def enable_object_reuse(self) -> ExecutionConfig:
        """Lets operators pass records on without copying them."""
        self._object_reuse = True
        return self

    def disable_object_reuse(self) -> ExecutionConfig:
        self._object_reuse = False
        return self

    def is_object_reuse_enabled(self) -> bool:
        return self._object_reuse

    def enable_force_kryo(self) -> ExecutionConfig:
        self._force_kryo = True
        return self

    def disable_force_kryo(self) -> ExecutionConfig:
        self._force_kryo = False
        return self

    def is_force_kryo_enabled(self) -> bool:
        return self._force_kryo

    # -- type registrations (Java class names; recorded, as ferroflow keeps Python objects) ---

    def register_kryo_type(self, type_class_name: str) -> None:
        """Records a Java class registered with Kryo (``get_registered_kryo_types()``)."""
        self._kryo_types[_class_name(type_class_name, "type_class_name")] = None

    def register_pojo_type(self, type_class_name: str) -> None:
        """Records a Java class registered as a POJO type (``get_registered_pojo_types()``)."""
        self._pojo_types[_class_name(type_class_name, "type_class_name")] = None

    def add_default_kryo_serializer(self, type_class_name: str, serializer_class_name: str) -> None:
        """Records the Kryo serializer class of a Java class (``get_default_kryo_serializer_classes()``)."""
        key = _class_name(type_class_name, "type_class_name")
        self._default_kryo_serializers[key] = _class_name(serializer_class_name, "serializer_class_name")

    def get_registered_kryo_types(self) -> list[str]:
        """The class names given to ``register_kryo_type``, in order."""
        return list(self._kryo_types)

    def get_registered_pojo_types(self) -> list[str]:
        """The class names given to ``register_pojo_type``, in order."""
        return list(self._pojo_types)

    def get_default_kryo_serializer_classes(self) -> dict[str, str]:
        """Class name -> serializer class name, from ``add_default_kryo_serializer``."""
        return dict(self._default_kryo_serializers)

    def enable_force_avro(self) -> ExecutionConfig:
        self._force_avro = True
        return self

    def disable_force_avro(self) -> ExecutionConfig:
        self._force_avro = False
        return self

    def is_force_avro_enabled(self) -> bool:
        return self._force_avro

    def enable_generic_types(self) -> ExecutionConfig:
        self._generic_types = True
        return self

    def disable_generic_types(self) -> ExecutionConfig:
        self._generic_types = False
        return self

    def has_generic_types_disabled(self) -> bool:
        return not self._generic_types

    def enable_auto_generated_uids(self) -> ExecutionConfig:
        self._auto_generated_uids = True
        return self

    def disable_auto_generated_uids(self) -> ExecutionConfig:
        """Requires every operator to be given a uid."""
        self._auto_generated_uids = False
        return self

    def has_auto_generated_uids_enabled(self) -> bool:
        return self._auto_generated_uids

    def set_use_snapshot_compression(self, use_snapshot_compression: bool) -> ExecutionConfig:
        self._snapshot_compression = _check_bool(
            use_snapshot_compression, "use_snapshot_compression"
        )
        return self

    def is_use_snapshot_compression(self) -> bool:
        return self._snapshot_compression

    # -- job parameters -----------------------------------------------------------------------

    def set_global_job_parameters(
        self, global_job_parameters_dict: Mapping[str, Any]
    ) -> ExecutionConfig:
        """Replaces the job parameters; non-str values are stored as ``str(value)``."""
        if not isinstance(global_job_parameters_dict, Mapping):
            raise TypeError(
                f"global_job_parameters_dict must be a dict, got "
                f"{global_job_parameters_dict!r} ({type(global_job_parameters_dict).__name__})"
            )
        parameters: dict[str, str] = {}
        for key, value in global_job_parameters_dict.items():
            if not isinstance(key, str):
                raise TypeError(
                    f"global job parameter keys must be str, got {key!r} ({type(key).__name__})"
                )
            parameters[key] = value if isinstance(value, str) else str(value)
        self._global_job_parameters = parameters
        return self

    def get_global_job_parameters(self) -> dict[str, str]:
        """A copy of the job parameters."""
        return dict(self._global_job_parameters)

    # -- object protocol ----------------------------------------------------------------------

    def _state(self) -> tuple[Any, ...]:
        return (
            self._auto_watermark_interval,
            self._latency_tracking_interval,
            self._parallelism,
            self._max_parallelism,
            self._task_cancellation_interval,
            self._task_cancellation_timeout,
            self._closure_cleaner,
            self._object_reuse,
            self._force_kryo,
            self._force_avro,
            self._generic_types,
            self._auto_generated_uids,
            self._snapshot_compression,
            tuple(sorted(self._global_job_parameters.items())),
            tuple(self._kryo_types),
            tuple(self._pojo_types),
            tuple(self._default_kryo_serializers.items()),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ExecutionConfig):
            return NotImplemented
        return self._state() == other._state()

    def __hash__(self) -> int:
        return hash(self._state())

    def __repr__(self) -> str:
        return (
            f"ExecutionConfig(parallelism={self._parallelism}, "
            f"max_parallelism={self._max_parallelism}, "
            f"auto_watermark_interval={self._auto_watermark_interval}, "
            f"object_reuse={self._object_reuse}, "
            f"global_job_parameters={self._global_job_parameters!r})"
        )


def _class_name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{what} must be a Java class name (a non-empty str), got {value!r}")
    return value.strip()
