# The two commands: `make run` (serve the platform with demo data) and `make test` (the suite).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
export LMS_INSTANCE_PATH ?= $(CURDIR)/instance
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# This machine's pip configuration warns about every missing local index folder; hide that noise.
QUIET_PIP := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }

.PHONY: run test install translations translations-check benchmarks wheel-check clean

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip $(QUIET_PIP)
	$(PY) -m pip install --quiet -e ".[dev]" $(QUIET_PIP)
	touch $@

install: $(VENV)/.installed
	$(PY) scripts/i18n.py compile

run: install
	$(VENV)/bin/flask --app lms db upgrade
	$(VENV)/bin/flask --app lms demo seed --if-empty
	$(VENV)/bin/flask --app lms run --host $(HOST) --port $(PORT)

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

translations: install
	$(PY) scripts/i18n.py update
	$(PY) scripts/i18n.py missing

benchmarks: install
	$(PY) benchmarks/run_all.py

wheel-check: install
	bash scripts/check_wheel.sh

clean:
	rm -rf $(VENV) build dist *.egg-info
