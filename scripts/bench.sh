#!/usr/bin/env bash
# `make bench`: benchmarks, each a ratio against a baseline run side by side.
# Usage: scripts/bench.sh [NAME...]   (no name: all of them). Exits 1 when any of them missed a goal.
set -euo pipefail
cd "$(dirname "$0")/.."

run_catalog() { .venv/bin/python bench/catalog/run.py; }
run_upload() { .venv/bin/python bench/upload/run.py; }
# A no-op task against a one-task ping play: goal at most 1.3x.
run_taskcost() { .venv/bin/python bench/taskcost/run.py; }
# Streebog given to both sides (OpenSSL's GOST provider where it is installed): goal half of curl's speed.
run_streebog() {
  BENCH_UPLOAD_SIZES=${BENCH_UPLOAD_SIZES:-256,1024} BENCH_UPLOAD_CHECKSUM=streebog256 BENCH_UPLOAD_RATIO_GOAL=0.5 \
    .venv/bin/python bench/upload/run.py
}

all=(taskcost catalog upload streebog)
names=("$@")
((${#names[@]})) || names=("${all[@]}")
for name in "${names[@]}"; do
  case "$name" in
    taskcost|catalog|upload|streebog) ;;
    *) echo "bench: unknown benchmark $name (known: ${all[*]})" >&2; exit 2 ;;
  esac
done
# Every benchmark runs, whatever the one before it gave; each exits non-zero on a missed goal (or a failed run),
# and so does this script, naming them.
missed=()
for name in "${names[@]}"; do
  "run_$name" || missed+=("$name")
done
if ((${#missed[@]})); then
  echo "bench: goals missed or runs failed in: ${missed[*]}" >&2
  exit 1
fi
echo "bench: every goal met (${names[*]})"
