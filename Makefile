# Developer commands. See CONTRIBUTING.md for what each does and why.

PYTHON ?= python3
CARGO ?= cargo
# One Rust build directory outside the checkout, shared by develop, test-rust and lint.
CARGO_TARGET_DIR ?= $(HOME)/.cache/ferroflow/target
export CARGO_TARGET_DIR

PYTHON_DIRS := python tests benches examples scripts

.PHONY: develop wheel test test-rust test-python test-notebooks lint fmt bench

# Builds the Rust extension (release mode) and installs the package in editable mode, with the
# test tools.
develop:
	$(PYTHON) -m pip install --quiet "maturin>=1.9.4,<2"
	$(PYTHON) -m pip install --quiet --no-build-isolation -e ".[test]"

# Builds the wheel users install into dist/ (release; RocksDB linked in, no libpython), for the
# interpreter $(PYTHON). MANYLINUX is the platform tag it must honestly carry: maturin refuses to
# build when the extension needs newer system libraries than that tag allows.
MANYLINUX ?= manylinux_2_35
wheel:
	$(PYTHON) -m pip install --quiet "maturin>=1.9.4,<2"
	rm -f dist/ferroflow-*.whl
	$(PYTHON) -m maturin build --release --interpreter $(PYTHON) --compatibility $(MANYLINUX) --out dist

# Everything, from a fresh clone: build, Rust tests, Python tests, notebooks.
test: develop test-rust test-python test-notebooks

test-rust:
	$(CARGO) test --release

test-python:
	$(PYTHON) -m pytest

test-notebooks:
	$(PYTHON) scripts/run_notebooks.py

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --release -- -D warnings
	$(PYTHON) -m ruff check $(PYTHON_DIRS)

# Rewrites the code: rustfmt, and the fixes ruff can make by itself.
fmt:
	$(CARGO) fmt
	$(PYTHON) -m ruff check --fix-only $(PYTHON_DIRS)

bench:
	$(PYTHON) benches/bench_workloads.py
