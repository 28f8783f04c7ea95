"""Finding and checking checkpoints on disk, for resuming a job after a crash.

    latest = latest_checkpoint("/data/ckpt")      # None on the first run
    if latest:
        cfg.set_string("execution.state-recovery.path", latest)
"""

from __future__ import annotations

import os

from ferroflow import _engine
from ferroflow.datastream._local_paths import local_path

__all__ = ["check_checkpoint", "latest_checkpoint"]


def latest_checkpoint(directory: str | os.PathLike[str]) -> str | None:
    """The newest complete checkpoint (or savepoint) at or under ``directory``: a checkpoint
    directory, a job's directory, or the checkpoint directory of many jobs (a path or a
    ``file://`` URI). Incomplete or damaged checkpoints are skipped, so a crash while one was
    being written falls back to the one before. None when there is none."""
    return _engine.latest_checkpoint(local_path(directory, "the checkpoint directory"))


def check_checkpoint(path: str | os.PathLike[str]) -> str | None:
    """What is wrong with the checkpoint or savepoint at ``path`` (naming the file), or None
    when a job can resume from it."""
    return _engine.check_checkpoint(local_path(path, "the checkpoint path"))
