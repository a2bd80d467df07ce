# make run: the portal with a demo webstore, worker and scheduler.  make test: the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
export FLASK_APP := app
export SANDBOX_PORT ?= 8081
# honcho gives each process its own PORT (5000, 5100, ...): the web server, first in the
# Procfile, gets this one; the start-up box is told where it is.
export PORT ?= 5000
export PORTAL_URL ?= http://127.0.0.1:$(PORT)/
export SANDBOX_URL ?= http://127.0.0.1:$(SANDBOX_PORT)

.PHONY: install run test lint format bench clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python scripts/ensure_redis.py
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile

# On PostgreSQL whenever one answers (scripts/test_database.py); TEST_DATABASE_URL=sqlite
# for SQLite. Two workers, a module's tests on one (its sandbox stores start once).
test: install
	$(BIN)/python scripts/ensure_redis.py
	scripts/ensure_chromium.sh
	TEST_DATABASE_URL="$$($(BIN)/python scripts/test_database.py)" \
		$(BIN)/pytest -n 2 --dist loadfile $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python scripts/ensure_redis.py
	$(BIN)/python bench/import_orders.py --orders 2000

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
