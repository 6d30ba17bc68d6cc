# parti-site: `make demo` (simulated parti), `make run` (real parti), `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PORT ?= 8000
HOST ?= 127.0.0.1
SIM_PORT ?= 8100
SIM_HOST ?= 127.0.0.1
# `make run PROCESSES=3`: Daphne on PORT, PORT+1, PORT+2 (needs REDIS_URL; README "Self-hosting").
PROCESSES ?= 1
# Daphne's own access log prints visitors' addresses: -v 0 turns it off. The site logs one
# line per request itself, with addresses only under LOG_CLIENT_IPS (parti_site/web/).
DAPHNE = $(VENV)/bin/daphne -v 0

# The simulated parti's hosts, one port each (parti_site/simulator/server.py).
DEMO_ENV = PARTI_API_URL=http://$(SIM_HOST):$(SIM_PORT)/parti_v2 \
	PARTI_WS_URL=ws://$(SIM_HOST):$(shell echo $$(($(SIM_PORT)+1)))/ \
	PARTI_VOD_URL=http://$(SIM_HOST):$(shell echo $$(($(SIM_PORT)+5)))/ \
	PARTI_MEDIA_HOSTS=$(shell for i in 2 3 4 5 6; do printf 'http://$(SIM_HOST):%s,' $$(($(SIM_PORT)+i)); done | sed 's/,$$//')

.PHONY: demo run test lint format bench clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

# The test, benchmark and lint tools on top (requirements-dev.txt).
$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(DEV_STAMP)

# A random key, made once and kept out of git, so the demo runs with DEBUG off.
.secret_key:
	$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > .secret_key
	chmod 600 .secret_key

prepare: $(STAMP) .secret_key
	SECRET_KEY=$$(cat .secret_key) $(PY) manage.py migrate --noinput -v0
	SECRET_KEY=$$(cat .secret_key) $(PY) manage.py collectstatic --noinput -v0

demo: prepare
	@echo "parti-site demo on http://$(HOST):$(PORT) (simulated parti on port $(SIM_PORT))"
	@export SECRET_KEY=$$(cat .secret_key) $(DEMO_ENV); \
	$(PY) manage.py simulate_parti --host $(SIM_HOST) --port $(SIM_PORT) --schedule-from-now & sim=$$!; \
	trap 'kill $$sim 2>/dev/null' EXIT INT TERM; \
	$(DAPHNE) -b $(HOST) -p $(PORT) parti_site.asgi:application

run: prepare
	@echo "parti-site on http://$(HOST):$(PORT) x $(PROCESSES) (upstream: $${PARTI_API_URL:-https://api-backend.parti.com/parti_v2})"
	@if [ $(PROCESSES) -gt 1 ] && [ -z "$$REDIS_URL" ]; then \
		echo "PROCESSES=$(PROCESSES) needs REDIS_URL: processes share cache and pushes there"; exit 1; fi
	@export SECRET_KEY=$${SECRET_KEY:-$$(cat .secret_key)}; pids=; \
	for i in $$(seq 0 $$(($(PROCESSES) - 1))); do \
		$(DAPHNE) -b $(HOST) -p $$(($(PORT) + i)) parti_site.asgi:application & pids="$$pids $$!"; \
	done; \
	trap 'kill $$pids 2>/dev/null' EXIT INT TERM; wait

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(DEV_STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint
	SECRET_KEY=tests-only-not-a-secret $(PY) manage.py collectstatic --noinput -v0
	# Browser tests run in their own process: Playwright's sync API keeps an event loop in
	# the main thread, which the asyncio-based tests must not inherit.
	SECRET_KEY=tests-only-not-a-secret $(PY) -m pytest -m "not browser" $(PYTEST_ARGS)
	SECRET_KEY=tests-only-not-a-secret $(PY) -m pytest -m browser $(PYTEST_ARGS)

# Every benchmark, one table of ratios, about 5 minutes (README "Benchmarks", bench/).
bench: $(DEV_STAMP)
	SECRET_KEY=tests-only-not-a-secret $(PY) manage.py collectstatic --noinput -v0
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
