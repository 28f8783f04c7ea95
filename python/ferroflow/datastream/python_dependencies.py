"""PyFlink's dependency calls, done the local way.

PyFlink ships Python files, archives and requirements to the worker processes that run user
functions, and jars to the JVM. ferroflow runs user functions in the program's own interpreter
and has no JVM, so:

- ``add_python_file`` (and ``python.files``): a .py file or a directory is copied into a
  directory of the process's own, which goes on ``sys.path``; a .zip, .whl or .egg goes on
  ``sys.path`` itself;
- ``add_python_archive`` (and ``python.archives``): the archive is extracted into that
  directory, under ``target_dir`` or the archive's file name, which is also put on ``sys.path``;
- ``set_python_requirements``, ``set_python_executable``, ``add_jars``, ``add_classpaths``:
  accepted and recorded (files are checked to exist); requirements must already be installed in
  this interpreter;
- ``register_cached_file``: Flink copies the file to each worker's local cache; here the file is
  local already, so it is checked to exist and recorded under its name, and user functions read
  it at its own path.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ferroflow.datastream._local_paths import local_path

if TYPE_CHECKING:
    from ferroflow.common.configuration import Configuration

__all__ = ["PythonDependencies"]

_IMPORTABLE_FILES = (".zip", ".whl", ".egg")
_shared_dir: str | None = None


def _dependency_dir() -> str:
    """The process's directory for copied files and extracted archives (removed at exit)."""
    global _shared_dir
    if _shared_dir is None:
        _shared_dir = tempfile.mkdtemp(prefix="ferroflow-python-deps-")
        atexit.register(shutil.rmtree, _shared_dir, True)
    if _shared_dir not in sys.path:
        sys.path.insert(0, _shared_dir)
    return _shared_dir


def _existing(path: str, what: str) -> str:
    if not isinstance(path, str):
        raise TypeError(f"{what} takes a path (str), got {type(path).__name__} ({path!r})")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{what}: {path!r} does not exist")
    return os.path.abspath(path)


class PythonDependencies:
    """The dependencies one environment was given."""

    def __init__(self) -> None:
        self.files: list[str] = []
        self.archives: list[tuple[str, str | None]] = []
        self.requirements: tuple[str, str | None] | None = None
        self.executable: str | None = None
        self.jars: dict[str, list[str]] = {"pipeline.jars": [], "pipeline.classpaths": []}
        #: name -> (absolute path, executable), from register_cached_file.
        self.cached_files: dict[str, tuple[str, bool]] = {}

    def configure(self, conf: Configuration) -> None:
        """Applies ``python.files``, ``python.archives``, ``python.requirements``,
        ``python.executable``, ``pipeline.jars`` and ``pipeline.classpaths``."""
        for path in _split(conf.get_string("python.files", "") or ""):
            self.add_python_file(path)
        for entry in _split(conf.get_string("python.archives", "") or ""):
            path, _, target = entry.partition("#")
            self.add_python_archive(path, target or None)
        requirements = conf.get_string("python.requirements", "") or ""
        if requirements:
            path, _, cache = requirements.partition("#")
            self.set_python_requirements(path, cache or None)
        if conf.contains_key("python.executable"):
            self.set_python_executable(conf.get_string("python.executable", "") or "")
        for key in self.jars:
            if conf.contains_key(key):
                self.jars[key] = _split(conf.get_string(key, "") or "", ";")

    def add_python_file(self, file_path: str) -> None:
        path = _existing(file_path, "add_python_file()")
        if os.path.isfile(path) and path.endswith(_IMPORTABLE_FILES):
            if path not in sys.path:
                sys.path.insert(0, path)
        else:
            target = os.path.join(_dependency_dir(), os.path.basename(path.rstrip(os.sep)))
            if os.path.isdir(path):
                shutil.copytree(path, target, dirs_exist_ok=True)
            else:
                shutil.copyfile(path, target)
        self.files.append(path)

    def add_python_archive(self, archive_path: str, target_dir: str | None = None) -> None:
        path = _existing(archive_path, "add_python_archive()")
        name = target_dir if target_dir is not None else os.path.basename(path)
        if not name or os.path.isabs(name) or ".." in name.split(os.sep):
            raise ValueError(f"add_python_archive() target_dir must be a relative directory name, got {target_dir!r}")
        target = os.path.join(_dependency_dir(), name)
        try:
            shutil.unpack_archive(path, target)
        except (shutil.ReadError, ValueError) as e:
            raise ValueError(f"add_python_archive(): {archive_path!r} is not an archive ferroflow can extract: {e}") from None
        if target not in sys.path:
            sys.path.insert(0, target)
        self.archives.append((path, target_dir))

    def set_python_requirements(self, requirements_file_path: str, requirements_cache_dir: str | None = None) -> None:
        path = _existing(requirements_file_path, "set_python_requirements()")
        self.requirements = (path, requirements_cache_dir)

    def set_python_executable(self, python_exec: str) -> None:
        if not isinstance(python_exec, str):
            raise TypeError(f"set_python_executable() takes a str, got {type(python_exec).__name__}")
        self.executable = python_exec

    def register_cached_file(self, file_path: str, name: str, executable: bool) -> None:
        path = local_path(file_path, "register_cached_file() file_path")
        if not os.path.exists(path):
            raise FileNotFoundError(f"register_cached_file(): {file_path!r} does not exist")
        if not isinstance(name, str) or not name:
            raise TypeError(f"register_cached_file() name must be a non-empty str, got {name!r}")
        if not isinstance(executable, bool):
            raise TypeError(f"register_cached_file() executable must be a bool, got {type(executable).__name__}")
        known = self.cached_files.get(name)
        if known is not None and known[0] != path:
            raise ValueError(f"register_cached_file(): the name {name!r} is already registered for {known[0]!r}")
        self.cached_files[name] = (path, executable)

    def add_jars(self, key: str, paths: Iterable[str]) -> None:
        for p in paths:
            if not isinstance(p, str):
                raise TypeError(f"jar and classpath URLs must be str, got {type(p).__name__} ({p!r})")
            self.jars[key].append(p)


def _split(value: str, sep: str = ",") -> list[str]:
    return [p.strip() for p in value.split(sep) if p.strip()]
