# The two commands of the README: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

.PHONY: demo test serve seed lint format bench clean

# Runtime install: what the service needs (requirements.txt) plus the `mikrokort` command.
$(VENV)/.runtime: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt -e .
	touch $@

# Test install: the runtime plus test tools, and GDAL from Debian.
$(VENV)/.dev: $(VENV)/.runtime dev-requirements.txt
	$(BIN)/python -m pip install -q -r dev-requirements.txt
	touch $@

## demo: create the venv, install, seed the synthetic demo data, serve on 127.0.0.1:$(PORT)
demo: $(VENV)/.runtime
	$(BIN)/mikrokort seed --demo
	$(BIN)/mikrokort serve --port $(PORT)

## test: install everything the tests need, lint, and run the whole suite
test: $(VENV)/.dev
	bash scripts/install-system-deps.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

serve: $(VENV)/.runtime
	$(BIN)/mikrokort serve --port $(PORT)

seed: $(VENV)/.runtime
	$(BIN)/mikrokort seed --demo

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff format .

## bench: the benchmarks of docs/BENCHMARKS.md (slow; prints figures, asserts nothing)
bench: $(VENV)/.dev
	$(BIN)/python bench/bbox_queries.py
	$(BIN)/python bench/dynamodb_viewports.py

clean:
	rm -rf $(VENV) .data .pytest_cache .ruff_cache
