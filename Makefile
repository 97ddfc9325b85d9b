# Two commands do all set-up on a fresh machine: `make run` and `make test`.
# Both create .venv and install the project into it when pyproject.toml changed.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench requirements system
run: $(STAMP)
	$(BIN)/python -m bot $(ARGS)

test: $(STAMP) lint system
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict bot
	$(BIN)/lint-imports

# Debian's Chromium (the desk's browser tests) and PostgreSQL (the store tests), installed when missing.
system:
	@bash scripts/system-packages.sh

# requirements.txt (for a host's buildpack) is generated from pyproject.toml; a test fails when
# it is out of date.
requirements:
	$(PY) scripts/requirements.py

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@
