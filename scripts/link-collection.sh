#!/usr/bin/env bash
# Make this checkout importable as deckhouse.virtualization without building it:
# .build/collections/ansible_collections/deckhouse/virtualization -> the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.build/collections/ansible_collections/deckhouse
mkdir -p "$dest"
ln -sfn "$PWD" "$dest/virtualization"
