# Two entry points: `make synth` (generate and check everything) and `make test`.
# Each creates the virtual environments it needs from the pinned requirements files.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# Python's bytecode cache (__pycache__, ignored by git) spares every process the tests start
# (the CLI, the emulator) compiling the same modules again.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: synth test test-season bench bench-test bench-import clean mariadb-server graphviz diagram
.DEFAULT_GOAL := synth

$(VENV)/.installed: requirements.txt pyproject.toml jobs/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-build-isolation --no-deps -e . -e jobs
	touch $@

# checkov, the emulator, Locust and taskcat pin libraries the main tool chain cannot share:
# own venvs.
.venv-%/.installed: requirements-%.txt
	$(PYTHON) -m venv .venv-$*
	.venv-$*/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

# execution-actions first: synth reads the table it writes (from the pinned schemas).
synth: $(VENV)/.installed .venv-checkov/.installed graphviz
	$(BIN)/playback-infra execution-actions
	$(BIN)/playback-infra synth
	$(BIN)/playback-infra diagram
	$(BIN)/playback-infra check

# tests/database runs a throwaway MariaDB server (Debian's mariadb-server, 10.11 on bookworm)
# and the knex CLI from database/node_modules.
# After graphviz: two apt-get runs at once would wait for each other's lock, or fail.
mariadb-server: | graphviz
	@command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || { \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends mariadb-server >/dev/null; }

# `playback-infra diagram` and its test lay the diagrams out with Graphviz's `dot` (Debian's).
graphviz:
	@command -v dot >/dev/null || { \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends graphviz >/dev/null; }

diagram: $(VENV)/.installed graphviz
	$(BIN)/playback-infra diagram

database/node_modules/.installed: database/package.json database/package-lock.json
	cd database && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# What the tests need, made side by side (each venv, npm ci and the apt packages at once).
TEST_TOOLS := $(VENV)/.installed .venv-checkov/.installed .venv-emulator/.installed \
	.venv-load/.installed .venv-taskcat/.installed mariadb-server graphviz \
	database/node_modules/.installed

# pytest on every core (pytest-xdist) with one worker more than cores, since a good part of
# the tests' time is waiting on the emulator (taskcat polls each stack once a minute); one test
# module to a worker (--dist loadscope: a module's emulator or deployment is made once), in the
# order tests/conftest.py gives them (the slowest first; xdist would put the modules with the
# most tests first). 2 cores: 226 s with 2 workers, 158 s with 3.
TEST_WORKERS := $(shell echo $$(( $$(nproc) + 1 )))
test:
	$(MAKE) --jobs=4 --output-sync=target $(TEST_TOOLS)
	$(BIN)/ruff check troposphere_src jobs tests benchmarks load
	$(BIN)/ruff format --check troposphere_src jobs tests benchmarks load
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder

# The whole 2023 season's import stopped at each phase by SIGTERM and SIGKILL (minutes each:
# the parse; left out of `make test`).
test-season: $(VENV)/.installed mariadb-server database/node_modules/.installed
	$(BIN)/pytest -m season tests/importer

clean:
	rm -rf $(VENV) .venv-checkov .venv-emulator .venv-load .venv-taskcat database/node_modules \
		benchmarks/cdk_peer/node_modules

# The loop's figures (benchmarks/loop.py): synth beside its AWS CDK peer, make synth unchanged
# and with one environment field changed; bench-test: make test on a fresh clone. Each writes
# benchmarks/results/ and the docs' quoted figures are rewritten from it.
bench: $(VENV)/.installed .venv-checkov/.installed graphviz benchmarks/cdk_peer/node_modules/.installed
	$(BIN)/python benchmarks/loop.py
	$(BIN)/python benchmarks/figures.py

bench-test: $(VENV)/.installed
	$(BIN)/python benchmarks/loop.py --test
	$(BIN)/python benchmarks/figures.py

benchmarks/cdk_peer/node_modules/.installed: benchmarks/cdk_peer/package.json benchmarks/cdk_peer/package-lock.json
	cd benchmarks/cdk_peer && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The whole 2023 season into a throwaway MariaDB: parse and load plays/s, median of 3 runs,
# written to benchmarks/results/import.json; then the docs' quoted figures from it.
bench-import: $(VENV)/.installed mariadb-server database/node_modules/.installed
	$(BIN)/python benchmarks/import_2023.py
	$(BIN)/python benchmarks/figures.py
