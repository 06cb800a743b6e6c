# Two entry points (see README): `make demo` and `make test`. Both set up .venv/ first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint browser postgres bench prefect-trial clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/ghsync demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The end-to-end test screenshots the Prefect UI with Debian's chromium, not on a fresh machine.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" -eq 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium </dev/null; } || \
	  { echo "install Debian's chromium (apt-get install chromium) for the e2e test" >&2; exit 1; }

# The distributed tests run a throwaway PostgreSQL (DuckLake's catalog, a Prefect server's
# database) with Debian's server programs (initdb, pg_ctl in /usr/lib/postgresql/*/bin).
postgres:
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  { [ "$$(id -u)" -eq 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql </dev/null; } || \
	  { echo "install Debian's postgresql (apt-get install postgresql) for the DuckLake tests" >&2; exit 1; }

test: lint browser postgres
	$(BIN)/pytest

bench: setup
	$(BIN)/python -m tests.bench

prefect-trial: setup  # README "Run it with Prefect", in one step, against the emulator
	$(BIN)/python -m tests.e2e.prefect_stack

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
