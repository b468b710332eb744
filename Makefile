# RFM segmentation: environment, reports and checks. `make` (or `make help`) lists the targets.
# Every target that runs code first makes sure .venv matches requirements.lock.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# uv installs the lock in seconds; it is not in requirements.lock (it installs it), so it is
# pinned here and checked by tests/test_environment.py.
UV_VERSION := 0.13.9

PARAMS ?= params/default.yaml
FORCE ?=
RUNNER_FLAGS := $(if $(FORCE),--force)
NOTEBOOKS := $(wildcard notebooks/*.ipynb)
# Keep the notebooks' own cell ids: nbstripout would otherwise renumber them (diff noise).
NBSTRIPOUT := $(VENV)/bin/nbstripout --keep-id
ALL_PARAMS := $(filter-out params/test_%.yaml,$(wildcard params/*.yaml))

.PHONY: help env system-deps report reports-all test bench golden lint format strip lock lab clean

help: ## List the targets
	@echo "Usage: make <target> [PARAMS=params/<file>.yaml] [FORCE=1]"
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*## "}; {printf "  %-12s %s\n", $$1, $$2}'

env: $(STAMP) ## Create/update .venv from requirements.lock (only when the lock changed)

# Reinstalls only when the lock or pyproject.toml changed. uv (pinned) is much faster than
# pip; if it cannot be installed, plain pip installs the same lock.
$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@if $(VENV)/bin/pip install --quiet uv==$(UV_VERSION); then \
		$(VENV)/bin/uv pip install --python $(PY) -r requirements.lock \
		&& $(VENV)/bin/uv pip install --python $(PY) --no-deps -e .; \
	else \
		echo "uv $(UV_VERSION) unavailable: installing with pip"; \
		$(VENV)/bin/pip install -r requirements.lock \
		&& $(VENV)/bin/pip install --no-deps -e .; \
	fi
	@touch $@

system-deps: ## Install the Debian packages the tests need (tools/system_packages.txt), if missing
	@bash tools/install_system_packages.sh

report: $(STAMP) ## Run the notebooks and publish reports/ (PARAMS=..., FORCE=1 to rerun)
	$(PY) -m rfm_helpers.runs.runner --params $(PARAMS) $(RUNNER_FLAGS)

reports-all: $(STAMP) ## Run every params/*.yaml except params/test_*.yaml
	@failed=""; \
	for params in $(ALL_PARAMS); do \
		echo "=== $$params"; \
		$(PY) -m rfm_helpers.runs.runner --params $$params $(RUNNER_FLAGS) || failed="$$failed $$params"; \
	done; \
	if [ -n "$$failed" ]; then echo "Failed:$$failed"; exit 1; fi

test: $(STAMP) system-deps ## Lint, check notebooks are stripped, run pytest, then nbval on tests/nbval
	$(PY) -m ruff check .
	@if [ -n "$(NOTEBOOKS)" ]; then \
		echo "$(NBSTRIPOUT) --verify notebooks/*.ipynb"; \
		$(NBSTRIPOUT) --verify $(NOTEBOOKS) \
			|| { echo "Notebooks have outputs: run 'make strip'"; exit 1; }; \
	fi
	$(PY) -m pytest
	@echo "nbval: executing tests/nbval/*.ipynb on the test sample (outputs in a temporary folder)"
	@out=$$(mktemp -d); trap 'rm -rf "$$out"' EXIT; \
		RFM_OUTPUT_ROOT=$$out $(PY) -m pytest --nbval-lax -p no:cacheprovider tests/nbval

bench: $(STAMP) ## Benchmarks: make report vs the naive chain, incremental reruns, then 1M/10M/100M rows
	$(PY) bench/report_bench.py
	$(PY) bench/scale.py

golden: $(STAMP) ## Regenerate tests/nbval (reference outputs of the key cells) after editing a notebook
	$(PY) tools/make_golden.py

lint: $(STAMP) ## ruff check and ruff format --check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP) ## Fix lint and format the code with ruff
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

strip: $(STAMP) ## Remove outputs from the committed notebooks
	$(NBSTRIPOUT) $(NOTEBOOKS)

lock: $(STAMP) ## Regenerate requirements.lock and environment.yml from pyproject.toml
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock
	$(PY) tools/sync_env.py

lab: $(STAMP) ## Open JupyterLab in notebooks/
	cd notebooks && ../$(VENV)/bin/jupyter lab

clean: ## Remove build/, data/interim|processed|cache|synthetic/ and reports/* (never data/raw)
	rm -rf build data/interim data/processed data/cache data/synthetic
	if [ -d reports ]; then find reports -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +; fi
