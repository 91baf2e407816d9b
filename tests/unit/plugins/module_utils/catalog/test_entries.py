# -*- coding: utf-8 -*-
"""catalog/entries.py: catalog entries checked field by field, and the wanted objects they make (owner label, fan-out
hubs, manifests pinned to a namespace)."""

from __future__ import annotations

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.entries import (
    hub_name, parse_catalog, parse_entry, wanted_objects,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    CLUSTER_VIRTUAL_IMAGE, VIRTUAL_IMAGE,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.labels import CATALOG_LABEL, FANOUT_LABEL
from ansible_collections.deckhouse.virtualization.tests.unit.helpers.catalog import params, wanted


@pytest.mark.parametrize("entry, message", [
    ({"name": "x", "url": "https://h/a", "image": "r.example.com/a:1"},
     "image_catalog_images[0] (x): give exactly one of url, image, path, from, got url, image"),
    ({"name": "x"}, "image_catalog_images[0] (x): give exactly one of url, image, path, from, got none"),
    ({"name": "x", "url": "https://h/a", "colour": "red"}, "image_catalog_images[0] (x): unknown field colour"),
    ({"name": "x", "url": "https://h/a", "checksum": {"sha256": "ab"}},
     "image_catalog_images[0] (x): source.http.checksum.sha256 must be 64 hex characters (or the http(s) URL of a sums file), got 2"),
    ({"name": "x", "url": "https://h/a", "checksum": {"crc32": "ab"}},
     "image_catalog_images[0] (x): checksum.crc32 is not a known algorithm"),
    ({"name": "x", "image": "r.example.com/a:1", "checksum": {"md5": "a" * 32}},
     "image_catalog_images[0] (x): checksum cannot be used with image"),
    ({"name": "x.y", "url": "https://h/a"}, "'.' is forbidden"),
    ({"name": "x", "url": "https://h/a", "storage": "Disk"}, "storage must be one of"),
    ({"url": "https://h/a"}, "image_catalog_images[0]: name is required"),
    ({"name": "x", "from": {"kind": "VirtualImage"}}, "from must be an object reference"),
])
def test_entry_errors_name_the_entry_and_field(entry, message):
    with pytest.raises(ValidationError) as err:
        parse_catalog(params([{"name": "ok", "url": "https://h/ok"}] + [entry]), VIRTUAL_IMAGE)
    assert message.replace("[0]", "[1]") in err.value.msg


def test_duplicate_names_and_missing_namespaces_are_rejected():
    with pytest.raises(ValidationError, match=r"images\[1\] \(x\): the name x is already used by .*images\[0\]"):
        parse_catalog(params([{"name": "x", "url": "https://h/a"}, {"name": "x", "url": "https://h/b"}]),
                      VIRTUAL_IMAGE)
    with pytest.raises(ValidationError, match="namespaces must list at least one namespace"):
        parse_catalog(params([], namespaces=[]), VIRTUAL_IMAGE)


def test_cluster_entries_take_no_storage_and_a_secret_mapping():
    with pytest.raises(ValidationError, match="unknown field storage"):
        parse_entry(0, {"name": "x", "url": "https://h/a", "storage": "PersistentVolumeClaim"},
                    CLUSTER_VIRTUAL_IMAGE, "base")
    entry = parse_entry(0, {"name": "x", "image": "r.example.com/a:1",
                            "image_pull_secret": {"name": "pull", "namespace": "ns"}}, CLUSTER_VIRTUAL_IMAGE, "base")
    assert entry.options.source["container_image"]["image_pull_secret"] == {"name": "pull", "namespace": "ns"}


def test_every_namespace_gets_every_entry_with_the_owner_label():
    objs = wanted([{"name": "d", "url": "https://h/d.qcow2", "labels": {"os": "x"}}])
    assert [(w.namespace, w.manifest["metadata"]["name"]) for w in objs] == [("a", "d"), ("b", "d")]
    manifest = objs[1].manifest
    assert manifest["metadata"] == {"name": "d", "namespace": "b", "labels": {"os": "x", CATALOG_LABEL: "base"}}
    assert manifest["spec"] == {"storage": "ContainerRegistry",
                                "dataSource": {"type": "HTTP", "http": {"url": "https://h/d.qcow2"}}}


def test_fanout_shares_one_hub_per_distinct_source():
    objs = wanted([{"name": "d", "url": "https://h/d"}, {"name": "same", "url": "https://h/d"},
                   {"name": "other", "url": "https://h/o"}, {"name": "copy", "from": {"kind": "VirtualImage",
                                                                                      "name": "d"}}],
                  fanout="cluster")
    hubs = [w for w in objs if w.kind is CLUSTER_VIRTUAL_IMAGE]
    assert len(hubs) == 2
    assert hubs[0].manifest["metadata"] == {"name": hub_name("base", {"type": "HTTP", "http": {"url": "https://h/d"}}),
                                            "labels": {FANOUT_LABEL: "base"}}
    images = {(w.namespace, w.manifest["metadata"]["name"]): w for w in objs if w.kind is VIRTUAL_IMAGE}
    assert images[("b", "same")].manifest["spec"]["dataSource"] == {
        "type": "ObjectRef", "objectRef": {"kind": "ClusterVirtualImage", "name": hubs[0].manifest["metadata"]["name"]}}
    assert images[("a", "copy")].hub is None  # in-namespace copies are not fanned out
    assert hub_name("base", {"type": "HTTP", "http": {"url": "https://h/d"}}) == hubs[0].manifest["metadata"]["name"]


def test_manifest_pinned_to_a_namespace_goes_only_there():
    manifest = {"apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualImage",
                "metadata": {"name": "m", "namespace": "b"},
                "spec": {"dataSource": {"type": "HTTP", "http": {"url": "https://h/m"}}}}
    entries = parse_catalog(params([], definitions=[{"origin": "m.yaml", "manifest": manifest}]), VIRTUAL_IMAGE)
    objs = wanted_objects(entries, VIRTUAL_IMAGE, ["a", "b"], "base", "none")
    assert [(w.namespace, w.manifest["metadata"]["labels"]) for w in objs] == [("b", {CATALOG_LABEL: "base"})]
