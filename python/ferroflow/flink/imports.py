"""Running a ferroflow program on Flink: ``import ferroflow...`` gives PyFlink's modules.

``install()`` (which the program's driver on the Flink client calls) puts a finder at the front
of ``sys.meta_path`` that maps every ``ferroflow.*`` module to the ``pyflink.*`` module of the
same path (``ferroflow.datastream.functions`` -> ``pyflink.datastream.functions``), the reverse of
:mod:`ferroflow.pyflink_import`. The program then builds a PyFlink job, and its functions are
shipped to Flink's Python workers as PyFlink ships them.

What ferroflow has and PyFlink does not (:mod:`ferroflow.flink.features`) is translated where
PyFlink has an equivalent (``env.from_iterable(list)`` is ``from_collection``) and otherwise fails
where the program uses it with :class:`FlinkNotSupportedError`, naming it and why.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from typing import Any, Callable

from ferroflow.flink import features

__all__ = ["FlinkMemberNotSupportedError", "FlinkNotSupportedError", "install", "is_installed", "uninstall"]

_PREFIX = "ferroflow"
_FINITE = (list, tuple, range, set, frozenset, dict)


class FlinkNotSupportedError(ImportError, NotImplementedError):
    """A ferroflow module or name that a program imports and Flink does not have."""


class FlinkMemberNotSupportedError(NotImplementedError, AttributeError):
    """A ferroflow-only method that a program calls on PyFlink's class (also an AttributeError,
    so ``hasattr()`` answers False)."""


def _message(feature: features.Feature) -> str:
    return f"{feature.what} does not run on a Flink cluster: {feature.why} (see docs/flink-cluster.md)"


def _is_ferroflow(fullname: str) -> bool:
    return fullname == _PREFIX or fullname.startswith(_PREFIX + ".")


def _pyflink_name(fullname: str) -> str:
    return "pyflink" + fullname[len(_PREFIX):]


class _FerroflowAlias(types.ModuleType):
    """``ferroflow.x``: the attributes of ``pyflink.x``, or a clear error for ferroflow-only ones."""

    def __init__(self, name: str, target: types.ModuleType) -> None:
        super().__init__(name, target.__doc__)
        self.__dict__["_pyflink_module"] = target
        self.__dict__["__path__"] = []

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self.__dict__["_pyflink_module"], name)
        except AttributeError:
            pass
        if name in features.RELOCATED:
            module_name, attr = features.RELOCATED[name]
            return getattr(importlib.import_module(module_name), attr)
        feature = features.NAMES.get((self.__name__, name))
        if feature is not None:
            raise FlinkNotSupportedError(_message(feature), name=self.__name__)
        raise AttributeError(f"module {self.__name__!r} (PyFlink's {_pyflink_name(self.__name__)!r}) has no attribute {name!r}")


class _Loader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        fullname = spec.name
        feature = features.MODULES.get(fullname)
        if feature is not None:
            raise FlinkNotSupportedError(_message(feature), name=fullname)
        target_name = _pyflink_name(fullname)
        try:
            target = importlib.import_module(target_name)
        except ModuleNotFoundError as e:
            if e.name is None or not target_name.startswith(e.name):
                raise
            raise ModuleNotFoundError(
                f"No module named {fullname!r} (on a Flink cluster ferroflow's modules are PyFlink's, "
                f"and PyFlink has no {target_name!r})",
                name=fullname,
            ) from None
        return _FerroflowAlias(fullname, target)

    def exec_module(self, module: types.ModuleType) -> None:
        pass


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if not _is_ferroflow(fullname):
            return None
        return importlib.machinery.ModuleSpec(fullname, _LOADER, is_package=True)


class _Unsupported:
    """Stands for a ferroflow-only method on PyFlink's class: using it raises."""

    def __init__(self, feature: features.Feature) -> None:
        self.feature = feature

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        raise FlinkMemberNotSupportedError(_message(self.feature))


def _from_iterable(self: Any, iterable: Any, type_info: Any = None) -> Any:
    """``env.from_iterable`` on Flink: PyFlink's ``from_collection`` of the (finite) iterable."""
    if not isinstance(iterable, _FINITE) and not hasattr(iterable, "__len__"):
        raise FlinkMemberNotSupportedError(
            f"env.from_iterable({type(iterable).__name__}) does not run on a Flink cluster: only a finite "
            "collection (a list, tuple, range, set or dict) becomes from_collection there; "
            f"got a {type(iterable).__name__}, which may never end (see docs/flink-cluster.md)"
        )
    return self.from_collection(list(iterable), type_info)


# PyFlink's classes, where ferroflow's have more: the member -> what it becomes.
_CLASS_MEMBERS = {
    ("pyflink.datastream", "StreamExecutionEnvironment"): (
        "from_iterable",
        "set_restart_strategy",
        "get_restart_strategy",
        "set_state_backend",
        "get_state_backend",
    ),
    ("pyflink.common", "WatermarkStrategy"): ("with_per_record_emission", "for_generator"),
    ("pyflink.common", "JobExecutionResult"): ("get_metrics", "get_metrics_history", "get_task_metrics", "get_restarts"),
    ("pyflink.common.job_client", "JobClient"): ("metrics", "get_checkpoints"),
    ("pyflink.datastream", "DataStream"): ("to_pandas",),
}
_TRANSLATIONS: dict[str, Callable[..., Any]] = {"from_iterable": _from_iterable}

_LOADER = _Loader()
_FINDER = _Finder()
_patched: list[tuple[type, str]] = []
_evicted: dict[str, types.ModuleType] = {}


def _patch_classes() -> None:
    for (module_name, class_name), members in _CLASS_MEMBERS.items():
        cls = getattr(importlib.import_module(module_name), class_name)
        for member in members:
            if member in vars(cls):
                continue
            translation = _TRANSLATIONS.get(member)
            setattr(cls, member, translation if translation is not None else _Unsupported(features.MEMBERS[member]))
            _patched.append((cls, member))


def is_installed() -> bool:
    return _FINDER in sys.meta_path


def install() -> None:
    """Makes ``import ferroflow...`` import PyFlink (see the module's documentation).

    Needs PyFlink installed. Modules of ferroflow already imported are forgotten, so that the
    program's imports go through the hook."""
    if is_installed():
        return
    importlib.import_module("pyflink.datastream")
    for name in [m for m in sys.modules if _is_ferroflow(m)]:
        _evicted[name] = sys.modules.pop(name)
    sys.meta_path.insert(0, _FINDER)
    _patch_classes()


def uninstall() -> None:
    """Undoes ``install()``: ``ferroflow`` is ferroflow again."""
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name in [m for m in sys.modules if _is_ferroflow(m)]:
        if isinstance(sys.modules[name], _FerroflowAlias):
            del sys.modules[name]
    sys.modules.update(_evicted)
    _evicted.clear()
    while _patched:
        cls, member = _patched.pop()
        delattr(cls, member)
