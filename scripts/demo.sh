#!/usr/bin/env bash
# `make demo`: start the sandbox with its demo sources, run playbooks/demo.yml against it, print the
# result, and stop the sandbox again (also on failure).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

state_dir=${DVP_SANDBOX_DIR:-$PWD/.sandbox}
started_here=0
cleanup() { if ((started_here)); then python -m sandbox --state-dir "$state_dir" down || true; fi; }
trap cleanup EXIT

if ! python -m sandbox --state-dir "$state_dir" status 2>/dev/null | grep -q "api  *running"; then
  python -m sandbox --state-dir "$state_dir" up --seed
  started_here=1
fi
# shellcheck disable=SC1091
source "$state_dir/env"

export ANSIBLE_COLLECTIONS_PATH="$PWD/.build/collections"
scripts/link-collection.sh
ansible-playbook -i playbooks/inventory/sandbox.yml playbooks/demo.yml "$@"
