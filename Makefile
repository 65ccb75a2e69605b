# Two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")

.PHONY: uv setup demo test lint format bench fuzz clean

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

setup: uv
	@$(UV) sync --locked --all-extras --quiet --compile-bytecode

demo: setup
	@$(UV) run --locked python -m sklambda.cli.demo

# Two pytest-xdist workers (whole modules per worker, so module fixtures build once);
# `make test PYTEST_WORKERS=0` runs in one process.
PYTEST_WORKERS ?= 2

test: setup lint
	@$(UV) run --locked pytest -q -n $(PYTEST_WORKERS) --dist loadfile

lint: setup
	@$(UV) run --locked ruff check
	@$(UV) run --locked ruff format --check
	@$(UV) run --locked mypy

format: setup
	@$(UV) run --locked ruff format
	@$(UV) run --locked ruff check --fix

# The `bench` group adds the alternatives bench_alternatives.py measures (ONNX Runtime, m2cgen);
# `make setup` (and so `make test`) syncs without it.
BENCH := --locked --all-extras --group bench

bench: uv
	@$(UV) sync $(BENCH) --quiet --compile-bytecode
	@$(UV) run $(BENCH) python benchmarks/run_all.py

# Schema-driven fuzzing: >= 10,000 requests per package (lean and scikit-learn) in the emulator.
fuzz: setup
	@$(UV) run --locked python benchmarks/fuzz_openapi.py --cases 10000

clean:
	rm -rf .venv build dist .pytest_cache .ruff_cache demo-out
