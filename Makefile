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
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks scripts
	$(BIN)/ruff check --fix src tests benchmarks scripts

bench: $(STAMP)
	@for script in benchmarks/bench_*.py; do $(BIN)/python $$script; done

# Re-extract translatable strings and merge them into the Russian catalog. The catalog keeps
# its header (Language, Plural-Forms, charset), so any gettext tool reads it right. An empty
# or missing catalog is initialised once; afterwards it is only updated. Strings gone from
# the source are dropped, not kept as obsolete entries (tests/core/test_i18n.py checks both).
RU_CATALOG := src/h2h/locales/ru/LC_MESSAGES/messages.po
messages: $(STAMP)
	mkdir -p build
	$(BIN)/pybabel extract -F babel.cfg -k N_ -c TRANSLATORS: --project=H2H --no-location \
		--sort-output -o build/messages.pot src/h2h
	if [ -s $(RU_CATALOG) ]; then \
		$(BIN)/pybabel update -i build/messages.pot -d src/h2h/locales -D messages -l ru \
			--no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date; \
	else \
		$(BIN)/pybabel init -i build/messages.pot -d src/h2h/locales -D messages -l ru; \
	fi

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
