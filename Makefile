# Two commands on a fresh machine with only python3: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PLAN := fixtures/ohnojo_dx_r4.json
CHROMIUM := /usr/bin/chromium
# Run apt as root directly, otherwise through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test setup chromium lint bench load clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

# Browser tests drive Debian's chromium; never a browser downloaded by Playwright.
chromium:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }

run: $(STAMP)
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DJANGO_DEBUG=1 $(BIN)/python manage.py setup_roles
	DJANGO_DEBUG=1 $(BIN)/python manage.py import_plan $(PLAN)
	DJANGO_DEBUG=1 $(BIN)/python manage.py load_demo
	DJANGO_DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(STAMP) chromium
	SECRET_KEY=test-only $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	SECRET_KEY=test-only SECURE_COOKIES=0 $(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles

# Scale benchmark (not part of `make test`): 5,000 measures × 10 years, then importing 20,000 rows of
# actuals; writes docs/benchmark.md.
bench: $(STAMP)
	status=0; for script in run import_speed xlsx_writers; do $(BIN)/python bench/$$script.py || status=1; done; exit $$status

# Load test (not part of `make test`): gunicorn under 32 signed-in clients for 60 s (LOAD_SECONDS), on a
# throwaway PostgreSQL (30 and 3,000 measures, and with the server restarted mid-run) and on SQLite;
# verifies every acknowledged save in the database; writes its section of docs/benchmark.md.
load: $(STAMP)
	$(BIN)/python bench/load.py
