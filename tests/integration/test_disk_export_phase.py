"""virtual_disk on a disk whose volume is being exported (phase Exporting, set by the platform while the storage
module exports the volume): the wait goes on through it and, on a timeout, names the export; once the export ends a
re-run converges without a write.

Runs on both platform lines (DVP_SANDBOX_PLATFORM=v1.10 too): each line's request annotation is set."""
from __future__ import annotations

import os
from typing import Any

DISK = "deckhouse.virtualization.virtual_disk"
REQUEST_KEY = ("storage.deckhouse.io/data-export-request" if os.environ.get("DVP_SANDBOX_PLATFORM") == "v1.10"
               else "storage-foundation.deckhouse.io/data-export-request")
MERGE = "application/merge-patch+json"


def export(kube: Any, namespace: str, pvc: str, running: bool) -> None:
    """Start or end the storage module's export of a disk's volume, as the vd controller sees it."""
    pvcs = kube.k8s.resources.get(api_version="v1", kind="PersistentVolumeClaim")
    pvcs.status.patch(namespace=namespace, name=pvc, content_type=MERGE,
                      body={"status": {"phase": "Lost" if running else "Bound"}})
    pvcs.patch(namespace=namespace, name=pvc, content_type=MERGE,
               body={"metadata": {"annotations": {REQUEST_KEY: "true" if running else None}}})


def test_an_exporting_disk_is_waited_for_and_converges_once_the_export_ends(play, namespace, kube, admin_writes):
    ready = kube.make_disk(namespace, "data")
    pvc = ready["status"]["target"]["persistentVolumeClaimName"]
    export(kube, namespace, pvc, running=True)
    kube.poll_phase("VirtualDisk", "data", namespace, "Exporting")
    task = {"name": "data", "namespace": namespace, "size": "8Mi", "wait_timeout": 2}
    admin_writes.clear()
    waited = play([{DISK: task, "register": "waited", "ignore_errors": True}])["waited"]
    assert waited["failed"] is True and waited["msg"].startswith("timed out after 2s"), waited
    assert "last phase Exporting" in waited["msg"]
    assert "blocked: Ready False/Exporting: The VirtualDisk is being exported." in waited["msg"], waited["msg"]
    export(kube, namespace, pvc, running=False)
    kube.poll_phase("VirtualDisk", "data", namespace, "Ready")
    again = play([{DISK: dict(task, wait_timeout=60), "register": "again"}])["again"]
    assert again["changed"] is False and again["phase"] == "Ready", again
    assert admin_writes.real(namespace, "virtualdisks", "PATCH") == []
    assert admin_writes.real(namespace, "virtualdisks") == []
