"""What a new user meets first: the README, the license and the descriptions of the collection and the wheel.

- The README's table lists every module, role and playbook of the checkout (and nothing else), its first 60 lines
  say what the collection is, what it needs, what is in it, how to install it and what a play looks like, and
  its YAML examples use only modules and options the installed collection documents.
- LICENSE is the Apache License 2.0, word for word, and both the collection tarball and the dvp-sandbox wheel
  carry it; the tarball's MANIFEST.json and the wheel's METADATA say Apache-2.0.
- galaxy.yml, docs/index.rst and the wheel's summary describe what the collection does today.
"""
from __future__ import annotations

import hashlib
import json
import re
import tarfile
import textwrap
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Any, Dict, Iterator, List, Set, Tuple

import pytest
import yaml
from packaging_support import BIN, REPO, run, user_env

README = REPO / "README.md"
FQCN = "deckhouse.virtualization."
# sha256 of the Apache License 2.0 as the ASF publishes it (https://www.apache.org/licenses/LICENSE-2.0.txt).
APACHE_2_0_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
# What the collection does today: each description must name all of it (lower-case stems).
TODAY = ("image", "upload", "disk", "snapshot", "capture", "catalog", "track", "sandbox")


def _readme_lines() -> List[str]:
    return README.read_text().splitlines()


def _content_rows() -> List[Tuple[str, str, str, int]]:
    """(name, type, what, line number) of each row of the README's "Included content" table."""
    rows, inside = [], False
    for number, line in enumerate(_readme_lines(), start=1):
        if line.startswith("## "):
            inside = line.strip() == "## Included content"
            continue
        if inside and line.startswith("|") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cells[:2] == ["name", "type"]:
                continue
            assert len(cells) == 3, "a row of name, type and what it does: %r" % line
            rows.append((cells[0].strip("`"), cells[1], cells[2], number))
    return rows


def _modules() -> Set[str]:
    return {p.stem for p in (REPO / "plugins" / "modules").glob("*.py") if p.stem != "__init__"}


def _roles() -> Set[str]:
    return {p.name for p in (REPO / "roles").iterdir() if (p / "tasks" / "main.yml").is_file()}


def _playbooks() -> Set[str]:
    return {"playbooks/%s" % p.name for p in (REPO / "playbooks").glob("*.yml")}


def test_the_readme_has_one_line_for_every_module_role_and_playbook() -> None:
    rows = _content_rows()
    names = [name for name, _type, _what, _line in rows]
    assert len(names) == len(set(names)), "a name listed twice: %s" % names
    listed = {kind: {name for name, type_, _what, _line in rows if type_ == kind}
              for kind in ("module", "role", "playbook")}
    assert listed == {"module": _modules(), "role": _roles(), "playbook": _playbooks()}
    assert {type_ for _name, type_, _what, _line in rows} == {"module", "role", "playbook"}
    for name, _type, what, _line in rows:
        assert len(what.split()) >= 4, "%s: say in a line what it does" % name


def test_the_first_60_lines_say_what_it_is_needs_holds_how_to_install_and_a_play() -> None:
    lines = _readme_lines()
    first = "\n".join(lines[:60])
    headings = [line for line in lines[:60] if line.startswith("## ")]
    assert headings[:4] == ["## Requirements", "## Included content", "## Installing", "## Using it"], headings
    intro = first.partition("## Requirements")[0]
    for word in ("VirtualImage", "ClusterVirtualImage", "disk", "snapshot", "capture", "catalog",
                 "golden-image track", "dvp-sandbox"):
        assert word in intro, "the first paragraph does not name %r" % word
    requirements = first.split("## Requirements")[1].split("## Included content")[0]
    for word in ("ansible-core", "Python", "urllib3", "PyYAML", "kubernetes", "DVP v1.10", "development line"):
        assert word in requirements, "Requirements does not name %r" % word
    assert max(line for _n, _t, _w, line in _content_rows()) <= 60, "the whole table is in the first 60 lines"

    installing = first.split("## Installing")[1].split("## Using it")[0]
    version = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    assert "ansible-galaxy collection install deckhouse.virtualization" in installing
    assert ".build/deckhouse-virtualization-%s.tar.gz" % version in installing
    assert "git+https://github.com/deckhouse/ansible-collection-virtualization.git" in installing

    using = first.split("## Using it")[1]
    assert using.count("```") == 2, "the example play opens and closes in the first 60 lines"
    play = yaml.safe_load(using.split("```yaml")[1].split("```")[0])
    assert play[0]["hosts"] and any(key.startswith(FQCN) for task in play[0]["tasks"] for key in task)


def _yaml_blocks() -> Iterator[Any]:
    for block in re.findall(r"^```yaml\n(.*?)^```", README.read_text(), flags=re.S | re.M):
        yield yaml.safe_load(textwrap.dedent(block))


def _tasks_and_defaults() -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """The collection's tasks in the README's YAML blocks (plays or task lists) and the module_defaults given."""
    tasks, defaults = [], []
    for data in _yaml_blocks():
        if isinstance(data, dict) and "module_defaults" in data:
            defaults.append(data["module_defaults"])
        for item in data if isinstance(data, list) else []:
            if isinstance(item, dict) and "hosts" in item:
                tasks.extend(item.get("tasks", []))
                defaults.extend([item["module_defaults"]] if "module_defaults" in item else [])
            elif isinstance(item, dict) and any(key.startswith(FQCN) for key in item):
                tasks.append(item)
    return tasks, defaults


