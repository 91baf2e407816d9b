"""Fixtures for the dvp-sandbox distribution (helpers in packaging_support.py).

- `wheel`: scripts/build-sandbox-wheel.sh's wheel (what `make build` puts in .build/), built once per session.
- `installed_sandbox`: the `bin` folder of a fresh venv with that wheel and its pinned dependencies from PyPI
  (pip's own cache keeps a second install fast); nothing of this checkout is on its path.
- `collection_tarball`: the collection as `ansible-galaxy collection build` makes it; `installed_collection`:
  that tarball installed offline into a folder of its own.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from packaging_support import BIN, REPO, fresh_venv, run, user_env


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    run([REPO / "scripts" / "build-sandbox-wheel.sh", out], env=user_env(PYTHON_FOR_BUILD=sys.executable),
        cwd=REPO)
    (built,) = out.glob("dvp_sandbox-*-py3-none-any.whl")
    return built


@pytest.fixture(scope="session")
def installed_sandbox(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("dvp-sandbox-venv")
    return fresh_venv(where / "venv", str(wheel), cwd=where)


@pytest.fixture(scope="session")
def collection_tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("collection")
    run([BIN / "ansible-galaxy", "collection", "build", "--output-path", out, REPO], env=user_env(), cwd=out)
    (built,) = out.glob("deckhouse-virtualization-*.tar.gz")
    return built


@pytest.fixture(scope="session")
def installed_collection(collection_tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tarball installed offline into a folder of its own (ANSIBLE_COLLECTIONS_PATH names it)."""
    dest = tmp_path_factory.mktemp("collections")
    run([BIN / "ansible-galaxy", "collection", "install", "--offline", "--force", "-p", dest, collection_tarball],
        env=user_env(), cwd=dest)
    return dest
