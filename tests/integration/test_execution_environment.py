"""ansible-builder can make an execution environment with this collection and its dependencies.

`ansible-builder create` needs no container engine, so the build context is checked here; the dependencies
the image would get are checked with ansible-builder's own introspection over the installed tarball.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ee-build")
    subprocess.run([BIN / "ansible-galaxy", "collection", "build", "--output-path", out, REPO],
                   check=True, capture_output=True, text=True)
    (built,) = out.glob("deckhouse-virtualization-*.tar.gz")
    return built


def test_create_writes_a_build_context_with_the_collection(tarball: Path, tmp_path: Path) -> None:
    # The definition expects the tarball at ../.build/ee/ (where `make ee-context` puts it): mirror that layout.
    shutil.copytree(REPO / "ee", tmp_path / "ee")
    staged = tmp_path / ".build" / "ee" / "deckhouse-virtualization.tar.gz"
    staged.parent.mkdir(parents=True)
    shutil.copy(tarball, staged)
    context = tmp_path / "context"
    subprocess.run([BIN / "ansible-builder", "create", "-f", tmp_path / "ee" / "execution-environment.yml",
                    "-c", context, "--output-filename", "Containerfile"], check=True, capture_output=True, text=True)
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-galaxy collection install" in containerfile
    assert (context / "_build" / "collection" / "deckhouse-virtualization.tar.gz").read_bytes() == tarball.read_bytes()
    assert "/build/collection/deckhouse-virtualization.tar.gz" in (context / "_build" / "requirements.yml").read_text()


def test_introspection_finds_the_collection_dependencies(tarball: Path, tmp_path: Path) -> None:
    dest = tmp_path / "collections"
    subprocess.run([BIN / "ansible-galaxy", "collection", "install", "--force", "--offline", "-p", dest, tarball],
                   check=True, capture_output=True, text=True)
    out = subprocess.run([BIN / "ansible-builder", "introspect", "--sanitize", str(dest) + "/"],
                         check=True, capture_output=True, text=True).stdout
    python = [line.split("#")[0].strip() for line in (REPO / "requirements.txt").read_text().splitlines()
              if line.split("#")[0].strip()]
    # ansible-builder drops what ansible-core brings itself (PyYAML); everything else must reach the image.
    for requirement in python:
        if not requirement.lower().startswith("pyyaml"):
            assert requirement in out, requirement
    for package in ("qemu-utils", "skopeo", "libengine-gost-openssl", "openssl-gost-engine"):
        assert package in out
