# -*- coding: utf-8 -*-
"""disks/snapshot.py: a Failed snapshot is terminal on the platform, so it is refused before any write naming
``recreate: true``, or (with it, and always for a capture's own snapshot) deleted and taken anew."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ObjectFailed
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.request import snapshot_request
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.snapshot import SnapshotRunner
from ansible_collections.deckhouse.virtualization.plugins.module_utils.machines.capture import CaptureRequest
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.disk import SnapshotOptions
from ansible_collections.deckhouse.virtualization.tests.unit.helpers.clients import ObjectsClient

SNAPSHOTS = "/apis/virtualization.deckhouse.io/v1alpha2/namespaces/ns/virtualdisksnapshots"
INCONSISTENT = ('Cannot take a consistent snapshot of virtual disk "root" attached to virtual machine "web": virtual '
                'machine agent is not ready and the virtual machine cannot be frozen.')


def failed_snapshot(name: str = "s") -> Dict[str, Any]:
    """A snapshot of disk ns/root the platform failed as PotentiallyInconsistent."""
    return {"apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualDiskSnapshot",
            "metadata": {"name": name, "namespace": "ns", "generation": 1, "resourceVersion": "7"},
            "spec": {"virtualDiskName": "root", "requiredConsistency": True},
            "status": {"phase": "Failed", "observedGeneration": 1, "conditions": [
                {"type": "VirtualDiskSnapshotReady", "status": "False", "reason": "PotentiallyInconsistent",
                 "message": INCONSISTENT, "observedGeneration": 1}]}}


def run(client: ObjectsClient, **options: Any) -> Dict[str, Any]:
    request = snapshot_request(SnapshotOptions(**dict({"name": "s", "namespace": "ns", "disk": "root"}, **options)))
    return SnapshotRunner(client, request, Tracker(request.ref)).run()


def test_a_failed_snapshot_is_refused_before_any_write_naming_recreate():
    client = ObjectsClient({("virtualdisksnapshots", "s"): failed_snapshot(), ("virtualdisks", "root"): {}})
    with pytest.raises(ObjectFailed) as err:
        run(client, labels={"why": "upgrade"})
    assert err.value.msg == ("VirtualDiskSnapshot ns/s is Failed (PotentiallyInconsistent: %s); the platform never "
                             "retries a snapshot: set recreate: true to delete it and take it anew (or delete it: "
                             "state: absent)" % INCONSISTENT)
    assert err.value.details["snapshot"]["status"]["phase"] == "Failed" and client.writes == []


def test_with_recreate_a_failed_snapshot_is_deleted_and_taken_anew_in_check_mode_as_dry_runs(monkeypatch):
    from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects import runner
    warned = []
    monkeypatch.setattr(runner, "warn", warned.append)
    client = ObjectsClient({("virtualdisksnapshots", "s"): failed_snapshot(), ("virtualdisks", "root"): {}},
                           check_mode=True)
    result = run(client, recreate=True)
    assert client.writes == [("DELETE", SNAPSHOTS + "/s")]   # check mode stops after the dry-run delete
    assert result["changed"] is True
    assert warned == ["VirtualDiskSnapshot ns/s: made anew: it is Failed (PotentiallyInconsistent: %s) and the "
                      "platform never retries a snapshot" % INCONSISTENT]


def test_recreate_leaves_a_snapshot_that_is_not_failed_alone():
    ready = failed_snapshot()
    ready["status"] = {"phase": "Ready", "observedGeneration": 1}
    client = ObjectsClient({("virtualdisksnapshots", "s"): ready, ("virtualdisks", "root"): {}})
    result = run(client, recreate=True, wait=False)
    assert result["changed"] is False and client.writes == []


def test_the_snapshot_a_capture_owns_is_taken_anew_when_failed():
    request = CaptureRequest.from_params({"namespace": "ns", "disk": "root", "name": "img", "method": "snapshot",
                                          "wait_timeout": 5})
    assert request.snapshot is not None and request.snapshot.retake_failed is True
    client = ObjectsClient({("virtualdisksnapshots", "img-capture"): failed_snapshot("img-capture"),
                            ("virtualdisks", "root"): {}}, check_mode=True)
    SnapshotRunner(client, request.snapshot, Tracker(request.snapshot.ref)).run()
    assert client.writes == [("DELETE", SNAPSHOTS + "/img-capture")]
