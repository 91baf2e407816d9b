"""The first release's notes and the one version both packages carry.

- The release notes `make changelog` renders (antsibull-changelog's release, in a throw-away copy) list every
  module and every role of the checkout as new, with the summary its documentation gives.
- galaxy.yml's `version` is the only place a version is written: the dvp-sandbox wheel built from a copy whose
  galaxy.yml says another version carries that one, and the wheel and tarball built here carry the same.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import json
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Dict

import pytest
import yaml
from packaging_support import REPO, run, user_env

COLLECTION = "deckhouse.virtualization."


def galaxy_version(root: Path = REPO) -> str:
    return str(yaml.safe_load((root / "galaxy.yml").read_text())["version"])


def section(notes: str, title: str) -> Dict[str, str]:
    """The `- <fqcn> - <summary>` entries under an RST section of the notes, by name."""
    match = re.search(r"^%s\n-+\n\n((?:- .*\n)+)" % re.escape(title), notes, re.MULTILINE)
    assert match, "no %r section in the release notes:\n%s" % (title, notes[-2000:])
    entries = {}
    for line in match.group(1).splitlines():
        name, summary = line[2:].split(" - ", 1)
        entries[name] = summary
    return entries


def documented_summary(path: Path) -> str:
    """short_description of a module file (its DOCUMENTATION) or a role (its main entry point)."""
    if path.suffix == ".py":
        text = path.read_text()
        doc = re.search(r'^DOCUMENTATION = r?"""(.*?)"""', text, re.MULTILINE | re.DOTALL)
        assert doc, path
        return yaml.safe_load(doc.group(1))["short_description"]
    specs = yaml.safe_load((path / "meta" / "argument_specs.yml").read_text())
    return specs["argument_specs"]["main"]["short_description"]


@pytest.fixture(scope="module")
def release_notes(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("notes") / "CHANGELOG.rst"
    run([REPO / "scripts" / "docs.sh", "changelog", out], env=user_env(), cwd=REPO)
    return out.read_text()


def test_the_release_notes_list_every_module_and_role_as_new(release_notes: str) -> None:
    assert "v%s\n" % galaxy_version() in release_notes
    modules = {COLLECTION + p.stem: documented_summary(p) for p in (REPO / "plugins" / "modules").glob("*.py")
               if p.stem != "__init__"}
    roles = {COLLECTION + p.name: documented_summary(p) for p in (REPO / "roles").iterdir() if p.is_dir()}
    assert modules and roles
    new_modules, new_roles = section(release_notes, "New Modules"), section(release_notes, "New Roles")
    assert sorted(new_modules) == sorted(modules)
    assert sorted(new_roles) == sorted(roles)
    for name, summary in {**modules, **roles}.items():
        listed = {**new_modules, **new_roles}[name]
        assert listed.rstrip(".") == summary.rstrip("."), name


def test_the_wheel_takes_its_version_from_galaxy_yml(tmp_path: Path) -> None:
    # A copy of what the build reads, as a git tree of its own (the script ships only what git tracks), with
    # galaxy.yml saying a version no file of the repository names.
    copy = tmp_path / "repo"
    copy.mkdir()
    for name in ("scripts", "packaging", "sandbox"):
        shutil.copytree(REPO / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("LICENSE", "galaxy.yml"):
        shutil.copy(REPO / name, copy / name)
    text = (copy / "galaxy.yml").read_text()
    (copy / "galaxy.yml").write_text(re.sub(r"(?m)^version: .*$", "version: 7.6.5", text))
    subprocess.run(["git", "init", "-q", str(copy)], check=True)
    subprocess.run(["git", "-C", str(copy), "add", "-A"], check=True)
    out = tmp_path / "wheel"
    run([copy / "scripts" / "build-sandbox-wheel.sh", out], env=user_env(PYTHON_FOR_BUILD=sys.executable), cwd=copy)
    (built,) = out.glob("dvp_sandbox-*.whl")
    assert built.name.startswith("dvp_sandbox-7.6.5-"), built.name


def test_the_wheel_and_the_tarball_carry_the_same_version(wheel: Path, collection_tarball: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        (metadata_name,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(zf.read(metadata_name).decode())
    with tarfile.open(collection_tarball) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    assert metadata["Version"] == manifest["collection_info"]["version"] == galaxy_version()
