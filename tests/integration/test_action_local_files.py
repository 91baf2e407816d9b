"""The action plugins' one file policy in a real playbook: relative paths found in a role's files/, vault-encrypted
manifests and disks decrypted, catalog manifests read on the controller and passed as definitions."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import yaml
from ansible.parsing.vault import VaultLib, VaultSecret

VI = "virtualization.deckhouse.io/v1alpha2"
PASSWORD = "not-a-real-secret"


def manifest(name: str, url: str) -> Dict[str, Any]:
    return {"apiVersion": VI, "kind": "VirtualImage", "metadata": {"name": name},
            "spec": {"storage": "ContainerRegistry", "dataSource": {"type": "HTTP", "http": {"url": url}}}}


def seeder_role(root: Path, namespace: str, sources: Dict[str, str]) -> Path:
    """A role whose files/ hold a plain and a vaulted manifest, a vaulted src manifest and a vaulted disk."""
    from sandbox import seed
    encrypt = VaultLib([("default", VaultSecret(PASSWORD.encode()))]).encrypt
    files = root / "roles" / "seeder" / "files"
    (files / "catalog").mkdir(parents=True)
    (files / "catalog" / "plain.yaml").write_text(yaml.safe_dump(manifest("from-plain", sources["raw"])))
    (files / "catalog" / "vaulted.yaml").write_bytes(encrypt(yaml.safe_dump(manifest("from-vault", sources["qcow2"]))))
    (files / "image.yaml").write_bytes(encrypt(yaml.safe_dump(manifest("from-src", sources["raw"]))))
    disk = seed.make_disk(root / "disk.qcow2", "qcow2", 4 * 1024 * 1024)
    (files / "disk.qcow2").write_bytes(encrypt(disk.read_bytes()))
    tasks = root / "roles" / "seeder" / "tasks"
    tasks.mkdir()
    (tasks / "main.yml").write_text(yaml.safe_dump([
        {"name": "catalog from the role's files", "deckhouse.virtualization.image_catalog_apply": {
            "namespaces": [namespace], "catalog": "files", "manifests": ["catalog/*.yaml"],
            "images": [{"name": "uploaded", "path": "disk.qcow2"}], "wait_timeout": 120},
         "register": "catalog_result"},
        {"name": "image from a vaulted src", "deckhouse.virtualization.virtual_image": {
            "src": "image.yaml", "namespace": namespace, "wait_timeout": 60}, "register": "src_result"},
    ], sort_keys=False))
    (root / "vault-pass").write_text(PASSWORD + "\n")
    return root / "roles"


def test_role_files_vault_and_manifests_as_definitions(play, namespace, sources, tmp_path):
    roles = seeder_role(tmp_path, namespace, sources)
    run = play([
        {"ansible.builtin.include_role": {"name": "seeder"}},
        {"ansible.builtin.set_fact": {"copied": {"catalog": "{{ catalog_result }}", "src": "{{ src_result }}"}},
         "register": "results"},
    ], verbosity=1, env={"ANSIBLE_ROLES_PATH": str(roles), "ANSIBLE_VAULT_PASSWORD_FILE": str(tmp_path / "vault-pass")})
    assert run.rc == 0, run.stdout[-4000:]
    copied = run["results"]["ansible_facts"]["copied"]
    rows = {row["name"]: row for row in copied["catalog"]["images"]}
    assert sorted(rows) == ["from-plain", "from-vault", "uploaded"]
    assert all(row["phase"] == "Ready" for row in rows.values()), rows
    assert rows["from-plain"]["entry"].startswith("plain.yaml")  # the origin the action plugin gave the manifest
    assert rows["from-vault"]["entry"].startswith("vaulted.yaml")
    assert copied["src"]["phase"] == "Ready" and copied["src"]["image"]["metadata"]["name"] == "from-src"
    # progress at -v, from the catalog and from the image module
    assert "VirtualImage %s/from-plain: Ready" % namespace in run.stdout
    assert "VirtualImage %s/from-src: Ready" % namespace in run.stdout