def _unknown(args: Dict[str, Any], options: Dict[str, Any], where: str) -> List[str]:
    """The keys of `args` (recursively into suboptions) the documented `options` do not have, and values
    outside an option's choices."""
    by_name = {}
    for name, spec in options.items():
        for alias in [name] + list(spec.get("aliases") or []):
            by_name[alias] = spec
    found = []
    for key, value in args.items():
        spec = by_name.get(key)
        if spec is None:
            found.append("%s%s" % (where, key))
            continue
        if spec.get("suboptions") and isinstance(value, dict):
            found += _unknown(value, spec["suboptions"], "%s%s." % (where, key))
        elif spec.get("choices") and not isinstance(value, (dict, list)) and value not in spec["choices"]:
            found.append("%s%s=%r (choices: %s)" % (where, key, value, spec["choices"]))
    return found


def _documented_options(installed_collection: Path, modules: List[str]) -> Dict[str, Dict[str, Any]]:
    out = run([BIN / "ansible-doc", "--json", "-t", "module"] + modules, cwd=installed_collection,
              env=user_env(ANSIBLE_COLLECTIONS_PATH=str(installed_collection))).stdout
    return {name: doc["doc"].get("options") or {} for name, doc in json.loads(out).items()}


def test_the_readme_examples_use_only_documented_modules_and_options(installed_collection: Path) -> None:
    tasks, defaults = _tasks_and_defaults()
    used = sorted({key for task in tasks for key in task if key.startswith(FQCN)})
    assert len(tasks) >= 2 and len(used) >= 2, "the README's example tasks were not found: %s" % tasks
    groups = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["action_groups"]
    grouped = {FQCN + module for group in groups.values() for module in group}
    docs = _documented_options(installed_collection, sorted(set(used) | grouped))
    assert set(used) <= set(docs), "a module the collection does not have: %s" % (set(used) - set(docs))
    problems = []
    for task in tasks:
        (module,) = [key for key in task if key.startswith(FQCN)]
        problems += _unknown(task[module], docs[module], "%s: " % module)
    assert defaults, "the README shows module_defaults for the collection's action group"
    for entry in defaults:
        for group, args in entry.items():
            short = group.split("/", 1)[1][len(FQCN):] if group.startswith("group/" + FQCN) else None
            assert short in groups, "%s is not an action group of meta/runtime.yml" % group
            for module in groups[short]:
                problems += _unknown(args, docs[FQCN + module], "%s (%s): " % (group, module))
    assert not problems, problems


def test_the_readme_requirements_yml_installs_this_repository() -> None:
    repository = yaml.safe_load((REPO / "galaxy.yml").read_text())["repository"]
    found = [data for data in _yaml_blocks() if isinstance(data, dict) and "collections" in data]
    assert found, "a requirements.yml example"
    for data in found:
        assert data["collections"] == [{"name": repository + ".git", "type": "git", "version": "main"}]


def test_license_is_the_apache_license_2_0_word_for_word() -> None:
    assert hashlib.sha256((REPO / "LICENSE").read_bytes()).hexdigest() == APACHE_2_0_SHA256
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    assert galaxy["license"] == ["Apache-2.0"] and "license_file" not in galaxy


def test_the_collection_tarball_carries_the_license_and_says_what_it_does(collection_tarball: Path) -> None:
    with tarfile.open(collection_tarball) as tar:
        names = tar.getnames()
        shipped = tar.extractfile("LICENSE").read() if "LICENSE" in names else None
        manifest = json.load(tar.extractfile("MANIFEST.json"))
        files = {entry["name"] for entry in json.load(tar.extractfile("FILES.json"))["files"]}
    assert shipped == (REPO / "LICENSE").read_bytes(), "LICENSE is not in the tarball as it is in the repository"
    assert "LICENSE" in files
    assert not [n for n in names if n.startswith((".venv", ".build/", "sandbox/", "packaging/"))], names
    info = manifest["collection_info"]
    assert info["license"] == ["Apache-2.0"]
    description = info["description"].lower()
    assert [word for word in TODAY if word not in description] == [], description


def test_the_wheel_carries_the_license_in_its_metadata(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(zf.read(metadata_name).decode())
        dist_info = metadata_name.rsplit("/", 1)[0]
        license_name = "%s/licenses/LICENSE" % dist_info
        shipped = zf.read(license_name) if license_name in names else None
    assert shipped == (REPO / "LICENSE").read_bytes(), "no %s as in the repository: %s" % (
        license_name, [n for n in names if n.startswith(dist_info)])
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    summary = metadata["Summary"].lower()
    assert [word for word in ("image", "disk", "snapshot") if word not in summary] == [], summary


@pytest.mark.parametrize("path", ["galaxy.yml", "docs/index.rst"])
def test_the_descriptions_say_what_the_collection_does_today(path: str) -> None:
    text = (REPO / path).read_text()
    if path == "galaxy.yml":
        text = yaml.safe_load(text)["description"]
    else:
        text = text.split(".. toctree::")[0]
    text = " ".join(text.lower().split())
    assert [word for word in TODAY if word not in text] == [], text
    assert "v1.10" in text or path == "galaxy.yml"


def test_the_docs_site_lists_the_development_guide_and_the_readme_links_it() -> None:
    extra = yaml.safe_load((REPO / "docs" / "docsite" / "extra-docs.yml").read_text())
    development = [s["toctree"] for s in extra["sections"] if s["title"] == "Development"]
    assert development and "guide_development" in development[0]
    guide = REPO / "docs" / "docsite" / "rst" / "guide_development.rst"
    assert "(docs/docsite/rst/guide_development.rst)" in README.read_text()
    text = guide.read_text()
    for topic in ("make conformance", "make realapi-test", "tests/packaging/", "pytest-ansible", "openshift-client",
                  "Layout"):
        assert topic in text, "the development guide does not cover %r" % topic
    two = README.read_text().split("## The two commands")[1].split("\n## ")[0]
    assert "make demo" in two and "make test" in two
