# Pishkhan — every command the README, CI and developers use. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PISHKHAN := $(BIN)/pishkhan
PYTEST := $(BIN)/pytest
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help demo test install install-dev assets messages lint format check-migrations check-deploy \
        test-sqlite test-postgres test-e2e serve clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

demo: install assets messages ## Install, migrate, seed the demo city and serve it at http://127.0.0.1:8000
	$(PISHKHAN) demo --host $(HOST) --port $(PORT)

test: install-dev assets messages ## Install what the tests need, then lint, checks, SQLite, PostgreSQL and browser tests
	./scripts/system-deps test
	$(MAKE) --no-print-directory lint check-migrations check-deploy
	$(MAKE) --no-print-directory test-sqlite test-postgres test-e2e

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed"; exit 1; }
	./scripts/system-deps demo
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed ## Create the virtual environment and install Pishkhan
install-dev: $(VENV)/.installed-dev ## … with the development dependencies

assets: $(VENV)/.installed node_modules/.package-lock.json ## Fetch the font (npm) and copy it into the static folder
	$(BIN)/python scripts/assets.py

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

messages: $(VENV)/.installed ## Compile the translations (.po → .mo)
	$(PISHKHAN) manage compilemessages --ignore=.venv --ignore=node_modules --verbosity 0

lint: ## ruff: lint and formatting
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts

format: ## ruff: fix what can be fixed and format
	$(BIN)/ruff check --fix src tests scripts
	$(BIN)/ruff format src tests scripts

check-migrations: ## Fail when a model change has no migration
	$(PISHKHAN) manage makemigrations --check --dry-run

check-deploy: ## `check --deploy` under production settings, warnings fail
	PISHKHAN_ENV=production PISHKHAN_SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	PISHKHAN_ALLOWED_HOSTS=pishkhan.example.org PISHKHAN_DATA_DIR="$$(mktemp -d)" \
	$(PISHKHAN) check --deploy --fail-level WARNING

test-sqlite: ## The suite on SQLite (no browser)
	$(PYTEST) -m "not e2e"

test-postgres: ## The suite on a throwaway PostgreSQL cluster (no browser)
	./scripts/with-postgres $(PYTEST) -m "not e2e"

test-e2e: ## Browser tests in Debian's Chromium; screenshots in test-artifacts/
	$(PYTEST) -m e2e

serve: install assets messages ## Serve without seeding
	$(PISHKHAN) serve --host $(HOST) --port $(PORT)

clean: ## Remove the virtual environment, node_modules, collected files and the local database
	rm -rf $(VENV) node_modules var src/pishkhan/static/vendor test-artifacts
