"""The built collection tarball installs offline and its modules resolve by FQCN.

This is what a user gets from `ansible-galaxy collection install`, so it is checked from the tarball, not
from the working tree.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FQCN = "deckhouse.virtualization"


def _modules() -> list[str]:
    return sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py") if p.stem != "__init__")


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build")
    subprocess.run([BIN / "ansible-galaxy", "collection", "build", "--output-path", out, REPO],
                   check=True, capture_output=True, text=True)
    (built,) = out.glob("deckhouse-virtualization-*.tar.gz")
    return built


def test_tarball_leaves_out_development_files(tarball: Path) -> None:
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    assert "galaxy.yml" not in names and "MANIFEST.json" in names
    assert not [n for n in names if n.startswith(("sandbox/", ".venv/", ".sandbox/", ".build/", "scripts/"))]
    assert [n for n in names if n.startswith("plugins/modules/")]


def test_tarball_installs_offline_and_modules_resolve(tarball: Path, tmp_path: Path) -> None:
    modules = _modules()
    assert modules, "no modules in plugins/modules"
    dest = tmp_path / "collections"
    subprocess.run([BIN / "ansible-galaxy", "collection", "install", "--offline", "-p", dest, tarball],
                   check=True, capture_output=True, text=True)
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(dest)}
    listed = subprocess.run([BIN / "ansible-doc", "-t", "module", "-l", FQCN],
                            check=True, capture_output=True, text=True, env=env).stdout
    for module in modules:
        assert f"{FQCN}.{module}" in listed
        doc = subprocess.run([BIN / "ansible-doc", f"{FQCN}.{module}"],
                             check=True, capture_output=True, text=True, env=env).stdout
        assert "EXAMPLES" in doc and "RETURN VALUES" in doc
