#!/usr/bin/env bash
# Install kubernetes.core (the catalog benchmark's baseline) into .cache/collections, offline from Galaxy:
# the `ansible` wheel on PyPI bundles it. Cached: a second run does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
ANSIBLE_VERSION=${ANSIBLE_VERSION:-12.3.0}
cache=.cache
dest=$cache/collections
if [ -f "$dest/ansible_collections/kubernetes/core/MANIFEST.json" ]; then
  echo "kubernetes.core already in $dest"
  exit 0
fi
mkdir -p "$cache/wheels" "$dest"
wheel=$(ls "$cache"/wheels/ansible-"$ANSIBLE_VERSION"-*.whl 2>/dev/null | head -n1 || true)
if [ -z "$wheel" ]; then
  .venv/bin/python -m pip download -q --disable-pip-version-check --no-deps -d "$cache/wheels" "ansible==$ANSIBLE_VERSION"
  wheel=$(ls "$cache"/wheels/ansible-"$ANSIBLE_VERSION"-*.whl | head -n1)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/python - "$wheel" "$work" <<'PY'
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
prefix = "ansible_collections/kubernetes/core/"
with zipfile.ZipFile(wheel) as zf:
    members = [n for n in zf.namelist() if n.startswith(prefix)]
    if not members:
        sys.exit("no kubernetes.core in " + wheel)
    zf.extractall(out, members)
PY
.venv/bin/ansible-galaxy collection install --offline "$work/ansible_collections/kubernetes/core" -p "$dest" >/dev/null
echo "kubernetes.core installed in $dest"
