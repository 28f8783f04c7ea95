"""PyFlink's own example programs run unmodified with ``ferroflow run`` and print what they print
under PyFlink 2.3.0 (recorded in tests/data/pyflink_examples/expected; its README says how the
outputs are compared)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent / "data" / "pyflink_examples"
UNORDERED = {"word_count.py", "event_time_timer.py", "process_json_data.py"}
PROGRAMS = sorted(str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*.py"))
SUBTASK_PREFIX = re.compile(r"^\d+> ")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ferroflow", "run", *args], cwd=cwd, check=False, capture_output=True, text=True, timeout=120
    )


def lines(text: str) -> list[str]:
    return [SUBTASK_PREFIX.sub("", line) for line in text.splitlines()]


def test_every_example_is_checked() -> None:
    assert len(PROGRAMS) == 10
    for program in PROGRAMS:
        assert (EXAMPLES / "expected" / (program.replace("/", "_")[: -len(".py")] + ".out")).is_file()


@pytest.mark.parametrize("program", PROGRAMS)
def test_example_prints_what_pyflink_prints(program: str, tmp_path: Path) -> None:
    result = run(str(EXAMPLES / program), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    expected = lines((EXAMPLES / "expected" / (program.replace("/", "_")[: -len(".py")] + ".out")).read_text())
    got = lines(result.stdout)
    if program in UNORDERED:
        expected, got = sorted(expected), sorted(got)
    assert got == expected


def test_word_count_reads_its_arguments(tmp_path: Path) -> None:
    """``--input`` reaches the script's argparse: the words of the file are counted (BATCH mode:
    one final count per word)."""
    text = tmp_path / "words.txt"
    text.write_text("to be or not\nto be\n")
    result = run(str(EXAMPLES / "word_count.py"), "--input", str(text), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    counts = sorted(line for line in result.stdout.splitlines() if line.startswith("("))
    assert counts == ["(be,2)", "(not,1)", "(or,1)", "(to,2)"]
