# -*- coding: utf-8 -*-
"""The info library: summaries, filters, order, and an absent API as an error."""

from __future__ import annotations

import json

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client, HttpResponse
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ApiError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.info import list_images
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.summary import summarize

READY = {"kind": "VirtualImage", "metadata": {"name": "b", "namespace": "ns"},
         "status": {"phase": "Ready", "progress": "100%", "format": "qcow2", "cdrom": False,
                    "size": {"stored": "285.3Mi", "unpacked": "2Gi"}, "target": {"registryURL": "dvcr/vi/ns/b:u"},
                    "conditions": [{"type": "Ready", "status": "True", "reason": "Ready", "message": ""}]}}
PENDING = {"metadata": {"name": "a", "namespace": "ns"}, "status": {"phase": "Pending"}}


def transport(status, body, seen=None):
    def send(method, path, query, headers, payload, stream, timeout):
        if seen is not None:
            seen.append((path, query))
        return HttpResponse(status, {}, json.dumps(body).encode())
    return send


def test_summary_flattens():
    assert summarize(READY) == {
        "name": "b", "namespace": "ns", "kind": "VirtualImage", "phase": "Ready", "progress": "100%",
        "format": "qcow2", "cdrom": False, "stored_size": "285.3Mi", "unpacked_size": "2Gi",
        "registry_url": "dvcr/vi/ns/b:u", "pvc_name": None, "ready_reason": "Ready", "ready_message": ""}


def test_list_sorts_filters_and_sends_selectors():
    seen = []
    client = Client(transport(200, {"items": [READY, PENDING], "metadata": {}}, seen))
    result = list_images(client, {"namespace": "ns", "name": "b", "label_selectors": ["a=b", "c"],
                                  "phase": ["Ready"]})
    assert [s["name"] for s in result["summary"]] == ["b"]
    path, query = seen[0]
    assert path.endswith("/namespaces/ns/virtualimages")
    assert ("labelSelector", "a=b,c") in query and ("fieldSelector", "metadata.name=b") in query
    both = list_images(client, {"namespace": "ns"})
    assert [i["metadata"]["name"] for i in both["images"]] == ["a", "b"]


def test_missing_api_is_an_error_not_empty():
    client = Client(transport(404, {"kind": "Status", "reason": "NotFound", "message": "the server could not find"}))
    with pytest.raises(ApiError, match="is not served by this cluster"):
        list_images(client, {"cluster": True})


def test_empty_namespace_is_empty_lists():
    assert list_images(Client(transport(200, {"items": []})), {"namespace": "x"}) == {"images": [], "summary": []}
