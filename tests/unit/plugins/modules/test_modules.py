# -*- coding: utf-8 -*-
"""Module argument handling: validation fails before any client exists; results are shaped right."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.deckhouse.virtualization.plugins.module_utils import runner
from ansible_collections.deckhouse.virtualization.plugins.modules import (
    cluster_virtual_image, virtual_image, virtual_image_info,
)


def run(module, args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture(autouse=True)
def no_client(monkeypatch):
    """Any attempt to build a client is a test failure unless a test allows it."""
    def forbidden(*args, **kwargs):
        raise AssertionError("a client was built: validation did not stop the run")
    monkeypatch.setattr(runner, "build_client", forbidden)


def test_checksum_error_names_option(capsys):
    result = run(virtual_image, {"name": "a", "namespace": "n", "source": {
        "http": {"url": "https://x/y", "checksum": {"sha256": "abc123abc123"}}}}, capsys)
    assert result["failed"] and result["msg"] == "source.http.checksum.sha256 must be 64 hex characters, got 12"


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
