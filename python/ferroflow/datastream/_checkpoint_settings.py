"""Internal: everything an environment holds about checkpoints, restarts and restoring."""

from __future__ import annotations

from ferroflow.common.restart_strategy import RestartStrategies, RestartStrategyConfiguration
from ferroflow.datastream.checkpoint_config import CheckpointConfig

__all__ = ["CheckpointSettings"]


class CheckpointSettings:
    """The checkpoint settings of one ``StreamExecutionEnvironment``.

    ``config`` is what ``env.get_checkpoint_config()`` returns. ``restart`` is the strategy set
    with ``env.set_restart_strategy`` or ``restart-strategy.type`` (``fall_back_restart()`` until
    then). ``restart_options`` keeps every ``restart-strategy.*`` key configured so far, for the
    fallback. The rest only have configuration keys: ``num_retained``
    (``execution.checkpointing.num-retained``), ``restore_path`` and ``ignore_unclaimed``
    (``execution.state-recovery.*``), ``savepoint_dir``.
    """

    def __init__(self) -> None:
        self.config = CheckpointConfig()
        self.restart: RestartStrategyConfiguration = RestartStrategies.fall_back_restart()
        #: Whether ``restart`` was built from ``restart_options`` (so later keys update it).
        self.restart_from_options = False
        self.restart_options: dict[str, str] = {}
        self.num_retained = 1
        self.restore_path: str | None = None
        self.ignore_unclaimed = False
        #: ``execution.state-recovery.claim-mode``: "default", "claim" or "no_claim".
        self.claim_mode = "default"
        #: Where savepoints go when none is named (``execution.checkpointing.savepoint-dir``).
        self.savepoint_dir: str | None = None
