# -*- coding: utf-8 -*-
"""The catalog's own option rules: an entry's short form, a track's version, the catalog's options, and the
refusal of manifests the action plugin did not read."""

from __future__ import annotations

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.rules import (
    check_catalog_entry, refuse_module_side_manifests, track_version, validate_catalog_options,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    CLUSTER_VIRTUAL_IMAGE, VIRTUAL_IMAGE,
)

SHA256 = "AB" * 32


@pytest.mark.parametrize("raw, chosen", [
    ({"name": "a", "url": "https://h/a", "checksum": {"sha256": SHA256}}, "url"),
    ({"name": "a", "image": "r.example.com/a:1", "image_pull_secret": "pull"}, "image"),
    ({"name": "a", "path": "/tmp/a.qcow2", "storage": "ContainerRegistry"}, "path"),
    ({"name": "a", "from": {"kind": "VirtualImage", "name": "b"}}, "from"),
])
def test_an_entry_names_its_one_source(raw, chosen):
    assert check_catalog_entry(raw, VIRTUAL_IMAGE) == chosen


@pytest.mark.parametrize("raw, kind, message", [
    ({"name": "a", "url": "https://h/a", "path": "/tmp/a"}, VIRTUAL_IMAGE,
     "give exactly one of url, image, path, from, got url, path"),
    ({"name": "a", "image": "r.example.com/a:1", "checksum": {"sha256": SHA256}}, VIRTUAL_IMAGE,
     "checksum cannot be used with image (only with url or path)"),
    ({"name": "a", "url": "https://h/a", "storage": "ContainerRegistry"}, CLUSTER_VIRTUAL_IMAGE,
     "unknown field storage; known fields: name, url, image, path, from, checksum, ca_bundle, image_pull_secret, "
     "labels, keep, version"),
    ({"name": "a", "url": "https://h/a", "keep": True}, VIRTUAL_IMAGE, "keep must be a whole number, got bool"),
    ({"name": "a", "url": "https://h/a", "labels": "x=y"}, VIRTUAL_IMAGE, "labels must be a mapping, got str"),
    ({"url": "https://h/a"}, VIRTUAL_IMAGE, "name is required"),
    ({"name": "a", "url": "https://h/a", "storage": "Local"}, VIRTUAL_IMAGE, "storage must be one of"),
    ({"name": "a", "url": "https://h/a", "checksum": {"crc32": "00"}}, VIRTUAL_IMAGE,
     "checksum.crc32 is not a known algorithm"),
    ({"name": "a", "from": {"kind": "VirtualImage", "name": "b", "uid": "x"}}, VIRTUAL_IMAGE,
     "from.uid is unknown; use kind, name, namespace"),
])
def test_an_entry_that_breaks_a_rule_is_named_by_its_field(raw, kind, message):
    with pytest.raises(ValidationError) as caught:
        check_catalog_entry(raw, kind)
    assert caught.value.msg.startswith(message)


@pytest.mark.parametrize("raw, version", [
    ({"name": "a", "url": "https://h/a"}, None),                                    # not a track
    ({"name": "a", "keep": 2, "version": "2024-05-rc1"}, "2024-05-rc1"),
    ({"name": "a", "keep": 2, "version": 12}, "12"),                                # YAML number: its text
    ({"name": "a", "keep": 1, "checksum": {"md5": "c" * 32, "sha512": "B" * 128}}, "b" * 12),  # sha512 before md5
])
def test_a_track_version_is_given_or_read_from_the_digest(raw, version):
    assert track_version(raw) == version


@pytest.mark.parametrize("raw, message", [
    ({"name": "a", "version": "1"}, "version needs keep"),
    ({"name": "a", "keep": 0, "version": "1"}, "keep must be at least 1"),
    ({"name": "a" * 64, "keep": 1, "version": "1"}, "name of a track (an entry with keep) must be at most 63"),
    ({"name": "a", "keep": 1}, "keep needs version, or a checksum"),
    ({"name": "a", "keep": 1, "version": "1.0_beta"}, "version '1.0_beta' is not a valid name part"),
])
def test_a_track_without_a_usable_version_is_refused(raw, message):
    with pytest.raises(ValidationError) as caught:
        track_version(raw)
    assert caught.value.msg.startswith(message)


def options(**kw):
    base = {"catalog": "base", "namespaces": ["a"], "fanout": "none", "wait_timeout": 10}
    base.update(kw)
    return base


def test_catalog_options_that_pass():
    validate_catalog_options(options(), VIRTUAL_IMAGE)
    validate_catalog_options(options(namespaces=None, fanout="cluster"), CLUSTER_VIRTUAL_IMAGE)


@pytest.mark.parametrize("params, kind, message", [
    (options(catalog="a" * 64), VIRTUAL_IMAGE, "catalog must be at most 63 characters"),
    (options(fanout="everywhere"), VIRTUAL_IMAGE, "fanout must be one of none, cluster"),
    (options(namespaces=[]), VIRTUAL_IMAGE, "namespaces must list at least one namespace"),
    (options(namespaces=["ok", "Bad_NS"]), VIRTUAL_IMAGE, "namespaces[1]"),
    (options(), CLUSTER_VIRTUAL_IMAGE, "namespaces do not apply to ClusterVirtualImages"),
    (options(wait_timeout=-1), VIRTUAL_IMAGE, "wait_timeout"),
])
def test_catalog_options_that_are_refused(params, kind, message):
    with pytest.raises(ValidationError) as caught:
        validate_catalog_options(params, kind)
    assert caught.value.msg.startswith(message)


def test_manifests_given_to_the_module_are_refused_with_the_fix():
    refuse_module_side_manifests({"manifests": [], "definitions": []})   # what the action plugin passes
    for definitions in ([], [{"origin": "a.yaml", "manifest": {}}]):
        with pytest.raises(ValidationError) as caught:
            refuse_module_side_manifests({"manifests": ["catalog/*.yaml"], "definitions": definitions})
        assert caught.value.msg.startswith("manifests reached the module unread")
        assert "deckhouse.virtualization.image_catalog_apply" in caught.value.msg
        assert "definitions" in caught.value.msg
