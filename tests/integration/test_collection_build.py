"""The built collection tarball installs offline and its modules resolve by FQCN.

This is what a user gets from `ansible-galaxy collection install`, so it is checked from the tarball, not
from the working tree.
"""
from __future__ import annotations

import json
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
    # Nothing of developing the collection: its suites, its own Molecule scenario, the toolchain's pins, the
    # docs site's build settings, the EE definition, unreleased fragments, the linters' settings.
    development = [n for n in names if n.split("/")[0] in (
        "tests", "molecule", "ee", "pytest.ini", ".gitignore", ".yamllint", ".ansible-lint")
        or (n.startswith("requirements-") and n.endswith(".txt"))
        or n in ("docs/conf.py", "docs/antsibull-docs.cfg", "docs/index.rst", "docs/ansible_refs.rst")
        or n.startswith("changelogs/fragments/")]
    assert development == []
    # What a user or an execution environment reads stays: the requirements, bindep, docs, playbooks, notes.
    for kept in ("requirements.txt", "bindep.txt", "meta/execution-environment.yml", "changelogs/changelog.yaml",
                 "docs/docsite/extra-docs.yml", "playbooks/demo.yml", "LICENSE", "README.md"):
        assert kept in names, kept


def test_tarball_installs_offline_and_modules_resolve(tarball: Path, tmp_path: Path) -> None:
    modules = _modules()
    assert modules, "no modules in plugins/modules"
    dest = tmp_path / "collections"
    # --force and a cwd outside the repo: ansible-lint leaves a collections/ link tree in the repo root,
    # which ansible-galaxy would otherwise take for an existing install.
    subprocess.run([BIN / "ansible-galaxy", "collection", "install", "--offline", "--force", "-p", dest, tarball],
                   check=True, capture_output=True, text=True, cwd=tmp_path)
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(dest)}
    listed = subprocess.run([BIN / "ansible-doc", "-t", "module", "-l", FQCN],
                            check=True, capture_output=True, text=True, env=env, cwd=tmp_path).stdout
    for module in modules:
        assert f"{FQCN}.{module}" in listed
        doc = subprocess.run([BIN / "ansible-doc", f"{FQCN}.{module}"],
                             check=True, capture_output=True, text=True, env=env, cwd=tmp_path).stdout
        assert "EXAMPLES" in doc and "RETURN VALUES" in doc


def test_installed_docs_are_complete(tarball: Path, tmp_path: Path) -> None:
    """ansible-doc of the installed copy: every module and role fully documented, examples valid YAML."""
    import yaml
    dest = tmp_path / "collections"
    # --force and a cwd outside the repo: ansible-lint leaves a collections/ link tree in the repo root,
    # which ansible-galaxy would otherwise take for an existing install.
    subprocess.run([BIN / "ansible-galaxy", "collection", "install", "--offline", "--force", "-p", dest, tarball],
                   check=True, capture_output=True, text=True, cwd=tmp_path)
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(dest), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false"}
    names = ["%s.%s" % (FQCN, m) for m in _modules()]
    docs = json.loads(subprocess.run([BIN / "ansible-doc", "--json", *names],
                                     check=True, capture_output=True, text=True, env=env, cwd=tmp_path).stdout)
    assert sorted(docs) == sorted(names)
    for name, entry in docs.items():
        doc = entry["doc"]
        assert str(dest) in doc["filename"], (name, doc["filename"])
        assert doc["short_description"] and doc["description"] and doc["author"], name
        assert doc["options"] and all(o.get("description") for o in doc["options"].values()), name
        assert entry["return"] and isinstance(yaml.safe_load(entry["examples"]), list), name
    roles = sorted(p.name for p in (REPO / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())
    role_docs = json.loads(subprocess.run([BIN / "ansible-doc", "-t", "role", "--json",
                                           *("%s.%s" % (FQCN, r) for r in roles)],
                                          check=True, capture_output=True, text=True, env=env, cwd=tmp_path).stdout)
    for role in roles:
        main = role_docs["%s.%s" % (FQCN, role)]["entry_points"]["main"]
        assert main["short_description"] and main["description"] and main["options"], role
