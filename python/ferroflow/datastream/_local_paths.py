"""Internal: checkpoint and restore locations, which must be on the local file system."""

from __future__ import annotations

import os
from os import PathLike
from typing import Any
from urllib.parse import unquote, urlsplit

from ferroflow.datastream._checks import describe

__all__ = ["local_path"]


def local_path(path: Any, what: str) -> str:
    """``path`` as a plain absolute path: a path (str or ``os.PathLike``) or a ``file://`` URI
    (``file:///tmp/x``, ``file:/tmp/x``, ``file://localhost/tmp/x``). Relative paths are taken
    from the current directory now. ``what`` names the setting in error messages.

    Any other scheme (``s3://``, ``hdfs://``, ...) is a ValueError: ferroflow runs in one process
    and writes checkpoints to a local (or locally mounted) file system only.
    """
    if isinstance(path, PathLike):
        path = os.fspath(path)
    if isinstance(path, bytes) or not isinstance(path, str):
        raise TypeError(f"{what} must be a path (str or os.PathLike) or a file:// URI, got {describe(path)}")
    text = path.strip()
    if not text:
        raise ValueError(f"{what} must not be empty")
    parts = urlsplit(text)
    # A one-letter "scheme" is a Windows drive (C:\checkpoints), not a URI.
    if parts.scheme and len(parts.scheme) > 1:
        if parts.scheme.lower() != "file":
            raise ValueError(
                f"{what}: {path!r} is on a '{parts.scheme}://' file system; only local file systems are "
                "supported (a path such as '/tmp/checkpoints' or a file:// URI)"
            )
        if parts.netloc not in ("", "localhost"):
            raise ValueError(
                f"{what}: {path!r} names the host {parts.netloc!r}; a file:// URI must be local "
                "(file:///path or file://localhost/path)"
            )
        text = unquote(parts.path)
        if not text:
            raise ValueError(f"{what}: {path!r} has no path")
    return os.path.abspath(os.path.expanduser(text))
