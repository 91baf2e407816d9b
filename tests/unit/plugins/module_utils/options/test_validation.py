# -*- coding: utf-8 -*-
"""Validation: every rule fires before any request, naming the option."""

from __future__ import annotations

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    CLUSTER_VIRTUAL_IMAGE, VIRTUAL_IMAGE,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.image import ImageOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.validation import validate as _validate


def validate(params, kind):
    """The module's path: parameters -> typed options -> checks."""
    _validate(ImageOptions.from_params(params), kind)


CERT = ("-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2wqBoGJXyQ1\n-----END CERTIFICATE-----\n")


def params(**kw):
    base = {"name": "img", "namespace": "ns", "state": "present", "wait_timeout": 10,
            "source": {"http": {"url": "https://example.com/a.qcow2"}}}
    base.update(kw)
    return base


def http(**kw):
    block = {"url": "https://example.com/a.qcow2"}
    block.update(kw)
    return {"http": block}


def test_valid_http_passes():
    validate(params(source=http(checksum={"sha256": "ab" * 32}, ca_bundle=CERT)), VIRTUAL_IMAGE)


@pytest.mark.parametrize("name,match", [
    ("a.b", "the VirtualImage name 'a.b' is invalid: '.' is forbidden, allowed name symbols are \\[0-9a-zA-Z-\\]"),
    ("Upper", "name 'Upper' is invalid"),
    ("-x", "name '-x' is invalid"),
    ("x" * 254, "is invalid"),
    (None, "name is required"),
])
def test_names(name, match):
    with pytest.raises(ValidationError, match=match):
        validate(params(name=name), VIRTUAL_IMAGE)


def test_namespace_required_for_vi_only():
    with pytest.raises(ValidationError, match="namespace is required"):
        validate(params(namespace=None), VIRTUAL_IMAGE)
    validate(params(namespace=None), CLUSTER_VIRTUAL_IMAGE)


def test_checksum_length_message_names_option():
    with pytest.raises(ValidationError) as err:
        validate(params(source=http(checksum={"sha256": "a" * 12})), VIRTUAL_IMAGE)
    assert err.value.msg == "source.http.checksum.sha256 must be 64 hex characters (or the http(s) URL of a sums file), got 12"


def test_checksum_hex():
    with pytest.raises(ValidationError, match="source.http.checksum.md5 must be 32 hex characters, got non-hex"):
        validate(params(source=http(checksum={"md5": "z" * 32})), VIRTUAL_IMAGE)


@pytest.mark.parametrize("url", ["ftp://x/y", "file:///etc/passwd", "example.com/x"])
def test_url_scheme(url):
    with pytest.raises(ValidationError, match="source.http.url must use the http or https scheme"):
        validate(params(source={"http": {"url": url}}), VIRTUAL_IMAGE)


def test_pem_must_parse():
    with pytest.raises(ValidationError, match="source.http.ca_bundle must be PEM text"):
        validate(params(source=http(ca_bundle="not a cert")), VIRTUAL_IMAGE)
    bad = "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----"
    with pytest.raises(ValidationError, match="certificate 1 is not valid base64"):
        validate(params(source=http(ca_bundle=bad)), VIRTUAL_IMAGE)


def test_exactly_one_source():
    with pytest.raises(ValidationError, match="source must have exactly one of .* got none"):
        validate(params(source={}), VIRTUAL_IMAGE)
    two = {"http": {"url": "http://a"}, "object_ref": {"kind": "VirtualImage", "name": "b"}}
    with pytest.raises(ValidationError, match="got http, object_ref"):
        validate(params(source=two), VIRTUAL_IMAGE)


def test_source_required_for_present_not_absent():
    with pytest.raises(ValidationError, match="source is required"):
        validate(params(source=None), VIRTUAL_IMAGE)
    validate(params(source=None, state="absent"), VIRTUAL_IMAGE)


def test_wait_timeout_non_negative():
    with pytest.raises(ValidationError, match="wait_timeout must be >= 0, got -1"):
        validate(params(wait_timeout=-1), VIRTUAL_IMAGE)


def test_object_ref_kind_and_cvi_namespace_rule():
    with pytest.raises(ValidationError, match="source.object_ref.kind must be one of"):
        validate(params(source={"object_ref": {"kind": "Pod", "name": "x"}}), VIRTUAL_IMAGE)
    cvi = {"name": "c", "state": "present", "source": {"object_ref": {"kind": "VirtualDisk", "name": "d"}}}
    with pytest.raises(ValidationError, match="source.object_ref.namespace is required"):
        validate(cvi, CLUSTER_VIRTUAL_IMAGE)
    cvi["source"]["object_ref"] = {"kind": "ClusterVirtualImage", "name": "d"}
    validate(cvi, CLUSTER_VIRTUAL_IMAGE)


def test_container_image_reference():
    with pytest.raises(ValidationError, match="source.container_image.image must be a registry reference"):
        validate(params(source={"container_image": {"image": "https://r.io/x"}}), VIRTUAL_IMAGE)
    validate(params(source={"container_image": {"image": "r.io:5000/a/b:1.0"}}), VIRTUAL_IMAGE)


def test_cvi_pull_secret_needs_namespace_without_credentials():
    cvi = {"name": "c", "state": "present",
           "source": {"container_image": {"image": "r.io/x:1", "image_pull_secret": {"name": "s"}}}}
    with pytest.raises(ValidationError, match="image_pull_secret.namespace is required"):
        validate(cvi, CLUSTER_VIRTUAL_IMAGE)


def test_storage_class_needs_pvc():
    with pytest.raises(ValidationError, match="storage_class needs storage: PersistentVolumeClaim"):
        validate(params(storage_class="fast"), VIRTUAL_IMAGE)


def test_definition_excludes_typed_options_and_checks_kind():
    definition = {"apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualImage", "spec": {}}
    with pytest.raises(ValidationError, match="cannot be combined with source"):
        validate(params(definition=definition), VIRTUAL_IMAGE)
    with pytest.raises(ValidationError, match="definition must have kind ClusterVirtualImage"):
        validate({"name": "c", "state": "present", "definition": definition}, CLUSTER_VIRTUAL_IMAGE)


def test_upload_file_must_exist_and_only_a_definition_upload_is_unsupported(tmp_path):
    missing = params(source={"upload": {"path": str(tmp_path / "nope")}})
    with pytest.raises(ValidationError, match="source.upload.path .* is not a readable file"):
        validate(missing, VIRTUAL_IMAGE)
    disk = tmp_path / "disk.img"
    disk.write_bytes(b"x")
    present = params(source={"upload": {"path": str(disk)}})
    validate(present, VIRTUAL_IMAGE)
    as_definition = params(source=None, definition={"apiVersion": "virtualization.deckhouse.io/v1alpha2",
                                                    "kind": "VirtualImage", "spec": {"dataSource": {"type": "Upload"}}})
    with pytest.raises(ValidationError, match="names no file to send.*wait: false.*virtual_image_upload"):
        validate(as_definition, VIRTUAL_IMAGE)
    validate(dict(as_definition, state="absent"), VIRTUAL_IMAGE)
    validate(dict(as_definition, wait=False), VIRTUAL_IMAGE)  # created for another step to upload into
