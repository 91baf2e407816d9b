#!/usr/bin/env bash
# Run every Molecule scenario under molecule/ (the default driver, against the sandbox the scenario starts).
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
scenarios=(molecule/*/molecule.yml)
if ((${#scenarios[@]} == 0)); then
  echo "molecule: no scenarios yet"
  exit 0
fi
for file in "${scenarios[@]}"; do
  name=$(basename "$(dirname "$file")")
  echo "molecule: scenario $name"
  .venv/bin/molecule test -s "$name"
done
