# make run: set up everything on a fresh machine and start the panel with its worker.
# make test: the same set-up plus test dependencies and Chromium, then every test.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: bench bench-huge dev prepare lint run test test-sqlite test-postgres setup setup-test chromium worker clean

setup: $(VENV)/.installed static/vendor/htmx.min.js

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed tests/requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/vendor/htmx.min.js: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js

# `make run` serves the panel as production does: gunicorn (WORKERS processes of THREADS threads) with the
# worker beside it. `make dev` is the same with Flask's reloading development server instead.
WORKERS ?= 2
THREADS ?= 4

run: prepare
	@$(FLASK) worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers $(WORKERS) --threads $(THREADS) --access-logfile - wsgi:app

dev: prepare
	@$(FLASK) worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --debug --host $(HOST) --port $(PORT)

prepare: setup
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@echo
	@if [ -f instance/demo_admin.txt ]; then \
	  echo "Sign in at http://$(HOST):$(PORT)/login as $$(sed -n 1p instance/demo_admin.txt)"; \
	  echo "Password: $$(sed -n 2p instance/demo_admin.txt)   (kept in instance/demo_admin.txt)"; \
	fi
	@echo

worker: setup
	$(FLASK) worker

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's Chromium for the browser tests"; \
	  apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

setup-test: setup $(VENV)/.test-installed chromium

# The layering contracts (.importlinter), the whole suite on SQLite (PostgreSQL-only tests included), then
# again on PostgreSQL, browser tests included (their live server then serves the PostgreSQL database). The
# 2-minute load test runs against gunicorn + PostgreSQL whatever --db says, so the second pass leaves it out.
test: setup-test lint
	cd tests && ../$(BIN)/pytest -q
	cd tests && ../$(BIN)/pytest -q --db=postgresql --ignore=load

lint: setup-test
	$(BIN)/lint-imports --no-cache

test-sqlite: setup-test
	cd tests && ../$(BIN)/pytest -q

test-postgres: setup-test
	cd tests && ../$(BIN)/pytest -q --db=postgresql --ignore=load

clean:
	rm -rf $(VENV) node_modules static/vendor

# Benchmarks with realistic volumes on PostgreSQL; figures go in the README.
bench: setup-test
	$(BIN)/python tests/bench/bench_pages.py
	$(BIN)/python tests/bench/bench_calls.py
	$(BIN)/python tests/bench/bench_load.py

# The huge data set (1M customers, 10M contacts, 100M calls, 10M audit entries) seeded into a kept database,
# then every page under load, the import and roll-ups, and audit-verify on it: hours, and tens of GB of disk;
# not part of `make bench` (tests/bench/bench_huge.py).
bench-huge: setup-test
	$(BIN)/python tests/bench/bench_huge.py
