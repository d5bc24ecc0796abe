# Two commands for a fresh clone:  `make chat`  (set up + talk to the bot)  and  `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install chat serve test lint typecheck layers flows-check bench clean

# The runtime dependencies exactly as the image gets them (requirements.lock: versions and hashes), then the
# project without dependencies, then the development tools (which leave the locked versions alone).
$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip check
	touch $@

install: $(BIN)/.installed

chat: install  ## talk to the bot in this terminal (ARGS="--user me" to pick a session)
	$(BIN)/taikai-bot chat $(ARGS)

serve: install  ## run the LINE/Slack webhook server
	$(BIN)/taikai-bot serve $(ARGS)

lint: install
	$(BIN)/ruff check bot tests tools

typecheck: install
	$(BIN)/mypy bot

layers: install  ## the dependency contracts in pyproject.toml ([tool.importlinter])
	$(BIN)/lint-imports

flows-check: install
	$(BIN)/taikai-bot flows check

test: lint typecheck layers flows-check  ## everything CI runs: lint, types, layers, flows, tests (Redis tests need redis-server)
	$(BIN)/pytest

bench: install  ## the benchmark, ~2 min on a quiet machine (ARGS="--json bench.json" keeps the figures; docs/benchmark.md)
	$(BIN)/python -m tests.bench $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
