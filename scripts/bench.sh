#!/usr/bin/env bash
# `make bench`: benchmarks, each a ratio against a baseline run side by side. None exist yet.
set -euo pipefail
echo "make bench: no benchmarks are defined yet"
