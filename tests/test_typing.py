"""ferroflow ships its type information: the package is marked typed (``py.typed``), the engine
module has stubs (``_engine.pyi``), and the examples pass ``mypy --strict`` against the installed
package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import ferroflow

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_the_package_is_marked_typed_and_the_engine_has_stubs() -> None:
    package = Path(ferroflow.__file__).parent
    assert (package / "py.typed").is_file()
    assert (package / "_engine.pyi").is_file()


def test_the_examples_pass_mypy_strict(tmp_path: Path) -> None:
    pytest.importorskip("mypy", reason="mypy is in the test extra: pip install 'ferroflow[test]'")
    examples = sorted(str(p) for p in EXAMPLES.glob("*.py"))
    assert examples
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), *examples],
        cwd=tmp_path, check=False, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
