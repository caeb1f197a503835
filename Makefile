# The two commands a newcomer needs: `make run` (the whole thing with demo data, no services needed) and
# `make test` (the suite, on PostgreSQL and Redis on localhost; override the URLs below to point elsewhere).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

TEST_DATABASE_URL ?= postgres://postgres:postgres@127.0.0.1:5432/referral_desk
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# The second run, on the embedded database of `make run`: Django tests SQLite in memory, so this file (in the
# system's temporary folder, never in the repository) is only the name the settings parse.
TEST_SQLITE_URL ?= sqlite:///$${TMPDIR:-/tmp}/referral-desk-test-$$$$.sqlite3
TEST_ENV = REDIS_URL=$${TEST_REDIS_URL:-$(TEST_REDIS_URL)} \
	CELERY_BROKER_URL=$${TEST_REDIS_URL:-$(TEST_REDIS_URL)} \
	CELERY_QUEUE=test-$$$$-$$RANDOM \
	ALLOW_PRIVATE_ENDPOINTS=1 FAST_PASSWORD_HASHER=1 \
	SECRET_KEY=test-only-not-secret

# chart.js's source map too: collectstatic's manifest storage follows the file's sourceMappingURL and fails without it.
ASSETS := static_build/vendor/htmx.min.js static_build/vendor/chart.umd.min.js static_build/vendor/chart.umd.min.js.map

.PHONY: run test screenshots install assets lint bench bench-dispatch bench-intake bench-queue bench-pages bench-faults bench-api clean bench-audit bench-approve bench-outcomes bench-search bench-dashboard bench-liveness bench-review-job

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) $(ASSETS)

# Front-end packages come from npm with the lock file and are copied into static_build/ (never committed).
# One npm ci for all of them (a grouped target, GNU make 4.3).
$(ASSETS) &: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static_build/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static_build/vendor/htmx.min.js
	cp node_modules/chart.js/dist/chart.umd.min.js static_build/vendor/chart.umd.min.js
	cp node_modules/chart.js/dist/chart.umd.min.js.map static_build/vendor/chart.umd.min.js.map

assets: $(ASSETS)

run: $(STAMP) $(ASSETS)
	DEBUG=1 $(BIN)/python manage.py prepare_var
	ALLOW_PRIVATE_ENDPOINTS=$${ALLOW_PRIVATE_ENDPOINTS:-1} DEBUG=$${DEBUG:-1} $(BIN)/python manage.py run_demo

# Before any test: the browser tests' Chromium (installed with apt when missing and root; otherwise one line
# saying what to install). Then the suite on PostgreSQL, then its `both_databases` tests (the lists: every filter,
# sort and page) again on SQLite; exit status 5 there is "none of PYTEST_ARGS's tests is marked", not a failure.
test: $(STAMP) $(ASSETS)
	@scripts/ensure-chromium
	$(BIN)/lint-imports --no-cache
	DATABASE_URL=$${TEST_DATABASE_URL:-$(TEST_DATABASE_URL)} $(TEST_ENV) \
	$(BIN)/pytest $(PYTEST_ARGS)
	DATABASE_URL=$(TEST_SQLITE_URL) TEST_ON_SQLITE=1 $(TEST_ENV) \
	$(BIN)/pytest $(PYTEST_ARGS) -m both_databases || [ $$? -eq 5 ]

# The documentation's screenshots (docs/screenshots/*.png) come from the browser tests; `make test` saves its
# screenshots in a temporary folder instead.
screenshots:
	SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(MAKE) test PYTEST_ARGS="-q tests/browser"

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf var/ .pytest_cache static_build/ node_modules/

# Benchmarks (not part of the tests): PostgreSQL and Redis on localhost, as for `make test`.
bench: bench-dispatch bench-intake bench-queue bench-pages bench-faults bench-api bench-audit bench-approve \
	bench-outcomes bench-search bench-dashboard bench-liveness bench-review-job

bench-dispatch: $(STAMP)
	$(BIN)/python -P bench/dispatch.py

bench-intake: $(STAMP)
	$(BIN)/python -P bench/intake.py

bench-queue: $(STAMP)
	$(BIN)/python -P bench/triage_queue.py

# Every list page (queue, review, referrals, cases, a case) at 1,000,000 items, beside its own SQL.
bench-pages: $(STAMP)
	$(BIN)/python -P bench/pages.py

# The REST API under gunicorn (3 workers, as the Dockerfile) loaded by Locust (the `bench` extra), beside a bare
# Django view and a one-row INSERT + COMMIT: docs/benchmarks.md.
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench-api: $(BENCH_STAMP)
	$(BIN)/python -P bench/api.py

# The audit chain: writers with and without the global lock it had, the sealer, verification (docs/benchmarks.md).
bench-audit: $(STAMP)
	$(BIN)/python -P bench/audit_chain.py

# Approve every proposal matching a filter (a review job, 26,000), beside one bulk approval of as many.
bench-review-job: $(STAMP)
	$(BIN)/python -P bench/review_job.py

# Bulk approval of 26,000 items in one call, beside the same rows written by plain psycopg2.
bench-approve: $(STAMP)
	$(BIN)/python -P bench/bulk_approve.py

# A liaison's 26,000 outcomes through POST /api/v1/referrals/status/ (1,000 a call), beside plain psycopg2.
bench-outcomes: $(STAMP)
	$(BIN)/python -P bench/outcomes.py

# Search at 1,000,000 items, beside each query's SQL on the bare cursor.
bench-search: $(STAMP)
	$(BIN)/python -P bench/search.py

# The dashboard and the period report over a year of referrals (BENCH_REFERRALS, default 1,000,000), beside
# the raw SQL of the same aggregations.
bench-dashboard: $(STAMP)
	$(BIN)/python -P bench/dashboard.py

# The first liveness check of 26,000 referrals (BENCH_REFERRALS) within the per-host limits, through a local proxy,
# beside raw httpx doing the same GETs (docs/verification.md).
bench-liveness: $(STAMP)
	$(BIN)/python -P bench/liveness.py

# The fault suite's bigger version: 10,000 referrals, five worker kills, Redis restarted and flushed.
bench-faults: $(STAMP)
	FAULT_REFERRALS=10000 FAULT_KILLS=5 $(MAKE) test PYTEST_ARGS="-s -q tests/faults"
