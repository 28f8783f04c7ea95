"""``ferroflow check prog.py``: what of a ferroflow program would and would not run on Flink.

A static reading of the program (its AST; nothing is run, no cluster or PyFlink is needed): every
import of a ferroflow module or name that PyFlink lacks, and every call of a ferroflow-only
method (:mod:`ferroflow.flink.features`), with its line, whether it is translated and why.
``ferroflow run --target remote`` runs the same check and submits nothing when something would
not run.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ferroflow.flink import features

__all__ = ["Finding", "check_file", "check_source", "format_report"]


@dataclass(frozen=True)
class Finding:
    line: int
    feature: features.Feature

    @property
    def runs(self) -> bool:
        return self.feature.translated


def _module_feature(module: str) -> features.Feature | None:
    parts = module.split(".")
    for i in range(len(parts), 1, -1):
        feature = features.MODULES.get(".".join(parts[:i]))
        if feature is not None:
            return feature
    return None


class _Visitor(ast.NodeVisitor):
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def _add(self, node: ast.AST, feature: features.Feature | None) -> None:
        if feature is not None:
            self.findings.append(Finding(getattr(node, "lineno", 0), feature))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.startswith("ferroflow."):
                self._add(node, _module_feature(alias.name))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or not (module == "ferroflow" or module.startswith("ferroflow.")):
            return
        feature = _module_feature(module)
        if feature is not None:
            self._add(node, feature)
            return
        for alias in node.names:
            self._add(node, features.NAMES.get((module, alias.name)) or _module_feature(f"{module}.{alias.name}"))

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Attribute):
            self._add(node, features.MEMBERS.get(node.func.attr))
        self.generic_visit(node)


def check_source(source: str, filename: str = "<program>") -> list[Finding]:
    """The program's uses of what PyFlink lacks, in line order (SyntaxError when it is not Python)."""
    visitor = _Visitor()
    visitor.visit(ast.parse(source, filename))
    unique = {(f.line, f.feature.what): f for f in visitor.findings}
    return sorted(unique.values(), key=lambda f: (f.line, f.feature.what))


def check_file(path: str) -> list[Finding]:
    with open(path, encoding="utf-8") as f:
        return check_source(f.read(), path)


def format_report(path: str, findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        verdict = "translated" if f.runs else "does not run on Flink"
        lines.append(f"{path}:{f.line}: {f.feature.what}: {verdict}: {f.feature.why}")
    blocking = sum(not f.runs for f in findings)
    translated = len(findings) - blocking
    if blocking:
        lines.append(f"{path}: {blocking} use(s) of ferroflow-only features would not run on a Flink cluster")
    else:
        extra = f" ({translated} translated to PyFlink's equivalents)" if translated else ""
        lines.append(f"{path}: runs on a Flink cluster{extra}")
    return "\n".join(lines) + "\n"
