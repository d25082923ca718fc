# The two commands:
#   make demo   the demo quest on http://127.0.0.1:8000/, embedded default (SQLite, in-process tasks)
#   make test   lint + the whole suite against a throwaway PostgreSQL and Redis (what CI runs)
# Both work on a fresh machine: they create .venv and install what is missing.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV := .venv
PY := $(VENV)/bin/python
# Inside the venv, so a rebuilt venv always reinstalls.
STAMP := $(VENV)/.requirements.stamp
# A hung test (a worker that never answers) fails after this long instead of eating CI's time.
PYTEST_ARGS ?= --timeout=300 -ra

.PHONY: help venv reader demo test lint fmt bench clean distclean system-deps

help:
	@echo "make demo       serve the demo quest on http://127.0.0.1:8000/ (SQLite, no servers needed)"
	echo "make test       ruff, import contracts, mypy + the whole test suite on throwaway PostgreSQL and Redis (as CI)"
	echo "make lint       ruff check, ruff format --check, lint-imports (the import contracts) and mypy"
	echo "make fmt        ruff format and ruff check --fix"
	echo "make bench      run bench/*.py with PostgreSQL and Redis (BENCH=burst BENCH_ARGS=--quick: one)"
	echo "make reader     compile the reader with mypyc into .build/reader (make demo/test/bench do it)"
	echo "make venv       create .venv and install requirements-dev.txt (when they changed)"
	echo "make clean      remove caches and collected static files; distclean also .venv and db.sqlite3"

venv: $(STAMP)
	@:

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	@if ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
	    python=$$(bin/find-python)
	    echo "Creating $(VENV) with $$python"
	    rm -rf $(VENV)
	    "$$python" -m venv $(VENV)
	fi
	echo "Installing requirements-dev.txt into $(VENV)"
	$(PY) -m pip install --disable-pip-version-check --quiet -r requirements-dev.txt
	touch $(STAMP)

# The reader compiled with mypyc (bin/build-reader, votes/reading/compiled.py): a
# speed-up only, rebuilt when its sources change, skipped without a C compiler.
reader: venv
	@$(PY) bin/build-reader

demo: venv reader
	@# The embedded default: no DATABASE_URL or REDIS_URL means SQLite and eager Celery.
	unset DATABASE_URL REDIS_URL CELERY_TASK_ALWAYS_EAGER
	export DEBUG=1
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	echo "Serving http://127.0.0.1:8000/ (Ctrl-C stops it)"
	exec $(PY) manage.py runserver 127.0.0.1:8000

# Debian packages the suite needs: Redis and Chromium are not on a new machine;
# PostgreSQL 15 usually is, but is installed the same way when it is not.
system-deps:
	@missing=()
	command -v redis-server >/dev/null || missing+=(redis-server)
	[[ -x /usr/bin/chromium ]] || missing+=(chromium)
	[[ -x /usr/lib/postgresql/15/bin/initdb ]] || missing+=(postgresql-15)
	if (( $${#missing[@]} )); then
	    sudo=""
	    if [[ $$(id -u) -ne 0 ]]; then sudo=sudo; fi
	    echo "Installing $${missing[*]} for the test suite:" \
	        "$${sudo:+$$sudo }apt-get update && $${sudo:+$$sudo }apt-get install -y $${missing[*]}"
	    $$sudo apt-get update
	    DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y "$${missing[@]}"
	fi

test: venv reader system-deps
	bin/with-services bin/check $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

fmt: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# `make bench` runs every bench/*.py (helpers are named _*.py); `make bench BENCH=burst`
# runs one, with BENCH_ARGS passed to it (`BENCH_ARGS=--quick`).
BENCH ?= [!_]*
bench: venv reader system-deps
	@export DJANGO_SETTINGS_MODULE=quest.settings PYTHONPATH=.
	bin/with-services bash -c '
	    set -euo pipefail
	    shopt -s nullglob
	    scripts=(bench/$(BENCH).py)
	    if (( $${#scripts[@]} == 0 )); then echo "no bench/$(BENCH).py"; exit 0; fi
	    for script in "$${scripts[@]}"; do
	        echo "==> $$script"
	        $(PY) "$$script" $(BENCH_ARGS)
	    done'

clean:
	rm -rf staticfiles .pytest_cache .hypothesis .ruff_cache .mypy_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) db.sqlite3
