# gpuvirt.core: every target does its own set-up on a fresh machine (Debian packages, virtual environment,
# the ansible_collections path). `make test` = sanity + lint + unit + integration + molecule; `make demo` = the lab.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON      ?= python3
VENV        ?= .venv
BIN         := $(CURDIR)/$(VENV)/bin
BUILD       := $(CURDIR)/.build
COLLECTIONS := $(BUILD)/collections
LINK        := $(COLLECTIONS)/ansible_collections/gpuvirt/core
STAMP       := $(VENV)/.gpuvirt-installed
PYTEST_ARGS ?=

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_FORCE_COLOR ?= 0
export PATH := $(BIN):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export NO_COLOR := 1
export PY_COLORS := 0

.PHONY: help setup emulators test demo sanity lint unit integration molecule build clean

help:
	@echo "make demo   run the collection end to end against the emulators"
	@echo "make test   sanity, lint, unit, integration and molecule tests"
	@echo "make sanity | lint | unit | integration | molecule | build | clean"

# --- set-up -----------------------------------------------------------------------------------------
$(STAMP): requirements.txt test-requirements.txt $(wildcard scripts/apt/*.txt) scripts/setup-apt.sh
	bash scripts/setup-apt.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt -r test-requirements.txt
	touch $@

$(LINK):
	mkdir -p $(dir $(LINK))
	ln -sfn $(CURDIR) $(LINK)

setup: $(STAMP) $(LINK)

# Emulators that need a build step (vcsim + GPU add-on, offline from Debian's packaged govmomi; cached in .cache/).
emulators: setup
	tests/emulators/vcsim/vcsim-gpu build

# --- tests ------------------------------------------------------------------------------------------
test: sanity lint unit integration molecule
	@echo "make test: all suites passed"

# ansible-test sanity from a path ending in ansible_collections/gpuvirt/core, no ignore file (scripts/sanity.sh).
sanity: setup
	bash scripts/sanity.sh

# HOME of its own: a copy of the collection left in ~/.ansible/collections by another tool must not shadow the
# working tree (ANSIBLE_COLLECTIONS_PATH points at it through .build/collections).
lint: setup
	mkdir -p $(BUILD)/lint-home
	HOME=$(BUILD)/lint-home $(BIN)/ansible-lint --profile production --offline roles playbooks

unit: setup
	$(BIN)/python -m pytest tests/unit -q $(PYTEST_ARGS)

integration: emulators
	$(BIN)/python -m pytest tests/integration -q $(PYTEST_ARGS)

molecule: emulators
	bash scripts/molecule.sh

build: setup
	mkdir -p $(BUILD)/dist
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/dist .

# --- the lab ----------------------------------------------------------------------------------------
demo: emulators
	bash scripts/demo.sh

clean:
	rm -rf $(BUILD) tests/output .pytest_cache
