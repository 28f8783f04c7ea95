"""The configuration of the checkpointed test jobs: checkpoints into a test's directory, no
restarts (a failure ends the job), small bundles (so that checkpoints fall between records), and
optionally a restore that leaves the checkpoint it reads in place."""

from __future__ import annotations

from pathlib import Path

from ferroflow.common import Configuration


def checkpoint_config(checkpoints: Path, restore: str | None = None, bundle_size: int = 4) -> Configuration:
    cfg = Configuration()
    cfg.set_string("execution.checkpointing.dir", str(checkpoints))
    cfg.set_string("restart-strategy.type", "none")
    cfg.set_string("python.fn-execution.bundle.size", str(bundle_size))
    if restore is not None:
        cfg.set_string("execution.state-recovery.path", restore)
        # The tests look into the checkpoint after the restored run: it must not take it over.
        cfg.set_string("execution.state-recovery.claim-mode", "NO_CLAIM")
    return cfg
