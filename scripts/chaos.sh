#!/usr/bin/env bash
# `make chaos`: the long fault-injection suite. Runs the suites on bad inputs, check mode and secrets, RBAC,
# TLS, API faults, source faults, upload faults and runs killed with SIGKILL, including the cases marked slow
# (bigger catalogs under API faults and restarts, every kill point of each scenario), against one fresh sandbox,
# and prints the table of faults injected, runs completed, objects checked and objects lost, and for the killed
# runs each point, what it checked and the seed (CHAOS_SEED=<n> make chaos replays one; -s shows it all).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
exec "$VENV/bin/pytest" -s -p no:cacheprovider --timeout=900 -o addopts="-ra --strict-markers" \
    tests/integration/test_bad_inputs_write_nothing.py \
    tests/integration/test_check_mode_and_secrets.py \
    tests/integration/test_rbac_forbidden.py \
    tests/integration/test_tls_verification.py \
    tests/integration/test_catalog_under_api_faults.py \
    tests/integration/test_source_faults.py \
    tests/integration/test_upload_faults.py \
    tests/integration/test_upload.py \
    tests/integration/test_killed_runs.py \
    "$@"
