# -*- coding: utf-8 -*-
"""images/summary.py: an image flattened to one summary row, sizes in bytes included."""

from __future__ import annotations

from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.summary import summarize
from ansible_collections.deckhouse.virtualization.tests.unit.helpers.images import READY_IMAGE as READY


def test_summary_flattens():
    assert summarize(READY) == {
        "name": "b", "namespace": "ns", "kind": "VirtualImage", "phase": "Ready", "progress": "100%",
        "format": "qcow2", "cdrom": False, "stored_size": "285.3Mi", "unpacked_size": "2Gi",
        "registry_url": "dvcr/vi/ns/b:u", "pvc_name": None, "ready_reason": "Ready", "ready_message": "",
        "stored_size_bytes": 299158732, "unpacked_size_bytes": 2147483648, "track": None, "version": None,
        "newest": None, "sequence": None, "created": None}


def test_sizes_in_bytes_are_the_platforms_own_when_given():
    obj = {"status": {"size": {"stored": "285.3Mi", "storedBytes": "299159552", "unpacked": "2Gi"}}}
    assert (summarize(obj)["stored_size_bytes"], summarize(obj)["unpacked_size_bytes"]) == (299159552, 2147483648)
    assert summarize({"status": {}})["stored_size_bytes"] is None
