#!/usr/bin/env bash
# Run ansible-test on a copy of the collection laid out as ansible_collections/deckhouse/virtualization
# (ansible-test needs that layout). The copy holds what git tracks plus untracked, not-ignored files;
# the sandbox and dev scripts are not part of the collection and are left out.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dest=.build/ansible_collections/deckhouse/virtualization
rm -rf "$dest"
mkdir -p "$dest"
git ls-files -co --exclude-standard -z \
  | grep -zv -e '^sandbox/' -e '^scripts/' -e '^\.ci/' \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf - | tar -xf - -C "$dest"
cd "$dest"
# ansible-test lists content with git and would otherwise find this repo's .git (where .build is ignored):
# give the copy a throwaway index of its own.
git init -q . && git add -A
"$root/.venv/bin/ansible-test" "$@"
