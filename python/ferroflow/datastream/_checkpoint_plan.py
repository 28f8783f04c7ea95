"""Internal: the checkpoint plan, the one object the engine reads to checkpoint and restart a job.

``env._checkpoint_plan()`` builds it from the environment's settings when a job is built; the
engine (``JobBuilder.set_checkpointing``) reads its attributes by name.
"""

from __future__ import annotations

from dataclasses import dataclass

from ferroflow.common.restart_strategy import RestartStrategies, RestartStrategyConfiguration
from ferroflow.datastream._checkpoint_options import configured_restart, default_restart
from ferroflow.datastream._checkpoint_settings import CheckpointSettings
from ferroflow.datastream._transformations import Transformation

__all__ = ["CheckpointPlan", "RestartPlan", "check_sources_rewindable", "make_plan", "restart_plan"]


@dataclass(frozen=True)
class RestartPlan:
    """What to do when a task fails. Fields a kind does not use are 0 (``multiplier`` 1.0).

    - ``kind``: ``"none"``, ``"fixed_delay"``, ``"failure_rate"`` or ``"exponential_delay"``.
    - ``attempts``: fixed delay: restarts before the job fails; exponential delay: restarts
      before the job fails unless the backoff was reset first (2**31 - 1 means unlimited).
    - ``delay_ms``: fixed delay and failure rate: the delay before each restart; exponential
      delay: the initial backoff (already capped at ``max_delay_ms``).
    - ``max_delay_ms``, ``multiplier``, ``reset_threshold_ms``, ``jitter``: exponential delay.
    - ``max_failures_per_interval``, ``failure_interval_ms``: failure rate.
    """

    kind: str
    attempts: int = 0
    delay_ms: int = 0
    max_delay_ms: int = 0
    multiplier: float = 1.0
    reset_threshold_ms: int = 0
    jitter: float = 0.0
    max_failures_per_interval: int = 0
    failure_interval_ms: int = 0


@dataclass(frozen=True)
class CheckpointPlan:
    """Checkpointing, restoring and restarting of one job.

    - ``interval_ms``: time between checkpoints; ``None`` when checkpointing is off.
    - ``mode``: ``"exactly_once"`` or ``"at_least_once"``.
    - ``timeout_ms``, ``min_pause_ms``, ``tolerable_failures``: as on ``CheckpointConfig``.
    - ``num_retained``: completed checkpoints kept (the newest ones).
    - ``retention``: ``"delete_on_cancellation"``, ``"retain_on_cancellation"`` or
      ``"no_externalized_checkpoints"``.
    - ``directory``: plain absolute path checkpoints go under, or ``None`` when none is set.
    - ``restore_path``: plain absolute path of a checkpoint to start from, or ``None``.
    - ``ignore_unclaimed``: when restoring, skip state no operator of the job claims instead of
      failing.
    - ``claim_mode``: who owns the checkpoint restored from: ``"claim"`` (the job deletes it once
      its own first checkpoint completed), ``"no_claim"`` (never touched), or ``"default"``
      (checkpoints are claimed, savepoints are not).
    - ``restart``: the resolved restart strategy (never "fallback").
    """

    interval_ms: int | None
    mode: str
    timeout_ms: int
    min_pause_ms: int
    tolerable_failures: int
    num_retained: int
    retention: str
    directory: str | None
    restore_path: str | None
    ignore_unclaimed: bool
    claim_mode: str
    restart: RestartPlan


def restart_plan(strategy: RestartStrategyConfiguration) -> RestartPlan:
    """The plan of a strategy that is not the fallback."""
    if isinstance(strategy, RestartStrategies.NoRestartStrategyConfiguration):
        return RestartPlan("none")
    if isinstance(strategy, RestartStrategies.FixedDelayRestartStrategyConfiguration):
        return RestartPlan("fixed_delay", attempts=strategy._attempts, delay_ms=strategy._delay_ms)
    if isinstance(strategy, RestartStrategies.FailureRateRestartStrategyConfiguration):
        return RestartPlan(
            "failure_rate",
            delay_ms=strategy._delay_ms,
            max_failures_per_interval=strategy._max_failures,
            failure_interval_ms=strategy._interval_ms,
        )
    if isinstance(strategy, RestartStrategies.ExponentialDelayRestartStrategyConfiguration):
        return RestartPlan(
            "exponential_delay",
            attempts=strategy._attempts,
            delay_ms=min(strategy._initial_ms, strategy._max_ms),
            max_delay_ms=strategy._max_ms,
            multiplier=strategy._multiplier,
            reset_threshold_ms=strategy._reset_ms,
            jitter=strategy._jitter,
        )
    raise AssertionError(f"unresolved restart strategy {strategy!r}")


def resolved_restart(settings: CheckpointSettings) -> RestartStrategyConfiguration:
    """The strategy a job runs with: the one chosen, else the configured type, else the default."""
    strategy = settings.restart
    if isinstance(strategy, RestartStrategies.FallbackRestartStrategyConfiguration):
        strategy = configured_restart(settings.restart_options) or default_restart(
            settings.restart_options, settings.config.is_checkpointing_enabled()
        )
    return strategy


def make_plan(settings: CheckpointSettings) -> CheckpointPlan:
    config = settings.config
    storage = config.get_checkpoint_storage()
    return CheckpointPlan(
        interval_ms=config.get_checkpoint_interval() if config.is_checkpointing_enabled() else None,
        mode=config.get_checkpointing_mode()._engine_name(),
        timeout_ms=config.get_checkpoint_timeout(),
        min_pause_ms=config.get_min_pause_between_checkpoints(),
        tolerable_failures=config.get_tolerable_checkpoint_failure_number(),
        num_retained=settings.num_retained,
        retention=config.get_externalized_checkpoint_retention()._engine_name(),
        directory=storage._engine_directory() if storage is not None else None,
        restore_path=settings.restore_path,
        ignore_unclaimed=settings.ignore_unclaimed,
        claim_mode=settings.claim_mode,
        restart=restart_plan(resolved_restart(settings)),
    )


def check_sources_rewindable(nodes: list[Transformation], plan: CheckpointPlan) -> None:
    """With checkpointing on, every source must be able to start again from a checkpoint."""
    if plan.interval_ms is None:
        return
    for t in nodes:
        if t.kind == "source" and t.source_kind == "iterable":
            raise ValueError(
                f"{t.name!r} comes from from_iterable(), which cannot be replayed after a failure, so it "
                "cannot be used with checkpointing (enable_checkpointing / execution.checkpointing.interval). "
                "Use from_collection(list(...)), a FileSource, a NumberSequenceSource or another rewindable "
                "source (a RewindableSource of your own) instead"
            )
