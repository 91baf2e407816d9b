"""`make build` makes the tarball and the wheel with ansible-core alone, not with the development toolchain.

It runs in a venv of its own (BUILD_VENV) made from requirements-build.txt; `make venv`'s .venv (pytest,
Molecule, ansible-lint, Sphinx, ...) is neither made nor used.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from packaging_support import REPO, run, user_env


def test_make_build_installs_only_ansible_core(tmp_path: Path) -> None:
    build_venv, out, no_venv = tmp_path / "build-venv", tmp_path / "out", tmp_path / "no-dev-venv"
    run(["make", "-C", REPO, "build", "BUILD_VENV=%s" % build_venv, "BUILD_OUT=%s" % out, "VENV=%s" % no_venv,
         "PYTHON=%s" % sys.executable], env=user_env(), cwd=tmp_path, timeout=600)
    assert not no_venv.exists(), "make build made the development venv"
    assert len(list(out.glob("deckhouse-virtualization-*.tar.gz"))) == 1
    assert len(list(out.glob("dvp_sandbox-*-py3-none-any.whl"))) == 1
    frozen = subprocess.run([build_venv / "bin" / "python", "-m", "pip", "freeze", "--all"], capture_output=True,
                            text=True, check=True).stdout.lower()
    installed = {line.split("==")[0] for line in frozen.splitlines() if "==" in line}
    assert "ansible-core" in installed
    toolchain = [line.split("==")[0].lower() for line in (REPO / "requirements-test.txt").read_text().splitlines()
                 if "==" in line and not line.startswith("#")]
    # ansible-core's own dependencies (PyYAML, cryptography) are pinned for the toolchain too; the rest must be absent.
    assert (set(toolchain) - {"ansible-core", "pyyaml", "cryptography"}) & installed == set(), installed
