#!/usr/bin/env bash
# `make bench`: benchmarks, each a ratio against a baseline run side by side.
# Usage: scripts/bench.sh [NAME...]   (no name: all of them)
set -euo pipefail
cd "$(dirname "$0")/.."

run_catalog() { .venv/bin/python bench/catalog/run.py; }
run_upload() { .venv/bin/python bench/upload/run.py; }

all=(catalog upload)
names=("$@")
((${#names[@]})) || names=("${all[@]}")
for name in "${names[@]}"; do
  case "$name" in
    catalog) run_catalog ;;
    upload) run_upload ;;
    *) echo "bench: unknown benchmark $name (known: ${all[*]})" >&2; exit 2 ;;
  esac
done
