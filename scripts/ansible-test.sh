#!/usr/bin/env bash
# Run ansible-test on a copy of the collection laid out as ansible_collections/deckhouse/virtualization
# (ansible-test needs that layout). The copy holds what git tracks plus untracked, not-ignored files, less
# what is not part of the collection: the sandbox, its own test suite, the conformance harness, benchmarks and dev scripts.
# Each run gets its own copy, so runs side by side do not pull the tree from under each other.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mkdir -p .build
work=$(mktemp -d "$root/.build/ansible-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
dest=$work/ansible_collections/deckhouse/virtualization
mkdir -p "$dest"
git ls-files -co --exclude-standard -z \
  | grep -zv -e '^sandbox/' -e '^conformance/' -e '^scripts/' -e '^\.ci/' -e '^bench/' -e '^conformance/' -e '^tests/sandbox/' \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf - | tar -xf - -C "$dest"
cd "$dest"
# ansible-test lists content with git and would otherwise find this repo's .git (where .build is ignored):
# give the copy a throwaway index of its own.
git init -q . && git add -A
"$root/${VENV:-.venv}/bin/ansible-test" "$@"
