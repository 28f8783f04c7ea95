"""Finding and checking checkpoints on disk, for resuming a job after a crash.

    latest = latest_checkpoint("/data/ckpt")      # None on the first run
    if latest:
        cfg.set_string("execution.state-recovery.path", latest)
"""

from __future__ import annotations

import os
import warnings

from ferroflow import _engine
from ferroflow._warnings import DamagedCheckpointWarning
from ferroflow.datastream._local_paths import local_path

__all__ = ["check_checkpoint", "latest_checkpoint"]


def latest_checkpoint(directory: str | os.PathLike[str]) -> str | None:
    """The newest complete checkpoint (or savepoint) at or under ``directory``: a checkpoint
    directory, a job's directory, or the checkpoint directory of many jobs (a path or a
    ``file://`` URI). Incomplete checkpoints (without their ``_metadata``) are skipped, so a crash
    while one was being written falls back to the one before. A complete checkpoint whose
    ``_metadata`` is damaged or of another version is skipped too, with a
    ``DamagedCheckpointWarning`` naming the file. Damage in the state files is found when a job
    restores from the checkpoint: the restore fails, naming the file. None when there is none."""
    path = local_path(directory, "the checkpoint directory")
    for problem in _engine.damaged_checkpoints(path):
        warnings.warn(f"skipping a damaged checkpoint: {problem}", DamagedCheckpointWarning, stacklevel=2)
    return _engine.latest_checkpoint(path)


def check_checkpoint(path: str | os.PathLike[str]) -> str | None:
    """What is wrong with the checkpoint or savepoint at ``path`` (naming the file), or None
    when a job can resume from it."""
    return _engine.check_checkpoint(local_path(path, "the checkpoint path"))
