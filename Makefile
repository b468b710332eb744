# RFM segmentation: environment, reports and checks. `make` (or `make help`) lists the targets.
# Every target that runs code first makes sure .venv matches its lock: the reports need only
# requirements.lock (wheels only); tests, lint and benchmarks add requirements-dev.lock on top.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

VENV := .venv
PY := $(VENV)/bin/python
REPORT_STAMP := $(VENV)/.installed-report
DEV_STAMP := $(VENV)/.installed-dev
# uv installs a lock in seconds; it is in neither lock (it installs them), so it is pinned here
# and checked by tests/test_environment.py.
UV_VERSION := 0.13.9

PARAMS ?= params/default.yaml
# pytest workers (pytest-xdist). Most of the suite's time is end-to-end runs whose runner waits
# on one kernel at a time, so two workers keep both cores of the CI machine busy; each test
# module stays on one worker (--dist loadscope), so its module-scoped runs are done once.
TEST_WORKERS ?= 2
FORCE ?=
RUNNER_FLAGS := $(if $(FORCE),--force)
NOTEBOOKS := $(wildcard notebooks/*.ipynb)
# Keep the notebooks' own cell ids: nbstripout would otherwise renumber them (diff noise).
NBSTRIPOUT := $(VENV)/bin/nbstripout --keep-id
ALL_PARAMS := $(filter-out params/test_%.yaml,$(wildcard params/*.yaml))

.PHONY: help env env-dev system-deps report reports-all test bench golden lint format strip lock lab clean

help: ## List the targets
	@echo "Usage: make <target> [PARAMS=params/<file>.yaml] [FORCE=1]"
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*## "}; {printf "  %-12s %s\n", $$1, $$2}'

env: $(REPORT_STAMP) ## Create/update .venv with what reports need (requirements.lock)

env-dev: $(DEV_STAMP) ## env, plus the tests' and benchmarks' packages (requirements-dev.lock)

# $(call install_lock,LOCK[,editable]): install LOCK (then this project, editable) into .venv with
# uv (pinned), or with plain pip if uv cannot be installed. `uv pip install`, not `sync`: the
# report lock installed into a venv that has the dev lock removes nothing (the packages in both
# locks have the same pins). --compile-bytecode: with PYTHONDONTWRITEBYTECODE set (as on the CI
# machine) Python never caches what it compiles, and every kernel compiled pandas, matplotlib and
# scikit-learn from source at each import: 5.8 s instead of 1.9 s (README "How long it takes").
define install_lock
	@test -x $(PY) || python3 -m venv $(VENV)
	@if $(VENV)/bin/pip install --quiet uv==$(UV_VERSION); then \
		$(VENV)/bin/uv pip install --python $(PY) --compile-bytecode -r $(1) \
		$(if $(2),&& $(VENV)/bin/uv pip install --python $(PY) --no-deps -e .); \
	else \
		echo "uv $(UV_VERSION) unavailable: installing with pip"; \
		$(VENV)/bin/pip install -r $(1) \
		$(if $(2),&& $(VENV)/bin/pip install --no-deps -e .); \
	fi
endef

# Each stamp is redone only when its inputs changed, so a second call is instant. The report
# lock allows wheels only (--only-binary :all:): nothing is built from source but this project.
$(REPORT_STAMP): requirements.lock pyproject.toml
	$(call install_lock,requirements.lock,editable)
	@touch $@

# The dev lock on top of the report lock: pytest, nbval, hypothesis, openpyxl, ruff, nbstripout,
# selenium and pyspark (an sdist: built from source, about 2 minutes the first time).
$(DEV_STAMP): $(REPORT_STAMP) requirements-dev.lock
	$(call install_lock,requirements-dev.lock)
	@touch $@

system-deps: ## Install the Debian packages the tests need (tools/system_packages.txt), if missing
	@bash tools/install_system_packages.sh

report: $(REPORT_STAMP) ## Run the notebooks and publish reports/ (PARAMS=..., FORCE=1 to rerun)
	$(PY) -m rfm_helpers.runs.runner --params $(PARAMS) $(RUNNER_FLAGS)

reports-all: $(REPORT_STAMP) ## Run every params/*.yaml except params/test_*.yaml
	@failed=""; \
	for params in $(ALL_PARAMS); do \
		echo "=== $$params"; \
		$(PY) -m rfm_helpers.runs.runner --params $$params $(RUNNER_FLAGS) || failed="$$failed $$params"; \
	done; \
	if [ -n "$$failed" ]; then echo "Failed:$$failed"; exit 1; fi

test: $(DEV_STAMP) system-deps ## Lint, check notebooks are stripped, run pytest, then nbval on tests/nbval
	$(PY) -m ruff check .
	@if [ -n "$(NOTEBOOKS)" ]; then \
		echo "$(NBSTRIPOUT) --verify notebooks/*.ipynb"; \
		$(NBSTRIPOUT) --verify $(NOTEBOOKS) \
			|| { echo "Notebooks have outputs: run 'make strip'"; exit 1; }; \
	fi
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadscope
	@echo "nbval: executing tests/nbval/*.ipynb on the test sample (outputs in a temporary folder)"
	@out=$$(mktemp -d); trap 'rm -rf "$$out"' EXIT; \
		RFM_OUTPUT_ROOT=$$out $(PY) -m pytest --nbval-lax -p no:cacheprovider tests/nbval

bench: $(DEV_STAMP) ## Benchmarks: make report vs the naive chain, incremental reruns, then 1M/10M/100M rows
	$(PY) bench/report_bench.py
	$(PY) bench/scale.py --report
	$(PY) bench/summary.py

golden: $(DEV_STAMP) ## Regenerate tests/nbval (reference outputs of the key cells) after editing a notebook
	$(PY) tools/make_golden.py

lint: $(DEV_STAMP) ## ruff check and ruff format --check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(DEV_STAMP) ## Fix lint and format the code with ruff
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

strip: $(DEV_STAMP) ## Remove outputs from the committed notebooks
	$(NBSTRIPOUT) $(NOTEBOOKS)

# The dev lock is resolved first; the report lock is resolved with it as constraint, so every
# package in both has the same pin, and with wheels only, so an sdist-only dependency of the
# reports fails here instead of being built on every fresh clone.
lock: $(DEV_STAMP) ## Regenerate requirements.lock, requirements-dev.lock and environment.yml from pyproject.toml
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements-dev.lock
	$(VENV)/bin/uv pip compile pyproject.toml --python-version 3.11 -c requirements-dev.lock --only-binary :all: --emit-build-options -o requirements.lock
	$(PY) tools/sync_env.py

lab: $(REPORT_STAMP) ## Open JupyterLab in notebooks/
	cd notebooks && ../$(VENV)/bin/jupyter lab

clean: ## Remove build/, data/interim|processed|cache|synthetic/ and reports/* (never data/raw)
	rm -rf build data/interim data/processed data/cache data/synthetic
	if [ -d reports ]; then find reports -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +; fi
