# TRD Tracker: `make run` (demo app on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000
DEMO_PASSWORD ?=

.PHONY: run test smoke lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo $(if $(DEMO_PASSWORD),--password "$(DEMO_PASSWORD)")
	@echo "TRD Tracker: open http://$(HOST)/ and sign in with a demo login above."
	$(BIN)/python manage.py runserver $(HOST)

test: $(VENV)/.installed-dev
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The production path: docker-compose.yml's services as processes, DEBUG=0, real PostgreSQL/Redis.
smoke: $(VENV)/.installed-dev
	$(BIN)/python deploy/smoke.py

# Not a test: export throughput/memory and page latency on PostgreSQL, printed as JSON.
# Works in a scratch database it creates and drops on the server of DATABASE_URL.
bench: $(VENV)/.installed-dev
	@case "$$DATABASE_URL" in postgres://*|postgresql://*) ;; \
	  *) echo "make bench needs PostgreSQL: DATABASE_URL=postgres://user@host:5432/db make bench" >&2; exit 2;; esac
	$(BIN)/python bench/run.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache
