# -*- coding: utf-8 -*-
"""One local-file policy for every action plugin: search path, vault, cleanup, the connection rule, and the
task's arguments left alone (checked by the run_action fixture for every run)."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible.errors import AnsibleActionFail

from ansible_collections.deckhouse.virtualization.plugins.action import (
    cluster_virtual_image, image_catalog_apply, virtual_image, virtual_image_upload,
)

DISK = b"\x00disk bytes\x01" * 64
MANIFEST = {"apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualImage",
            "metadata": {"name": "from-file"}, "spec": {"dataSource": {"type": "HTTP", "http": {"url": "https://x/y"}}}}


def test_upload_path_found_in_files_and_decrypted_while_the_module_runs(tree, vault, run_action):
    tree.write("files/disk.qcow2", vault(DISK))
    ran = run_action(virtual_image_upload, {"name": "a", "namespace": "n", "path": "disk.qcow2"}, watch=("path",))
    assert ran.existed["path"] and ran.contents["path"] == DISK  # the module read the plaintext
    assert ran.args["path"] != str(tree.playbook / "files" / "disk.qcow2")  # a decrypted copy ...
    assert not os.path.exists(ran.args["path"])  # ... removed after the task


def test_plain_file_is_passed_as_found(tree, run_action):
    found = tree.write("disk.raw", DISK)
    ran = run_action(virtual_image_upload, {"name": "a", "namespace": "n", "path": "disk.raw"})
    assert ran.args["path"] == str(found)


def test_role_files_come_before_the_playbook_directory(tree, run_action):
    tree.write("files/disk.raw", b"playbook")
    in_role = tree.write("files/disk.raw", b"role", under=tree.role)
    ran = run_action(virtual_image_upload, {"name": "a", "namespace": "n", "path": "disk.raw"}, in_role=True)
    assert ran.args["path"] == str(in_role)


def test_source_upload_path_of_both_image_modules(tree, vault, run_action):
    tree.write("files/disk.qcow2", vault(DISK))
    for plugin in (virtual_image, cluster_virtual_image):
        args = {"name": "a", "source": {"upload": {"path": "disk.qcow2", "checksum": {"sha1": None}}}}
        ran = run_action(plugin, args, watch=("source.upload.path",))
        assert ran.contents["source.upload.path"] == DISK
        assert ran.args["source"]["upload"]["checksum"] == {"sha1": None}


def test_module_files_are_left_alone_on_other_connections(tree, vault, run_action):
    tree.write("files/disk.qcow2", vault(DISK))
    ran = run_action(virtual_image_upload, {"name": "a", "namespace": "n", "path": "disk.qcow2"}, transport="ssh")
    assert ran.args["path"] == "disk.qcow2"  # a path on the managed host
    ran = run_action(image_catalog_apply, {"namespaces": ["n"], "images": [{"name": "a", "path": "disk.qcow2"}]},
                     transport="ssh")
    assert ran.args["images"] == [{"name": "a", "path": "disk.qcow2"}]


def test_missing_file_and_directory_name_the_option(tree, run_action):
    with pytest.raises(AnsibleActionFail, match=r"^path: nowhere\.raw not found"):
        run_action(virtual_image_upload, {"name": "a", "namespace": "n", "path": "nowhere.raw"})
    with pytest.raises(AnsibleActionFail, match=r"^source\.upload\.path: .*files is a directory, not a file"):
        run_action(virtual_image, {"name": "a", "namespace": "n", "source": {"upload": {"path": "files"}}})


def test_vault_file_with_async_fails_and_leaves_no_copy(tree, vault, run_action, monkeypatch):
    tree.write("files/disk.qcow2", vault(DISK))
    made = []
    from ansible.parsing.dataloader import DataLoader
    real = DataLoader.get_real_file

    def spy(self, path, decrypt=True):
        made.append(real(self, path, decrypt))
        return made[-1]

    monkeypatch.setattr(DataLoader, "get_real_file", spy)
    with pytest.raises(AnsibleActionFail, match=r"^path: a vault-encrypted file cannot be used with async"):
        run_action(virtual_image_upload, {"name": "a", "namespace": "n", "path": "disk.qcow2"}, async_val=60)
    assert made and not os.path.exists(made[0])


def test_src_is_read_on_the_controller_on_any_connection_and_may_be_vaulted(tree, vault, run_action):
    tree.write("files/image.yaml", vault(yaml.safe_dump(MANIFEST).encode()))
    for transport in ("local", "ssh"):
        ran = run_action(virtual_image, {"src": "image.yaml", "namespace": "n"}, transport=transport)
        assert "src" not in ran.args and yaml.safe_load(ran.args["definition"]) == MANIFEST


def test_catalog_manifests_become_definitions_after_the_given_ones(tree, vault, run_action):
    tree.write("catalog/a.yaml", yaml.safe_dump(MANIFEST))
    tree.write("catalog/b.yaml", yaml.safe_dump_all([MANIFEST, None, dict(MANIFEST, kind="Second")]))
    tree.write("files/secret.yaml", vault(yaml.safe_dump(dict(MANIFEST, kind="Vaulted")).encode()))
    given = [{"origin": "inline", "manifest": MANIFEST}]
    for transport in ("local", "ssh"):  # the plugin reads them: the controller's files whatever the connection
        ran = run_action(image_catalog_apply, {"namespaces": ["n"], "definitions": given,
                                               "manifests": ["catalog/*.yaml", "secret.yaml"]}, transport=transport)
        assert "manifests" not in ran.args
        assert [(d["origin"], d["manifest"]["kind"]) for d in ran.args["definitions"]] == [
            ("inline", "VirtualImage"), ("a.yaml", "VirtualImage"), ("b.yaml#0", "VirtualImage"),
            ("b.yaml#1", "Second"), ("secret.yaml", "Vaulted")]


def test_catalog_bare_glob_uses_files_first_and_a_typo_fails(tree, run_action):
    tree.write("files/one.yaml", yaml.safe_dump(MANIFEST))
    tree.write("two.yaml", yaml.safe_dump(MANIFEST))
    ran = run_action(image_catalog_apply, {"namespaces": ["n"], "manifests": "*.yaml"})
    assert [d["origin"] for d in ran.args["definitions"]] == ["one.yaml"]  # files/ matched: the first that does
    with pytest.raises(AnsibleActionFail, match=r"^manifests\[1\]: 'nothing\*\.yml' matches no file"):
        run_action(image_catalog_apply, {"namespaces": ["n"], "manifests": ["*.yaml", "nothing*.yml"]})


def test_catalog_broken_yaml_names_the_pattern(tree, run_action):
    tree.write("bad.yaml", "a: [unclosed")
    with pytest.raises(AnsibleActionFail, match=r"^manifests\[0\]: .*bad\.yaml cannot be read"):
        run_action(image_catalog_apply, {"namespaces": ["n"], "manifests": ["bad.y*ml"]})


def test_catalog_entry_paths_are_module_files(tree, vault, run_action):
    tree.write("files/disk.qcow2", vault(DISK))
    entries = [{"name": "a", "url": "https://x/y"}, {"name": "b", "path": "disk.qcow2"}]
    ran = run_action(image_catalog_apply, {"namespaces": ["n"], "images": entries, "images_option": "catalog_images"},
                     watch=("images.1.path",))
    assert ran.contents["images.1.path"] == DISK and ran.args["images"][0] == entries[0]
    with pytest.raises(AnsibleActionFail, match=r"^catalog_images\[0\]\.path: gone\.raw not found"):
        run_action(image_catalog_apply, {"namespaces": ["n"], "images": [{"name": "a", "path": "gone.raw"}],
                                         "images_option": "catalog_images"})
