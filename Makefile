# deckhouse.virtualization: every entry point a developer, CI or a user needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
export ANSIBLE_PYTHON_INTERPRETER := $(CURDIR)/$(BIN)/python
PYTEST_ARGS ?=

.PHONY: help venv test lint yamllint ansible-lint changelog-lint sanity units pytest molecule demo \
        sandbox-up sandbox-down bench chaos build clean \
        docs docs-lint changelog ee-context test-matrix test-released realapi realapi-lock conformance realapi-test

help:
	@echo "make test          lint, ansible-test sanity and units, pytest suites, molecule"
	@echo "make demo          start the sandbox, run playbooks/demo.yml against it, stop it"
	@echo "make sandbox-up    start the local DVP sandbox (writes .sandbox/kubeconfig, .sandbox/env)"
	@echo "make sandbox-down  stop everything sandbox-up started"
	@echo "make bench         benchmarks (ratios against a baseline run side by side)"
	@echo "make chaos         the long fault-injection suite"
	@echo "make build         build the collection tarball and the dvp-sandbox wheel into .build/"
	@echo "make docs          build the docs site into docs/_build/html (warnings are errors)"
	@echo "make changelog     render CHANGELOG.rst for the next release without consuming fragments"
	@echo "make ee-context    build the collection and an execution-environment build context in .build/ee/"
	@echo "make test-matrix   sanity, units and a smoke run on the newest ansible-core and Python 3.13,"
	@echo "                   then make test-released"
	@echo "make test-released the module and role suites against the released platform line (DVP v1.10)"
	@echo "make conformance   the sandbox's API server side by side with the real one (builds it once, cached),"
	@echo "                   then make realapi-test"
	@echo "make realapi-test  the modules against the real API server, both platform lines (builds it once, cached)"
	@echo "make realapi       build (or reuse) the real API server for custom resources from Debian sid"
	@echo "make realapi-lock  refresh scripts/realapi/packages.lock from today's sid, then build"

venv: $(BIN)/.ready
$(BIN)/.ready: requirements.txt requirements-build.txt requirements-test.txt requirements-docs.txt scripts/bootstrap.sh
	PYTHON=$(PYTHON) VENV=$(VENV) scripts/bootstrap.sh
	@touch $@

test: venv lint sanity units pytest molecule
	@echo "make test: all suites passed"

lint: yamllint ansible-lint changelog-lint docs-lint

changelog-lint: venv
	$(BIN)/antsibull-changelog lint

yamllint: venv
	$(BIN)/yamllint -s .

# ansible-lint and Molecule find this checkout through .build/collections (a link to the tree), so they
# neither install nor read a copy of the collection elsewhere that could be stale.
ansible-lint: venv
	scripts/link-collection.sh
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.build/collections $(BIN)/ansible-lint --offline --profile production

sanity: venv
	scripts/ansible-test.sh sanity --local --python 3.11 --color no

units: venv
	scripts/ansible-test.sh units --local --python 3.11 --color no

# The released platform line (DVP v1.10) runs the module and role suites a second time (make test-released),
# against a sandbox serving it; suites about the build, the docs or the test tooling itself run once.
RELEASED_LINE_TESTS ?= tests/integration/test_platform_lines.py tests/integration/test_virtual_image.py \
	tests/integration/test_cluster_image_and_info.py tests/integration/test_upload.py \
	tests/integration/test_catalog.py tests/integration/test_capture.py tests/integration/test_capture_playbook.py \
	tests/integration/test_vmop.py tests/integration/test_vmop_concurrency.py tests/integration/test_image_failures.py \
	tests/integration/test_bad_inputs_write_nothing.py tests/integration/test_check_mode_and_secrets.py \
	tests/integration/test_virtual_disk.py tests/integration/test_snapshot_capture.py \
	tests/integration/test_disk_platform_lines.py tests/integration/test_sums_everywhere.py \
	tests/integration/test_disk_admission_warnings.py tests/integration/test_disk_export_phase.py \
	tests/integration/test_disk_size_refusals.py \
	tests/integration/test_storage_classes.py

pytest: venv
	$(BIN)/pytest -n 2 --dist loadfile $(PYTEST_ARGS)

# The platform matrix's other line: the module and role suites against a sandbox serving DVP v1.10 (make
# test-matrix runs it after the ansible-core matrix; CI runs both).
test-released: venv
	DVP_SANDBOX_PLATFORM=v1.10 $(BIN)/pytest -n 2 --dist loadfile $(PYTEST_ARGS) $(RELEASED_LINE_TESTS)

molecule: venv
	scripts/link-collection.sh
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.build/collections scripts/molecule-all.sh

demo: venv
	scripts/demo.sh

sandbox-up: venv
	$(BIN)/python -m sandbox up $(SANDBOX_ARGS)

sandbox-down:
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m sandbox down; else echo "no venv: nothing to stop"; fi

bench: venv
	scripts/bench.sh

chaos: venv
	scripts/chaos.sh

docs: venv
	scripts/docs.sh site

docs-lint: venv
	scripts/docs.sh lint

changelog: venv
	scripts/docs.sh changelog

ee-context: build venv
	mkdir -p .build/ee
	cp "$$(ls -t .build/deckhouse-virtualization-*.tar.gz | head -1)" .build/ee/deckhouse-virtualization.tar.gz
	$(BIN)/ansible-builder create -f ee/execution-environment.yml -c .build/ee/context --output-filename Containerfile

test-matrix: venv
	scripts/test-matrix.sh
	$(MAKE) test-released

# The upstream API server for custom resources, built from pinned Debian sid packages into
# ${XDG_CACHE_HOME:-~/.cache}/deckhouse-virtualization/realapi (a second build with the same inputs costs nothing).
realapi:
	python3 scripts/realapi/build.py

realapi-lock:
	python3 scripts/realapi/build.py --lock

conformance: venv
	@bin=$$(python3 scripts/realapi/build.py) && $(BIN)/python -m conformance --binary "$$bin" $(CONFORMANCE_ARGS)
	@$(MAKE) --no-print-directory realapi-test

# The collection's modules against the real server (tests/realapi/: no controller, so creates with wait: false,
# re-runs counted from its audit log, check mode, diff, strict field validation, CRD refusals), on both lines.
# `make test` never runs it: the suite skips when the server is not built and never builds it itself.
realapi-test: venv
	@bin=$$(python3 scripts/realapi/build.py) && DVP_REALAPI_BINARY="$$bin" $(BIN)/pytest tests/realapi $(PYTEST_ARGS)

# The packages build in a venv of their own holding only requirements-build.txt (ansible-core), so that a user who
# wants the tarball and the wheel does not install the test and docs toolchain of `make venv`.
BUILD_VENV ?= .venv-build
BUILD_OUT ?= .build
$(BUILD_VENV)/.ready: requirements-build.txt
	$(PYTHON) -m venv $(BUILD_VENV)
	$(BUILD_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-build.txt
	@touch $@

build: $(BUILD_VENV)/.ready
	mkdir -p $(BUILD_OUT)
	$(BUILD_VENV)/bin/ansible-galaxy collection build --force --output-path $(BUILD_OUT) .
	PYTHON_FOR_BUILD=$(BUILD_VENV)/bin/python scripts/build-sandbox-wheel.sh $(BUILD_OUT)

clean:
	rm -rf .build tests/output .pytest_cache
