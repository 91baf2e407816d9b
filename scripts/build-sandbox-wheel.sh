#!/usr/bin/env bash
# Build the dvp-sandbox wheel (packaging/dvp-sandbox) into the folder given (default .build/).
# The project file lives in packaging/dvp-sandbox while the package is the repository's sandbox/: both are
# staged side by side, with the repository's LICENSE and galaxy.yml's version, in a scratch folder (no
# __pycache__), and pip builds the wheel there (setuptools, as pinned in the project file's build-system, comes
# from PyPI or pip's cache; nothing else is fetched).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-.build}")
python=${PYTHON_FOR_BUILD:-.venv/bin/python}
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp packaging/dvp-sandbox/pyproject.toml packaging/dvp-sandbox/README.md LICENSE "$stage/"
# One version for both packages: galaxy.yml's (the project file reads it from VERSION).
version=$(sed -n 's/^version: *//p' galaxy.yml)
[ -n "$version" ] || { echo "build-sandbox-wheel: no version in galaxy.yml" >&2; exit 1; }
printf '%s\n' "$version" > "$stage/VERSION"
# Only what git tracks or would track (a stray file in the working tree does not ship).
git ls-files --cached --others --exclude-standard -z sandbox | tar --null -T - -cf - | tar -xf - -C "$stage"
rm -f "$out"/dvp_sandbox-*.whl
"$python" -m pip wheel -q --disable-pip-version-check --no-deps --wheel-dir "$out" "$stage"
ls "$out"/dvp_sandbox-*.whl
