# backroom: `make run` starts everything, `make test` runs every test tier.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_WORKERS ?= 2
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get install -y -qq
# $(call apt,PACKAGE): install it as root, after an `apt-get update` if need be, else through sudo.
apt = $(APT_GET) $(1) || (apt-get update -qq && $(APT_GET) $(1)) || sudo $(APT_GET) $(1)

.PHONY: install run test test-unit lint bench bench-tools soak clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==26.3"
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: install
	$(VENV)/bin/backroom run

# Without root or sudo (a laptop) the bench's tools may not install: the tests still run, and the
# bench smoke test skips with a notice (under CI it fails instead).
test: install
	@$(MAKE) --no-print-directory bench-tools || echo "make: could not install wrk/pgbench; the bench smoke test will skip"
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup -p no:cacheprovider
	@echo "make test: the tests marked 'broker' again, on RabbitMQ (skipped with a notice if it does not answer; under CI=true, fails)"
	TEST_BROKER=rabbitmq $(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup -p no:cacheprovider -m broker

test-unit: install
	$(PY) -m pytest tests/unit -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy api cli worker jobs services schedules db core bench soak
	$(VENV)/bin/lint-imports

bench: install bench-tools
	$(PY) -m bench

# Faults under load (docs/reliability.md): its own PostgreSQL (the machine's binaries) and Redis on
# free ports, the Procfile's processes, SOAK_SECONDS of traffic with restarts and kills, an audit.
SOAK_SECONDS ?= 600
soak: install
	SOAK_SECONDS=$(SOAK_SECONDS) $(PY) -m soak

# The bench's load generators (tests/e2e/test_bench_smoke.py runs them too): Debian's wrk, and
# pgbench (it ships with the PostgreSQL server package). As root, or through sudo.
bench-tools:
	@command -v wrk >/dev/null || $(call apt,wrk)
	@command -v pgbench >/dev/null || $(call apt,postgresql)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
