#!/usr/bin/env bash
# `make test-matrix`: the newest ansible-core on Python 3.13 in .venv-newest (the main .venv covers
# ansible-core 2.19 on Python 3.11): ansible-test sanity and units, then a smoke run of playbooks/demo.yml
# with this ansible-core against a sandbox (the sandbox itself runs from the main .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
VENV=.venv-newest
PYVER=${MATRIX_PYTHON_VERSION:-3.13}

find_python() {
  # A pyenv shim may be on PATH without that version selected: only accept an interpreter that runs.
  local candidate
  for candidate in "$(command -v "python$PYVER" 2>/dev/null)" \
      $(command -v pyenv >/dev/null 2>&1 && ls -d "$(pyenv root)"/versions/"$PYVER".*/bin/python"$PYVER" 2>/dev/null); do
    if [ -n "$candidate" ] && "$candidate" -c 'import venv' >/dev/null 2>&1; then echo "$candidate"; return; fi
  done
  echo "test-matrix: no working python$PYVER on PATH or in pyenv" >&2
  return 1
}

python=$(find_python)
stamp="$VENV/.requirements.sha256"
want=$(cat requirements.txt requirements-newest.txt | sha256sum | cut -d' ' -f1)
[ -x "$VENV/bin/python" ] || "$python" -m venv "$VENV"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements-newest.txt
  echo "$want" > "$stamp"
fi
"$VENV/bin/python" -m pip check
core=$("$VENV/bin/ansible" --version | sed -n '1s/.*core \([0-9.]*\).*/\1/p')
echo "test-matrix: ansible-core $core on $("$VENV/bin/python" --version)"

scripts/get-pip-standin.sh "$VENV"

export PATH="$root/$VENV/bin:$PATH"
VENV=$VENV scripts/ansible-test.sh sanity --local --python "$PYVER" --color no
VENV=$VENV scripts/ansible-test.sh units --local --python "$PYVER" --color no

# Smoke: the demo playbook with the newest ansible-core against a sandbox of its own.
state_dir="$root/.build/matrix-sandbox"
cleanup() { "$root/.venv/bin/python" -m sandbox --state-dir "$state_dir" down >/dev/null 2>&1 || true; }
trap cleanup EXIT
"$root/.venv/bin/python" -m sandbox --state-dir "$state_dir" up --seed
# shellcheck disable=SC1091
source "$state_dir/env"
export ANSIBLE_COLLECTIONS_PATH="$root/.build/collections"
scripts/link-collection.sh
"$VENV/bin/ansible-playbook" -i playbooks/inventory/sandbox.yml playbooks/demo.yml
echo "test-matrix: ansible-core $core passed sanity, units and the demo smoke run"
