# PyTake. `make run` and `make test` set everything up on a fresh machine (Python 3.11 + Node).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
FRONTEND_STAMP := frontend/node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: faults soak run test e2e sdl lint bench bench-ingest bench-mixed bench-inbox bench-search bench-flows bench-metrics bench-peer frontend clean serve worker migrate

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(FRONTEND_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $(FRONTEND_STAMP)

frontend/dist/index.html: $(FRONTEND_STAMP) $(shell find frontend/src frontend/scripts frontend/index.html frontend/schema.graphql frontend/vite.config.ts frontend/codegen.ts -type f 2>/dev/null)
	cd frontend && npm run build --silent

frontend: frontend/dist/index.html

## Embedded default: PostgreSQL from a wheel, in-memory pub/sub, in-process jobs, demo data.
run: $(STAMP) frontend
	HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/pytake run

## The whole suite. Uses DATABASE_URL / REDIS_URL when set (CI), else the embedded ones.
test: $(STAMP) $(FRONTEND_STAMP)
	$(VENV)/bin/ruff check .
	cd frontend && npm test --silent
	$(MAKE) --no-print-directory e2e
	$(VENV)/bin/pytest -q

## The web app in headless Chromium against a real embedded backend (skipped, saying why, without /usr/bin/chromium).
e2e: $(STAMP) frontend
	cd frontend && node e2e/run.mjs

## The GraphQL schema the web app's types are generated from (tests/test_sdl.py checks it is current).
sdl: $(STAMP)
	$(VENV)/bin/pytake sdl -o frontend/schema.graphql

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## Benchmarks (production mode: needs DATABASE_URL and REDIS_URL). Not part of `make test`.
bench: bench-ingest bench-mixed bench-inbox bench-search bench-peer bench-fanout
bench-ingest: $(STAMP)
	$(PY) -m bench.ingest
bench-inbox: $(STAMP)
	$(PY) -m bench.inbox
bench-mixed: $(STAMP)
	$(PY) -m bench.ingest_mixed
bench-search: $(STAMP)
	$(PY) -m bench.search
bench-flows: $(STAMP)
	$(PY) -m bench.flows
## PostGraphile 5 on the same inbox (installs it into .bench-peer/; needs npm and wrk)
bench-peer: $(STAMP)
	$(PY) -m bench.peer

## Production mode pieces (DATABASE_URL and REDIS_URL set)
migrate: $(STAMP)
	$(VENV)/bin/pytake migrate
serve: $(STAMP)
	$(VENV)/bin/pytake serve --workers $${WORKERS:-2}
worker: $(STAMP)
	$(VENV)/bin/pytake worker

## The fault suite: private PostgreSQL + Redis, 2 API + 2 worker processes, killed under load (README "Faults").
faults: $(STAMP)
	$(VENV)/bin/pytest -q -s --confcutdir=tests/faults tests/faults

## Soak (not in CI): steady load for SOAK_MINUTES (30), RSS and table sizes every minute.
soak: $(STAMP)
	$(PY) -m bench.soak

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist .pytake
bench-metrics: $(STAMP)
	$(PY) -m bench.metrics
bench-fanout: $(STAMP)
	$(PY) -m bench.fanout
