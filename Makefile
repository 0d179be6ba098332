# The two commands from the README:
#   make demo   install, then one pass over the sample records in config/, as a preview
#   make test   install everything the tests need, then lint, type-check and test
# Also: make lock (refresh the lock files), make bench, make clean, make distclean.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# exact versions for Python 3.11 on Linux: requirements.lock is what the Docker image
# runs, requirements-dev.lock adds the tools the tests need
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
COMPILE := $(BIN)/uv pip compile pyproject.toml --quiet --python-version 3.11 \
	--python-platform x86_64-unknown-linux-gnu --custom-compile-command "make lock"

.PHONY: demo test lint devenv bench lock clean distclean

# dependencies from the lock, then the package itself without resolving anything
# (setuptools prints an advisory banner on every editable install; it says nothing
# about this project, so its module's warnings are silenced for that one step)
$(STAMP): pyproject.toml $(DEV_LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r $(DEV_LOCK)
	PYTHONWARNINGS="ignore:::setuptools.command.editable_wheel" \
		$(BIN)/pip install --quiet --no-deps -e .
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
	$(BIN)/pytest --cov

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/summarize.py

# after editing dependencies in pyproject.toml: resolve them again, newest allowed versions
lock: $(STAMP)
	$(BIN)/pip install --quiet uv
	$(COMPILE) --upgrade -o $(LOCK)
	$(COMPILE) --upgrade --extra dev -o $(DEV_LOCK)

# forget the state (what was seen and posted) and build outputs; keep the installs
clean:
	rm -rf state/feedbot.db state/feedbot.db-* state/feedbot.heartbeat \
		state/feedbot.heartbeat.tmp build dist bot.egg-info *.egg-info

# also remove the virtual environment and .cache (the tests' local PDS, ~650 MB)
distclean: clean
	rm -rf $(VENV) .cache .mypy_cache .ruff_cache .pytest_cache .hypothesis
