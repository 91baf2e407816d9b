# -*- coding: utf-8 -*-
"""disks/request.py: the manifests of a disk (blank or from a source) and of a snapshot, checked before any
request."""

from __future__ import annotations

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.request import (
    disk_request, snapshot_request,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.disk import (
    DiskOptions, SnapshotOptions,
)


def test_manifests():
    blank = disk_request(DiskOptions(name="d", namespace="ns", size="1Gi", storage_class="fast"))
    assert blank.manifest["spec"] == {"persistentVolumeClaim": {"size": "1Gi", "storageClassName": "fast"}}
    from_snapshot = {"kind": "VirtualDiskSnapshot", "name": "s"}
    ref = disk_request(DiskOptions(name="d", namespace="ns", source={"object_ref": from_snapshot}))
    assert ref.manifest["spec"] == {"dataSource": {"type": "ObjectRef", "objectRef": from_snapshot}}
    snap = snapshot_request(SnapshotOptions(name="s", namespace="ns", disk="d"))
    assert snap.manifest["spec"] == {"virtualDiskName": "d", "requiredConsistency": True}
    with pytest.raises(ValidationError, match="source must have exactly one of"):
        disk_request(DiskOptions(name="d", namespace="ns", source={"http": {"url": "https://x/y"},
                                                                   "object_ref": {"kind": "VirtualImage", "name": "a"}}))
