# Everything runs from .venv, built on first use: a fresh machine needs only Python 3.11 and make.
#   make run                          convhub serve on http://127.0.0.1:8000
#   make demo                         the hub and examples/ playing a conversation (convhub demo)
#   make test PYTEST_ARGS='-k token'  the test suite (CONVHUB_TEST_DATABASE_URL picks PostgreSQL)
#   make lint / make format           ruff and mypy, as CI runs them
#   make bench                        every bench/bench_*.py, then bench/README.md's table (< 10 min)

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install: the venv is rebuilt only when pyproject.toml changes.
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: venv run demo test lint format clean bench

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: python3.11 (or python3) not found" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "error: $(PYTHON) is older than Python 3.11" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: venv
	$(BIN)/convhub serve

demo: venv
	$(BIN)/convhub demo

test: venv
	$(BIN)/pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check src tests examples bench
	$(BIN)/ruff format --check src tests examples bench
	$(BIN)/mypy
	$(BIN)/mypy examples

format: venv
	$(BIN)/ruff check --fix src tests examples bench
	$(BIN)/ruff format src tests examples bench

# Benchmarks on loopback (PostgreSQL at CONVHUB_BENCH_PG_URL, default the local server): each
# prints its figures and writes bench/results/<name>.json; report.py renders bench/README.md.
bench: venv
	@for b in bench/bench_*.py; do echo "==== $$b"; $(BIN)/python $$b || exit 1; done
	$(BIN)/python bench/report.py

# Caches and build leftovers only; `rm -rf .venv` rebuilds the environment on the next make.
clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache build dist src/*.egg-info
	find src tests examples -name __pycache__ -type d -prune -exec rm -rf {} +
