"""Restart strategies: what a job does when a task fails, as ``pyflink.common.restart_strategy``.

Set one with ``env.set_restart_strategy(RestartStrategies.fixed_delay_restart(3, 1000))`` or by
configuration (``restart-strategy.type: fixed-delay`` and its ``restart-strategy.fixed-delay.*``
keys). A restart restores every operator from the latest completed checkpoint and rewinds the
sources to it; without checkpointing a restart starts the job over from the beginning.

Defaults when nothing is set (``fall_back_restart()`` resolves to the same):

- checkpointing off: no restart; the first failure fails the job (as Flink).
- checkpointing on: exponential delay with Flink's default backoff (1 s at first, times 1.5 after
  each failure up to 1 min, jitter 10 %, reset after 1 h without failure), but at most
  :data:`DEFAULT_ATTEMPTS_BEFORE_RESET` (5) restarts before the job fails. Flink restarts without
  limit here; in a notebook that would retry a bug forever, so ferroflow bounds it (a failure
  that repeats every run gives up after about 13 s of backoff). Set
  ``restart-strategy.exponential-delay.attempts-before-reset-backoff`` or choose a strategy
  explicitly to change it.

Durations are ``datetime.timedelta``, ``Duration``, ``Time`` or int milliseconds. Getters of
durations return ``datetime.timedelta``, as PyFlink's do.
"""

from __future__ import annotations

import datetime
import numbers
from typing import Any

from ferroflow.common._durations import to_millis

__all__ = ["RestartStrategies", "RestartStrategyConfiguration"]

#: "Unlimited" restart attempts (Java's ``Integer.MAX_VALUE``, Flink's own default).
UNLIMITED_ATTEMPTS = 2**31 - 1

#: ferroflow's bound on restarts of its default strategy (see the module docstring).
DEFAULT_ATTEMPTS_BEFORE_RESET = 5

# Flink's defaults for the keys of each strategy (RestartStrategyOptions).
FIXED_DELAY_ATTEMPTS = 1
FIXED_DELAY_DELAY_MS = 1_000
FAILURE_RATE_MAX_FAILURES = 1
FAILURE_RATE_INTERVAL_MS = 60_000
FAILURE_RATE_DELAY_MS = 1_000
EXPONENTIAL_INITIAL_BACKOFF_MS = 1_000
EXPONENTIAL_MAX_BACKOFF_MS = 60_000
EXPONENTIAL_MULTIPLIER = 1.5
EXPONENTIAL_RESET_THRESHOLD_MS = 3_600_000
EXPONENTIAL_JITTER = 0.1


