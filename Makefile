# After-sales service platform. `make run` brings the system up; `make test` runs every test.
# Everything it needs is set up by scripts/ensure-*.sh (see the comments at their top).
SHELL := /bin/bash
PY := .venv/bin/python
PYTEST := $(PY) -m pytest -q -p no:cacheprovider
# extra pytest arguments, e.g. make test PYTEST_ARGS='-k intake -x'
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv broker run test test-unit fuzz demo bench docs clean

help: ## list the targets
	@echo "make TARGET   (PYTEST_ARGS='...' passes arguments to pytest)"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

venv: ## create .venv (Python 3.11) and install the pinned dependencies when they changed
	@bash scripts/ensure-venv.sh

broker: venv ## make sure a RabbitMQ broker answers at AMQP_URI (reuse, start or install one)
	@bash scripts/ensure-broker.sh

run: ## start the whole system locally: migrations, demo data, four services (Ctrl-C stops it)
	@bash scripts/run.sh

test: venv broker ## run every test: unit, integration (RabbitMQ; SQLite and PostgreSQL), end to end
	@bash scripts/ensure-postgres.sh
	@bash scripts/ensure-test-tools.sh
	$(PYTEST) $(PYTEST_ARGS)

test-unit: venv ## only the fast tests (no broker, no database server)
	$(PYTEST) -m "not integration and not e2e" $(PYTEST_ARGS)

demo: venv ## play phone centers, engineers and customers against the running system (make run first)
	AFTERSALES_MODE=$${AFTERSALES_MODE:-development} $(PY) -m aftersales simulate

bench: venv ## the benchmark suite on its own RabbitMQ node (BENCH_ARGS='--quick', '--only storm', '--help'); results in bench/results/
	$(PY) bench/run.py $(BENCH_ARGS)

fuzz: venv broker ## Schemathesis against the four running services, 200 cases a route (make test runs 10)
	AFTERSALES_FUZZ_EXAMPLES=$${AFTERSALES_FUZZ_EXAMPLES:-200} $(PYTEST) tests/test_openapi_fuzz.py $(PYTEST_ARGS)

docs: venv ## regenerate docs/events.md, docs/access.md, docs/openapi/ from the code, and the Grafana dashboards
	$(PY) -m aftersales events-doc
	$(PY) deploy/grafana/dashboards.py

clean: ## remove local data (var/: databases, logs), caches (keeps .venv)
	@for f in var/run/*.pid; do \
	  if [ -f "$$f" ] && kill -0 "$$(cat "$$f")" 2>/dev/null; then \
	    echo "make run is still running ($$f): stop it first (Ctrl-C)"; exit 1; fi; done
	rm -rf var .pytest_cache .hypothesis
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
