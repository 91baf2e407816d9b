"""The guide's Molecule scenario (docs/examples/molecule/default), copied unchanged into a throwaway role,
passes `molecule test`: create starts the installed dvp-sandbox, converge runs the role, idempotence runs it
again with no change, verify checks the images, destroy stops the sandbox; nothing is left running.

The role imports one image from the sandbox's file server (`dvp_sandbox_http_url`, given by the template's
converge.yml). Molecule and Ansible come from this repository's venv, `dvp-sandbox` from the fresh venv the
wheel was installed into, the collection from the built tarball.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from packaging_support import BIN, REPO, processes_mentioning, run, user_env

TEMPLATE = REPO / "docs" / "examples" / "molecule" / "default"
ROLE_TASKS = """---
- name: Make sure the namespace exists
  deckhouse.virtualization.image_catalog_apply:
    catalog: molecule
    namespaces: [molecule]
    create_namespaces: true

- name: Import the demo disk
  deckhouse.virtualization.virtual_image:
    name: golden
    namespace: molecule
    source:
      http:
        url: "{{ dvp_sandbox_http_url }}/disk.qcow2"
"""
ROLE_META = """---
galaxy_info:
  role_name: my_images
  namespace: example
  author: example
  description: A throwaway role for the Molecule template test
  license: Apache-2.0
  min_ansible_version: "2.15"
  platforms: []
dependencies: []
"""


def test_the_molecule_template_passes_in_a_throwaway_role(installed_sandbox: Path, installed_collection: Path,
                                                          tmp_path: Path) -> None:
    if not shutil.which("xorriso"):
        pytest.skip("xorriso is not installed (the template starts the sandbox with --seed)")
    role = tmp_path / "my_images"
    (role / "tasks").mkdir(parents=True)
    (role / "meta").mkdir()
    (role / "tasks" / "main.yml").write_text(ROLE_TASKS)
    (role / "meta" / "main.yml").write_text(ROLE_META)
    shutil.copytree(TEMPLATE, role / "molecule" / "default")
    home = tmp_path / "home"
    env = user_env([installed_sandbox, BIN], HOME=str(home), ANSIBLE_COLLECTIONS_PATH=str(installed_collection),
                   ANSIBLE_NOCOLOR="1", PY_COLORS="0")

    proc = run([BIN / "molecule", "test"], env=env, cwd=role, timeout=600, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    summary = [line.strip() for line in output.splitlines() if line.strip().startswith("default > ")]
    assert summary[-7:] == ["default > %s: Executed: Successful" % action for action in
                            ("destroy", "syntax", "create", "converge", "idempotence", "verify", "destroy")], summary
    recaps = [line.split(":", 1)[1].split() for line in proc.stdout.splitlines() if line.startswith("localhost ")]
    # destroy, create, converge (namespace and image made), idempotence (nothing), verify, destroy
    assert [r[:2] for r in recaps] == [["ok=1", "changed=1"], ["ok=1", "changed=1"], ["ok=3", "changed=2"],
                                       ["ok=3", "changed=0"], ["ok=2", "changed=0"], ["ok=1", "changed=1"]], recaps
    # the scenario's sandbox lived under Molecule's ephemeral dir in this HOME; destroy stopped all of it
    assert not processes_mentioning(str(home))