def _shown(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def _count(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be an int, got {_shown(value)}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{what} must be at least {minimum}, got {value}")
    return value


def _span(value: Any, what: str, minimum: int) -> int:
    millis = to_millis(value, what)
    if millis < minimum:
        raise ValueError(f"{what} must be at least {minimum} ms, got {millis} ms")
    return millis


def _real(value: Any, what: str, low: float, high: float | None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a number, got {_shown(value)}")
    value = float(value)
    if not (value >= low and (high is None or value <= high)):
        bound = f"at least {low}" if high is None else f"between {low} and {high}"
        raise ValueError(f"{what} must be {bound}, got {value}")
    return value


def _delta(millis: int) -> datetime.timedelta:
    return datetime.timedelta(milliseconds=millis)


class RestartStrategyConfiguration:
    """A restart strategy; make one with the factories of :class:`RestartStrategies`."""

    #: ``"none"``, ``"fixed_delay"``, ``"failure_rate"``, ``"exponential_delay"`` or ``"fallback"``.
    _kind: str = ""

    def _values(self) -> tuple[Any, ...]:
        return ()

    def get_description(self) -> str:
        """A one-line description of the strategy."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RestartStrategyConfiguration):
            return NotImplemented
        return type(self) is type(other) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self._values()))})"


class RestartStrategies:
    """Factories of restart strategies (``RestartStrategies.fixed_delay_restart(3, 1000)``)."""

    class NoRestartStrategyConfiguration(RestartStrategyConfiguration):
        """No restart: the first failure fails the job."""

        _kind = "none"

        def get_description(self) -> str:
            return "Restart deactivated."

    class FixedDelayRestartStrategyConfiguration(RestartStrategyConfiguration):
        """Up to ``restart_attempts`` restarts, each after the same delay; then the job fails."""

        _kind = "fixed_delay"

        def __init__(self, restart_attempts: int, delay_between_attempts_interval: Any) -> None:
            self._attempts = _count(restart_attempts, "restart_attempts", 0)
            self._delay_ms = _span(delay_between_attempts_interval, "delay_between_attempts", 0)

        def _values(self) -> tuple[Any, ...]:
            return (self._attempts, self._delay_ms)

        def get_restart_attempts(self) -> int:
            return self._attempts

        def get_delay_between_attempts_interval(self) -> datetime.timedelta:
            return _delta(self._delay_ms)

        def get_description(self) -> str:
            return f"Restart with fixed delay ({self._delay_ms} ms). #{self._attempts} restart attempts."

    class FailureRateRestartStrategyConfiguration(RestartStrategyConfiguration):
        """Restarts after a fixed delay while fewer than ``max_failure_rate`` failures happened
        within the last ``failure_interval``; the job fails once that many do."""

        _kind = "failure_rate"

        def __init__(self, max_failure_rate: int, failure_interval: Any, delay_between_attempts_interval: Any) -> None:
            self._max_failures = _count(max_failure_rate, "failure_rate", 1)
            self._interval_ms = _span(failure_interval, "failure_interval", 1)
            self._delay_ms = _span(delay_between_attempts_interval, "delay_interval", 0)

        def _values(self) -> tuple[Any, ...]:
            return (self._max_failures, self._interval_ms, self._delay_ms)

        def get_max_failure_rate(self) -> int:
            return self._max_failures

        def get_failure_interval(self) -> datetime.timedelta:
            return _delta(self._interval_ms)

        def get_delay_between_attempts_interval(self) -> datetime.timedelta:
            return _delta(self._delay_ms)

        def get_description(self) -> str:
            return (
                f"Failure rate restart with maximum of {self._max_failures} failures within interval "
                f"{self._interval_ms} ms and fixed delay {self._delay_ms} ms."
            )

    class ExponentialDelayRestartStrategyConfiguration(RestartStrategyConfiguration):
        """Restarts with a delay that starts at ``initial_backoff`` and is multiplied by
        ``backoff_multiplier`` after each failure, up to ``max_backoff`` (a larger initial backoff
        is capped there, as in Flink). ``jitter_factor`` (0..1) moves each delay randomly by up to
        that fraction. After ``reset_backoff_threshold`` without a failure the delay and the count
        of attempts start over. The job fails after ``attempts_before_reset_backoff`` restarts
        without such a reset (unlimited unless set, as in Flink)."""

        _kind = "exponential_delay"

        def __init__(
            self,
            initial_backoff: Any,
            max_backoff: Any,
            backoff_multiplier: float,
            reset_backoff_threshold: Any,
            jitter_factor: float,
            attempts_before_reset_backoff: int = UNLIMITED_ATTEMPTS,
        ) -> None:
            self._initial_ms = _span(initial_backoff, "initial_backoff", 1)
            self._max_ms = _span(max_backoff, "max_backoff", 1)
            self._multiplier = _real(backoff_multiplier, "backoff_multiplier", 1.0, None)
            self._reset_ms = _span(reset_backoff_threshold, "reset_backoff_threshold", 1)
            self._jitter = _real(jitter_factor, "jitter_factor", 0.0, 1.0)
            self._attempts = _count(attempts_before_reset_backoff, "attempts_before_reset_backoff", 1)

        def _values(self) -> tuple[Any, ...]:
            return (self._initial_ms, self._max_ms, self._multiplier, self._reset_ms, self._jitter, self._attempts)

        def get_initial_backoff(self) -> datetime.timedelta:
            return _delta(self._initial_ms)

        def get_max_backoff(self) -> datetime.timedelta:
            return _delta(self._max_ms)

        def get_backoff_multiplier(self) -> float:
            return self._multiplier

        def get_reset_backoff_threshold(self) -> datetime.timedelta:
            return _delta(self._reset_ms)

        def get_jitter_factor(self) -> float:
            return self._jitter

        def get_attempts_before_reset_backoff(self) -> int:
            return self._attempts

        def get_description(self) -> str:
            attempts = "unlimited" if self._attempts >= UNLIMITED_ATTEMPTS else str(self._attempts)
            return (
                f"Restart with exponential delay: initial backoff {self._initial_ms} ms, max backoff "
                f"{self._max_ms} ms, multiplier {self._multiplier}, reset after {self._reset_ms} ms, "
                f"jitter {self._jitter}, attempts before reset {attempts}."
            )

    class FallbackRestartStrategyConfiguration(RestartStrategyConfiguration):
        """The default: the ``restart-strategy.*`` configuration of the environment if it names a
        type, else ferroflow's default (see the module docstring)."""

        _kind = "fallback"

        def get_description(self) -> str:
            return "Cluster level default restart strategy"

    @staticmethod
    def no_restart() -> RestartStrategies.NoRestartStrategyConfiguration:
        """No restart: the first failure fails the job."""
        return RestartStrategies.NoRestartStrategyConfiguration()

    @staticmethod
    def fall_back_restart() -> RestartStrategies.FallbackRestartStrategyConfiguration:
        """The configured (``restart-strategy.type``) or default strategy."""
        return RestartStrategies.FallbackRestartStrategyConfiguration()

    @staticmethod
    def fixed_delay_restart(
        restart_attempts: int, delay_between_attempts: Any
    ) -> RestartStrategies.FixedDelayRestartStrategyConfiguration:
        """At most ``restart_attempts`` restarts (int, 0 or more), each ``delay_between_attempts``
        (int ms, timedelta, Duration or Time) after the failure."""
        return RestartStrategies.FixedDelayRestartStrategyConfiguration(restart_attempts, delay_between_attempts)

    @staticmethod
    def failure_rate_restart(
        failure_rate: int, failure_interval: Any, delay_interval: Any
    ) -> RestartStrategies.FailureRateRestartStrategyConfiguration:
        """Fails the job once ``failure_rate`` failures happen within ``failure_interval``;
        restarts ``delay_interval`` after each failure before that."""
        return RestartStrategies.FailureRateRestartStrategyConfiguration(failure_rate, failure_interval, delay_interval)

    @staticmethod
    def exponential_delay_restart(
        initial_backoff: Any,
        max_backoff: Any,
        backoff_multiplier: float,
        reset_backoff_threshold: Any,
        jitter_factor: float,
    ) -> RestartStrategies.ExponentialDelayRestartStrategyConfiguration:
        """Restarts without limit, with a growing delay (Java's
        ``RestartStrategies.exponentialDelayRestart``; PyFlink has no such factory)."""
        return RestartStrategies.ExponentialDelayRestartStrategyConfiguration(
            initial_backoff, max_backoff, backoff_multiplier, reset_backoff_threshold, jitter_factor
        )
