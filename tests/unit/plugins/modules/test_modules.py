# -*- coding: utf-8 -*-
"""Module argument handling: validation fails before any client exists; results are shaped right."""

from __future__ import annotations

import importlib
import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api import client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.glue import module as glue
from ansible_collections.deckhouse.virtualization.plugins.modules import (
    cluster_virtual_image, image_catalog_apply, virtual_image, virtual_image_info,
)

MODULES_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "modules")

# One invalid task per module: each must fail with a message naming the option, before any client exists.
BAD_INPUT = {
    "virtual_image": ({"name": "a.b", "namespace": "n", "source": {"http": {"url": "https://x/y"}}}, "'.' is forbidden"),
    "cluster_virtual_image": ({"name": "a.b", "source": {"http": {"url": "https://x/y"}}}, "'.' is forbidden"),
    "virtual_image_upload": ({"name": "img", "namespace": "N!", "path": "/nonexistent"}, "namespace 'N!' is invalid"),
    "image_catalog_apply": ({"catalog": "bad.name", "namespaces": ["n"]}, "catalog: the catalog name"),
    "virtual_image_capture": ({"namespace": "n", "disk": "Bad", "name": "img"}, "disk 'Bad' is invalid"),
    "virtual_machine_operation": ({"namespace": "n", "name": "a.b", "type": "Start"}, "'.' is forbidden"),
    "virtual_image_info": ({"name": "a.b"}, "'.' is forbidden"),
    "virtual_disk": ({"name": "d", "namespace": "n", "size": "-1Gi"}, "size must be greater than 0"),
    "virtual_disk_info": ({"namespace": "N!"}, "namespace 'N!' is invalid"),
    "virtual_disk_snapshot": ({"name": "s", "namespace": "n"}, "disk is required"),
}


def run(module, args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture(autouse=True)
def no_client(monkeypatch):
    """Any attempt to build a client is a test failure unless a test allows it: the glue's one factory, and the
    Client class itself, so that a module building one elsewhere is caught too."""
    def forbidden(*args, **kwargs):
        raise AssertionError("a client was built: validation did not stop the run")
    monkeypatch.setattr(glue, "build_client", forbidden)
    monkeypatch.setattr(client.Client, "__init__", forbidden)


def test_checksum_error_names_option(capsys):
    result = run(virtual_image, {"name": "a", "namespace": "n", "source": {
        "http": {"url": "https://x/y", "checksum": {"sha256": "abc123abc123"}}}}, capsys)
    assert result["failed"] and result["msg"] == "source.http.checksum.sha256 must be 64 hex characters (or the http(s) URL of a sums file), got 12"


def test_dot_in_name(capsys):
    result = run(virtual_image, {"name": "a.b", "namespace": "n", "source": {"http": {"url": "https://x/y"}}}, capsys)
    assert "'.' is forbidden" in result["msg"]


def test_upload_of_a_missing_file_fails_before_any_client(tmp_path, capsys):
    missing = str(tmp_path / "d.img")
    result = run(virtual_image, {"name": "a", "namespace": "n", "source": {"upload": {"path": missing}}}, capsys)
    assert result["failed"] and result["msg"] == "source.upload.path %r is not a readable file" % missing


def test_definition_and_typed_options_exclusive(capsys):
    result = run(cluster_virtual_image, {"name": "c", "source": {"http": {"url": "https://x"}},
                                         "definition": {"kind": "ClusterVirtualImage"}}, capsys)
    assert "cannot be combined with source" in result["msg"]


def test_registry_password_never_in_output(capsys):
    result = run(virtual_image, {"name": "a", "namespace": "N!", "source": {"container_image": {
        "image": "r.io/x:1", "registry_credentials": {"username": "robot", "password": "s3cr3t-pw"}}}}, capsys)
    assert result["failed"]
    assert "s3cr3t-pw" not in json.dumps(result)


def test_info_rejects_namespace_with_cluster(capsys):
    result = run(virtual_image_info, {"cluster": True, "namespace": "n"}, capsys)
    assert "namespace cannot be used with cluster: true" in result["msg"]


def test_wait_timeout_negative(capsys):
    result = run(virtual_image, {"name": "a", "namespace": "n", "wait_timeout": -5, "state": "absent"}, capsys)
    assert result["msg"] == "wait_timeout must be >= 0, got -5"


def test_the_guard_covers_every_module():
    """A module added without a case here fails this test, so the guard below can never miss one."""
    names = sorted(f[:-3] for f in os.listdir(MODULES_DIR) if f.endswith(".py") and not f.startswith("_"))
    assert names == sorted(BAD_INPUT)


@pytest.mark.parametrize("name", sorted(BAD_INPUT))
def test_bad_input_fails_before_any_client(name, capsys):
    args, message = BAD_INPUT[name]
    module = importlib.import_module("ansible_collections.deckhouse.virtualization.plugins.modules." + name)
    result = run(module, args, capsys)
    assert result["failed"] and message in result["msg"]


def test_catalog_manifests_the_action_plugin_did_not_read_are_refused_first(capsys):
    """Run without its action plugin, the catalog module gets ``manifests`` as paths it never reads: it refuses,
    naming the fix, before a sums file is fetched (the entry's checksum URL is never asked for) or a client built."""
    sums = {"sha256": "https://sums.invalid/SHA256SUMS"}
    result = run(image_catalog_apply, {"namespaces": ["n"], "manifests": ["catalog/*.yaml"],
                                       "images": [{"name": "a", "url": "https://h/a.img", "checksum": sums}]}, capsys)
    assert result["failed"] and result["msg"].startswith("manifests reached the module unread")
    assert "deckhouse.virtualization.image_catalog_apply" in result["msg"]
