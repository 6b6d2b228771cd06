# Two entry points: `make synth` (generate and check everything) and `make test`.
# Each creates the virtual environments it needs from the pinned requirements files.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: synth test bench clean
.DEFAULT_GOAL := synth

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-build-isolation --no-deps -e .
	touch $@

# checkov and the emulator pin libraries the main tool chain cannot share: own venvs.
.venv-%/.installed: requirements-%.txt
	$(PYTHON) -m venv .venv-$*
	.venv-$*/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

synth: $(VENV)/.installed .venv-checkov/.installed
	$(BIN)/playback-infra synth
	$(BIN)/playback-infra check

test: $(VENV)/.installed .venv-checkov/.installed .venv-emulator/.installed
	$(BIN)/ruff check troposphere_src tests benchmarks
	$(BIN)/ruff format --check troposphere_src tests benchmarks
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .venv-checkov .venv-emulator

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/synth.py
