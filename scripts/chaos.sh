#!/usr/bin/env bash
# `make chaos`: the long fault-injection suite. Runs every reliability suite including the cases marked
# slow (bigger catalogs under API faults and restarts) against one fresh sandbox, and prints the table of
# faults injected, runs completed, objects checked and objects lost (-s shows it).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
exec "$VENV/bin/pytest" -s -p no:cacheprovider --timeout=900 -o addopts="-ra --strict-markers" \
    tests/integration/test_reliability_inputs.py \
    tests/integration/test_reliability_guards.py \
    tests/integration/test_reliability_faults.py \
    tests/integration/test_reliability_sources.py \
    tests/integration/test_reliability_upload.py \
    tests/integration/test_upload.py \
    "$@"
