# After-sales service platform. `make run` brings the system up; `make test` runs every test.
SHELL := /bin/bash
PY := .venv/bin/python
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv broker run test test-unit demo bench docs clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

venv: ## create .venv and install the pinned dependencies
	@bash scripts/ensure-venv.sh

broker: venv ## make sure a RabbitMQ broker answers (start or install one)
	@bash scripts/ensure-broker.sh

run: ## start the whole system locally (Ctrl-C stops it)
	@bash scripts/run.sh

test: venv broker ## run every test: unit, integration (RabbitMQ; SQLite and PostgreSQL), end to end
	@bash scripts/ensure-postgres.sh
	@bash scripts/ensure-test-tools.sh
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test-unit: venv ## only the fast tests (no broker, no database server)
	$(PY) -m pytest -q -p no:cacheprovider -m "not integration and not e2e" $(PYTEST_ARGS)

demo: venv ## play phone centers, engineers and customers against the running system
	$(PY) -m aftersales simulate

bench: venv broker ## run the benchmarks (results in bench/results/)
	$(PY) bench/run.py

docs: venv ## regenerate docs/events.md from the event contracts
	$(PY) -m aftersales events-doc

clean: ## remove local data, logs and caches (keeps .venv)
	rm -rf var .pytest_cache
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +
