# The README's two commands: `make run` and `make test`. Each creates/refreshes .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS ?= worker,portal,dev
# Reinstall whenever the pinned dependency files change (Python, and npm for the dashboard's
# browser libraries, served as static files from node_modules).
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt package-lock.json | sha1sum | cut -c1-12)
# Tests and local runs default to the shared models beside the checkout (CI sets this too);
# a clone without them keeps models in var/models, where `make run` fetches the served one.
IPCAI_MODEL_DIR ?= $(if $(wildcard ../shared/models),$(abspath ../shared/models),$(abspath var/models))
export IPCAI_MODEL_DIR
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/ipcai
# Test processes (pytest-xdist): most of the suite's time is live stacks waiting on their own
# processes (portal, worker, Celery, Redis), so two at once nearly halve it on CI's 2 cores.
# A file's tests stay in one process (module-scoped stacks start once). TEST_PROCESSES=0: one.
TEST_PROCESSES ?= 2
PYTEST_PARALLEL := $(if $(filter 0,$(TEST_PROCESSES)),,-n $(TEST_PROCESSES) --dist loadfile)
# setuptools warns on every editable install about same-named folders shadowing packages
# (an information notice, not a problem here); keep `make run`'s first output readable.
EDITABLE_QUIET := PYTHONWARNINGS="ignore:Editable installation"

.PHONY: run test lint format install bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt package-lock.json Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(EDITABLE_QUIET) $(BIN)/pip install -q -c constraints.txt -e '.[$(EXTRAS)]'
	@# The plate reader's weights ship in these wheels (gpu_worker/stages.json); their own
	@# dependencies (a second OpenCV build among them) are not wanted, hence --no-deps.
	$(BIN)/pip install -q --no-deps rapidocr-onnxruntime==1.4.4 rapidocr==3.10.0
	@if [ -f client/pyproject.toml ]; then $(EDITABLE_QUIET) $(BIN)/pip install -q -c constraints.txt -e ./client; fi
	npm ci --no-audit --no-fund --loglevel=error
	@rm -f $(VENV)/.installed-*
	@touch $@

test: $(STAMP)
	scripts/ensure-services.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_PARALLEL)
	@# The database-backed tests again on PostgreSQL (production's database) when one answers.
	@# The slow live-stack tests (whole clips, outages, kills) and the browser tests (pages,
	@# whose queries the view tests cover) ran above and run once: CI's budget; those whose
	@# point is the database itself are marked `postgres` and run again.
	@if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then \
		echo "database-backed tests on PostgreSQL (127.0.0.1:5432)"; \
		DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q $(PYTEST_PARALLEL) \
			-m "(not slow and not browser) or postgres" tests/apps tests/portal; \
	else echo "PostgreSQL not answering on 127.0.0.1:5432: PostgreSQL run skipped"; fi

run: $(STAMP)
	@# On a terminal the script runs as its own foreground job (bash -m), so Ctrl-C reaches it
	@# and its services but not make, which would otherwise re-raise SIGINT and exit 130 after
	@# the script's clean stop.
	@if [ -t 0 ] && [ -t 2 ]; then bash -m -c scripts/run-local.sh; else scripts/run-local.sh; fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var node_modules
