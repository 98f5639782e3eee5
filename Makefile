# cimbus developer entry points. Every target bootstraps .venv when it is missing or older
# than pyproject.toml, so `make test` and `make demo` work from a fresh clone.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cimbus-stamp
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: venv demo test test-fast models lint fmt bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

## Run the whole system on the embedded default (no server needed).
demo: $(STAMP)
	$(BIN)/cimbus demo

## Full test suite (broker tests run when CI=true, and whenever the brokers answer).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -x -q -m "not slow and not broker" $(PYTEST_ARGS)

## Regenerate cim_models/generated/ from the XSD profiles (xsdata, pinned; runs ruff).
models: $(STAMP)
	$(BIN)/python -m cim_models.regenerate

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python bench/bench_codec.py
	$(BIN)/python bench/bench_bus.py
	$(BIN)/python bench/bench_store_writes.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
