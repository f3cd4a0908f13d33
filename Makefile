# H2H — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test lint format bench messages clean install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall when the dependency list or the lock changes.
$(STAMP): $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/h2h demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(STAMP)
	@for script in benchmarks/bench_*.py; do $(BIN)/python $$script; done

# Re-extract translatable strings and merge them into the Russian catalog.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -o build/messages.pot --no-location --omit-header src/h2h
	$(BIN)/pybabel update -i build/messages.pot -d src/h2h/locales -D messages --no-fuzzy-matching --omit-header

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
