# -*- coding: utf-8 -*-
"""images/info.py: image lists filtered, ordered and with what uses each image; an absent API is an error."""

from __future__ import annotations

import json

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client, HttpResponse
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ApiError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.labels import (
    CATALOG_LABEL, NEWEST_LABEL, SEQUENCE_ANNOTATION, TRACK_LABEL, VERSION_LABEL,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.info import list_images
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.info import image_query
from ansible_collections.deckhouse.virtualization.tests.unit.helpers.images import READY_IMAGE as READY

PENDING = {"metadata": {"name": "a", "namespace": "ns"}, "status": {"phase": "Pending"}}


def transport(status, body, seen=None):
    def send(method, path, query, headers, payload, stream, timeout):
        if seen is not None:
            seen.append((path, query))
        return HttpResponse(status, {}, json.dumps(body).encode())
    return send


def version(name, number, newest):
    labels = {TRACK_LABEL: "noble", VERSION_LABEL: name[6:]}
    if newest:
        labels[NEWEST_LABEL] = "true"
    return {"metadata": {"name": name, "namespace": "ns", "labels": labels,
                         "annotations": {SEQUENCE_ANNOTATION: str(number)}}, "status": {"phase": "Ready"}}


def test_a_track_gives_its_newest_version_and_what_uses_each():
    images = [version("noble-v3", 3, True), version("noble-v1", 1, False), version("noble-v2", 2, True)]
    disk = {"metadata": {"name": "root", "namespace": "ns"},
            "spec": {"dataSource": {"type": "ObjectRef", "objectRef": {"kind": "VirtualImage", "name": "noble-v1"}}}}
    vm = {"metadata": {"name": "web", "namespace": "ns"}, "spec": {"blockDeviceRefs": [{"kind": "VirtualDisk",
                                                                                        "name": "root"}]},
          "status": {"blockDeviceRefs": [{"kind": "VirtualImage", "name": "noble-v3", "hotplugged": True}]}}
    bodies = {"virtualimages": images, "virtualdisks": [disk], "virtualmachines": [vm]}
    seen = []

    def send(method, path, query, headers, payload, stream, timeout):
        seen.append((path, query))
        return HttpResponse(200, {}, json.dumps({"items": bodies.get(path.rsplit("/", 1)[1], [])}).encode())

    result = list_images(Client(send), image_query({"namespace": "ns", "track": "noble", "catalog": "gold"}))
    assert ("labelSelector", "%s=noble,%s=gold" % (TRACK_LABEL, CATALOG_LABEL)) in seen[0][1]
    assert result["newest"]["name"] == "noble-v3"        # two carry the label (a run was stopped): the later one
    assert [row["name"] for row in result["summary"]] == ["noble-v1", "noble-v2", "noble-v3"]   # oldest first
    assert [row["sequence"] for row in result["summary"]] == [1, 2, 3]
    assert [obj["metadata"]["name"] for obj in result["images"]] == ["noble-v1", "noble-v2", "noble-v3"]
    rows = {row["name"]: row for row in result["summary"]}
    assert rows["noble-v1"]["used_by"] == ["VirtualDisk ns/root"] and rows["noble-v1"]["in_use"] is True
    assert rows["noble-v3"]["used_by"] == ["VirtualMachine ns/web"]
    assert rows["noble-v2"]["in_use"] is False and rows["noble-v2"]["used_in_namespaces"] is None
    assert (rows["noble-v2"]["track"], rows["noble-v2"]["version"], rows["noble-v2"]["newest"]) == ("noble", "v2", True)
    assert [path.rsplit("/", 1)[1] for path, _query in seen] == [   # each list once, whatever the number of images
        "virtualimages", "virtualdisks", "virtualimages", "virtualmachines", "virtualmachineblockdeviceattachments"]
    assert rows["noble-v1"]["disks"] == ["VirtualDisk ns/root"]


def test_list_sorts_filters_and_sends_selectors():
    seen = []
    client = Client(transport(200, {"items": [READY, PENDING], "metadata": {}}, seen))
    result = list_images(client, image_query({"namespace": "ns", "name": "b", "label_selectors": ["a=b", "c"],
                                              "phase": ["Ready"]}))
    assert [s["name"] for s in result["summary"]] == ["b"]
    path, query = seen[0]
    assert path.endswith("/namespaces/ns/virtualimages")
    assert ("labelSelector", "a=b,c") in query and ("fieldSelector", "metadata.name=b") in query
    both = list_images(client, image_query({"namespace": "ns"}))
    assert [i["metadata"]["name"] for i in both["images"]] == ["a", "b"]


def test_missing_api_is_an_error_not_empty():
    client = Client(transport(404, {"kind": "Status", "reason": "NotFound", "message": "the server could not find"}))
    with pytest.raises(ApiError, match="is not served by this cluster"):
        list_images(client, image_query({"cluster": True}))


def test_empty_namespace_is_empty_lists():
    found = list_images(Client(transport(200, {"items": []})), image_query({"namespace": "x"}))
    assert found == {"images": [], "summary": []}
