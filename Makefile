# The two commands from the README:
#   make demo   install, then one pass over the sample records in config/, as a preview
#   make test   install everything the tests need, then lint, type-check and test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint devenv bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/feedbot run --once

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# a local PLC + PDS (@atproto/dev-env on Node 22, both from the npm registry) for the tests,
# and PostgreSQL's programs for the AppView tests (Debian's package, installed when missing)
devenv:
	bash scripts/devenv.sh
	bash scripts/devenv/postgres.sh >/dev/null

test: lint devenv
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/summarize.py

clean:
	rm -rf $(VENV) .cache state/feedbot.db state/feedbot.db-* state/feedbot.heartbeat
