# Policy Pulse — two commands on a fresh machine with Python 3.11+ and make:
#   make demo   set up, generate the sample organisation, ingest + build it, serve the dashboards
#   make test   set up with the test extras and run the whole suite
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
DEMO_RAW := data/demo/raw
WAREHOUSE ?= data/warehouse.duckdb
PORT ?= 8866

.PHONY: demo test lab lint sample-copy benchmark clean

$(BIN)/activate:
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is needed (python3 --version)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	@touch $@ $(VENV)/.installed

# plotly.js-basic (the dashboards' smaller chart bundle) into the venv, again when its pin (frontend.py)
# changes; offline it only warns
$(VENV)/.frontend: src/analytics/frontend.py | $(VENV)/.installed
	$(BIN)/python -m analytics.frontend fetch
	@touch $@

demo: $(VENV)/.installed $(VENV)/.frontend
	$(BIN)/policy-pulse sample-data --out $(DEMO_RAW)
	$(BIN)/policy-pulse ingest $(DEMO_RAW) --warehouse $(WAREHOUSE)
	$(BIN)/policy-pulse build --warehouse $(WAREHOUSE)
	$(BIN)/policy-pulse dashboard --warehouse $(WAREHOUSE) --port $(PORT)

# loadfile keeps a notebook's cells (one kernel) and a file's shared server on one worker. Files go out in
# collection order (--no-loadscope-reorder): xdist's own order, most tests first, sent the browser files (few
# tests, minutes each) last, and one worker ran them alone at the end (9 m 10 s against 9 m 01 s back to back)
test: $(VENV)/.installed-test $(VENV)/.frontend
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder \
		-q --nbval-lax tests src/analytics notebooks

lab: $(VENV)/.installed
	$(BIN)/jupyter lab --notebook-dir=notebooks

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	# blank lines between definitions and at the end of a file: rules ruff has in preview only
	$(BIN)/ruff check --preview --select E301,E302,E303,E305,W391 src tests benchmarks

# Regenerate the small committed sample in data/sample/ (deterministic).
sample-copy: $(VENV)/.installed
	rm -rf data/sample && $(BIN)/policy-pulse sample-data --out data/sample

benchmark: $(VENV)/.installed-test $(VENV)/.frontend
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) data/demo $(WAREHOUSE) reports exports
