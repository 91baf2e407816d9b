#!/usr/bin/env bash
# Give ansible-test (from the venv named as $1) its offline pip bootstrap stand-in: it looks for a cached
# get_pip_<pip version>.py under ~/.ansible/test/cache and would otherwise download one.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.venv}
pip_version=$("$venv/bin/python" - <<'PY'
import pathlib, re
import ansible_test
src = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
m = re.search(r"pip=['\"]([0-9.]+)['\"]", src.read_text())
print(m.group(1) if m else "")
PY
)
if [ -z "$pip_version" ]; then
  echo "get-pip-standin: cannot find ansible-test's pip version in $venv" >&2
  exit 1
fi
mkdir -p "$HOME/.ansible/test/cache"
install -m 0644 scripts/get_pip_standin.py "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
