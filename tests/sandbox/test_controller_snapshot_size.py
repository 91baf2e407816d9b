"""A disk restored from a snapshot with a size below the snapshot's restore size, per platform line
(`vd/internal/source/step/create_pvc_from_vdsnapshot_step.go`): main grows the PVC to the restore size;
v1.10.2 validates the size as GetValidatedPVCSize does and fails the disk before any PVC is made.

The session sandbox serves DVP_SANDBOX_PLATFORM's line: run this file on both lines.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest
from _controller_support import GROUP, Api, Recorder, api, cond  # noqa: F401

from sandbox.api.admission.quantity import Quantity


def vd(ns: str, name: str, size: str, snapshot: str | None = None) -> dict:
    spec: dict = {"persistentVolumeClaim": {"size": size}}
    if snapshot:
        spec["dataSource"] = {"type": "ObjectRef", "objectRef": {"kind": "VirtualDiskSnapshot", "name": snapshot}}
    return {"apiVersion": GROUP, "kind": "VirtualDisk", "metadata": {"name": name, "namespace": ns}, "spec": spec}


@pytest.fixture
def vds(api: Api, namespace: str) -> Iterator[Recorder]:
    rec = Recorder(api, "VirtualDisk", namespace)
    yield rec
    rec.stop()


@pytest.fixture
def snapshot(api: Api, namespace: str, vds: Recorder) -> str:
    """A Ready snapshot of an 8Mi disk (its restore size is 8Mi)."""
    api.create(vd(namespace, "origin", "8Mi"))
    vds.wait_phase("origin", "Ready", 30)
    api.create({"apiVersion": GROUP, "kind": "VirtualDiskSnapshot", "metadata": {"name": "snap", "namespace": namespace},
                "spec": {"virtualDiskName": "origin", "requiredConsistency": False}})
    snaps = Recorder(api, "VirtualDiskSnapshot", namespace)
    try:
        snaps.wait_phase("snap", "Ready", 30)
    finally:
        snaps.stop()
    return "snap"


def test_a_disk_smaller_than_its_snapshot(sandbox: Any, api: Api, namespace: str, vds: Recorder,
                                          snapshot: str) -> None:
    api.create(vd(namespace, "small", "4Mi", snapshot))
    if sandbox.platform == "v1.10":
        failed = vds.wait_phase("small", "Failed", 30)
        ready = cond(failed, "Ready")
        error = "the specified pvc size is insufficient: 4194304 (4Mi) < 8388608"
        assert (ready["status"], ready["reason"], ready["message"]) == (
            "False", "ProvisioningFailed", "The specified pvc size is insufficient: 4194304 (4Mi) < 8388608.")
        assert (failed["status"].get("target") or {}).get("persistentVolumeClaimName") is None
        claims = api.req("GET", api.path("PersistentVolumeClaim", namespace))["items"]
        assert [c["metadata"]["name"] for c in claims if "small" in c["metadata"]["name"]] == []
        warnings = [(e["type"], e["reason"], e["message"]) for e in api.events(namespace)
                    if e["involvedObject"]["name"] == "small"]
        assert ("Warning", "DataSourceSyncFailed", error) in warnings
    else:
        grown = vds.wait_phase("small", "Ready", 30)
        assert Quantity(grown["status"]["capacity"]) == Quantity("8Mi")
    api.create(vd(namespace, "enough", "8Mi", snapshot))
    assert vds.wait_phase("enough", "Ready", 30)["status"]["capacity"] == "8Mi"
