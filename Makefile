# The two commands a newcomer needs: `make up` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
STACK ?= local
PYTEST_ARGS ?=

.PHONY: help prereqs venv up down status lint fmt test test-unit test-faults test-security lock keys bench demo asyncapi

help:
	@echo "make up       start PostgreSQL, Kafka, the sandbox and the four services (STACK=compose for Docker)"
	@echo "make down     stop everything make up started"
	@echo "make status   show what is running"
	@echo "make test     lint, then the whole suite against the real stack"
	@echo "make lint     ruff, mypy and import-linter"
	@echo "make bench    benchmarks against the running stack; report in bench/REPORT.md"
	@echo "make asyncapi regenerate docs/asyncapi.json (the topics and events) after a contract changes"

prereqs:
	@bash deploy/prereqs.sh

$(VENV)/.installed: pyproject.toml requirements.lock | prereqs
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q "uv==$(UV_VERSION)"
	$(VENV)/bin/uv pip sync -q --python $(PY) requirements.lock
	$(VENV)/bin/uv pip install -q --python $(PY) --no-deps -e .
	touch $@

venv: $(VENV)/.installed

keys: venv
	$(PY) -m common.devstack keys

up: venv
ifeq ($(STACK),compose)
	$(PY) -m common.devstack keys
	docker compose up -d --build --wait
else
	$(PY) -m common.devstack up
endif

down: venv
ifeq ($(STACK),compose)
	docker compose down
else
	$(PY) -m common.devstack down
endif

status: venv
	$(PY) -m common.devstack status

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy libs services deploy/sandbox
	$(VENV)/bin/lint-imports

fmt: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The suite starts whatever part of the stack is not running and stops only that at the end.
test: lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test-unit: venv
	$(VENV)/bin/pytest -m unit $(PYTEST_ARGS)

# The fault suite alone: kill -9 of every process, a power-cut PostgreSQL, a frozen consumer.
test-faults: venv
	$(VENV)/bin/pytest tests/faults -s $(PYTEST_ARGS)

# The security suite alone (make test runs it too, after the others, so its scan sees their data).
test-security: venv
	$(VENV)/bin/pytest tests/security $(PYTEST_ARGS)

lock: venv
	$(VENV)/bin/uv pip compile -q pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

# Benchmarks against the running stack; the report goes to bench/REPORT.md (checked in).
bench: venv
	$(PY) -m common.devstack up
	$(PY) -m tests.bench.run

# The AsyncAPI document of the topics and events, from the catalogue and the contracts (a test
# fails when the checked-in copy is behind).
asyncapi: venv
	$(PY) -m common.asyncapi > docs/asyncapi.json

# A small multi-tenant portfolio through the running stack, and what came of it.
demo: up
	$(VENV)/bin/collectctl demo
