"""VirtualDiskSnapshots as the platform's vdsnapshot controller shows them (freeze, consistency, failures),
and images made from snapshots and from disks (the InUse rules)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _controller_support import (GROUP, Api, Recorder, api, cond, cvi, seeded, unique, vi, vis)  # noqa: F401


def vd(ns: str, name: str, size: str = "8Mi") -> dict:
    return {"apiVersion": GROUP, "kind": "VirtualDisk", "metadata": {"name": name, "namespace": ns},
            "spec": {"persistentVolumeClaim": {"size": size}}}


def vm(ns: str, name: str, disk: str, agent: bool = True) -> dict:
    md: dict = {"name": name, "namespace": ns}
    if not agent:
        md["annotations"] = {"sandbox.deckhouse.io/guest-agent": "false"}
    return {"apiVersion": GROUP, "kind": "VirtualMachine", "metadata": md,
            "spec": {"virtualMachineClassName": "generic", "runPolicy": "AlwaysOnUnlessStoppedManually",
                     "cpu": {"cores": 1}, "memory": {"size": "1Gi"},
                     "blockDeviceRefs": [{"kind": "VirtualDisk", "name": disk}]}}


def snap(ns: str, name: str, disk: str, required: bool | None = None, annotations: dict | None = None) -> dict:
    spec: dict = {"virtualDiskName": disk}
    if required is not None:
        spec["requiredConsistency"] = required
    md: dict = {"name": name, "namespace": ns}
    if annotations:
        md["annotations"] = annotations
    return {"apiVersion": GROUP, "kind": "VirtualDiskSnapshot", "metadata": md, "spec": spec}


def ready_of(obj: dict) -> tuple[str, str, str]:
    c = cond(obj, "VirtualDiskSnapshotReady") or {}
    return c.get("status", ""), c.get("reason", ""), c.get("message", "")


@pytest.fixture
def recs(api: Api, namespace: str):
    out = {k: Recorder(api, k, namespace) for k in ("VirtualDisk", "VirtualDiskSnapshot", "VirtualMachine")}
    yield out
    for r in out.values():
        r.stop()


def _volume(sandbox: Any, disk: dict) -> Path:
    pvc = disk["status"]["target"]["persistentVolumeClaimName"]
    return sandbox.state_dir / "controller" / "volumes" / disk["metadata"]["namespace"] / f"{pvc}.img"


def test_snapshot_of_a_free_disk_captures_its_bytes(sandbox: Any, api: Api, namespace: str, recs: dict,
                                                    vis: Recorder) -> None:
    vds, snaps = recs["VirtualDisk"], recs["VirtualDiskSnapshot"]
    api.create(vd(namespace, "data"))
    disk = vds.wait_phase("data", "Ready", 30)
    marker = b"golden bytes of the disk" * 100
    with open(_volume(sandbox, disk), "r+b") as f:
        f.write(marker)
    api.create(snap(namespace, "s1", "data"))
    s1 = snaps.wait_phase("s1", "Ready", 30)
    assert s1["status"]["consistent"] is True
    assert s1["status"]["volumeSnapshotName"] == f"d8v-vds-s1-{s1['metadata']['uid']}"
    assert ready_of(s1) == ("True", "VirtualDiskSnapshotReady", "")
    assert cond(s1, "VirtualDiskReady")["reason"] == "VirtualDiskReady"
    assert cond(s1, "Ready") is None
    assert s1["metadata"]["finalizers"] == ["virtualization.deckhouse.io/vdsnapshot-cleanup"]
    phases = [h["status"].get("phase") for h in snaps.history("s1") if h.get("status")]
    # the platform sets Pending and moves on to InProgress in the same reconcile: only the latter is seen
    assert phases.index("InProgress") < phases.index("Ready") and set(phases) <= {"Pending", "InProgress", "Ready"}
    msgs = [ready_of(h)[2] for h in snaps.history("s1") if h.get("status")]
    assert "The snapshotting process has started." in msgs
    assert 'The snapshotting process for virtual disk "data" has started.' in msgs
    assert "The consistent snapshot has been taken." in msgs
    # the disk said it was being snapshotted
    assert any((cond(h, "Snapshotting") or {}).get("reason") == "Snapshotting" for h in vds.history("data"))
    # later writes to the disk do not reach the snapshot: a disk and an image from it hold the old bytes
    with open(_volume(sandbox, disk), "r+b") as f:
        f.write(b"changed afterwards!!")
    api.create({**vd(namespace, "restored"), "spec": {"persistentVolumeClaim": {"size": "8Mi"}, "dataSource": {
        "type": "ObjectRef", "objectRef": {"kind": "VirtualDiskSnapshot", "name": "s1"}}}})
    restored = vds.wait_phase("restored", "Ready", 30)
    assert restored["status"]["sourceUID"] == s1["metadata"]["uid"] and restored["status"]["capacity"] == "8Mi"
    assert _volume(sandbox, restored).read_bytes()[:len(marker)] == marker
    api.create(vi(namespace, "img", {"type": "ObjectRef", "objectRef": {"kind": "VirtualDiskSnapshot", "name": "s1"}},
                  storage="PersistentVolumeClaim"))
    img = vis.wait_phase("img", "Ready", 60)
    vol = sandbox.state_dir / "controller" / "volumes" / namespace / f"{img['status']['target']['persistentVolumeClaimName']}.img"
    assert vol.read_bytes()[:len(marker)] == marker


def test_snapshot_of_a_running_vm_freezes_it(sandbox: Any, api: Api, namespace: str, recs: dict,
                                            vis: Recorder) -> None:
    vds, snaps, vms = recs["VirtualDisk"], recs["VirtualDiskSnapshot"], recs["VirtualMachine"]
    api.create(vd(namespace, "root"))
    api.create(vm(namespace, "vm", "root"))
    running = vms.wait("vm", lambda o: (cond(o, "AgentReady") or {}).get("status") == "True", 60)
    assert running["status"]["phase"] == "Running" and cond(running, "AgentReady")["reason"] == "AgentReady"
    vds.wait("root", lambda o: (o.get("status") or {}).get("attachedToVirtualMachines"), 30)
    # an image straight from the disk of a running VM waits for it to stop
    api.create(vi(namespace, "direct", {"type": "ObjectRef", "objectRef": {"kind": "VirtualDisk", "name": "root"}}))
    vis.wait("direct", lambda o: (cond(o, "DatasourceReady") or {}).get("reason")
             == "VirtualDiskAttachedToVirtualMachine", 30)
    # a snapshot works while it runs: the filesystem is frozen, then thawed
    api.create(snap(namespace, "live", "root"))
    live = snaps.wait_phase("live", "Ready", 30)
    assert live["status"]["consistent"] is True
    msgs = [ready_of(h)[2] for h in snaps.history("live") if h.get("status")]
    assert ('The virtual machine "vm" with an attached virtual disk "root" is in the process of being frozen for '
            "taking a snapshot.") in msgs
    frozen = [cond(h, "FilesystemFrozen") for h in vms.history("vm") if cond(h, "FilesystemFrozen")]
    assert frozen and (frozen[0]["reason"], frozen[0]["message"]) == ("Frozen",
                                                                      "File system of the Virtual Machine is frozen.")
    vms.wait("vm", lambda o: cond(o, "FilesystemFrozen") is None, 10)
    assert vms.last("vm")["status"]["phase"] == "Running"
    api.create(vi(namespace, "fromsnap", {"type": "ObjectRef", "objectRef": {"kind": "VirtualDiskSnapshot",
                                                                              "name": "live"}}))
    cname = unique("cvi")
    try:
        api.create(cvi(cname, {"type": "ObjectRef", "objectRef": {"kind": "VirtualDiskSnapshot", "name": "live",
                                                                  "namespace": namespace}}))
        vis.wait_phase("fromsnap", "Ready", 60)
        cvis = Recorder(api, "ClusterVirtualImage", None)
        try:
            cvis.wait_phase(cname, "Ready", 60)
        finally:
            cvis.stop()
    finally:
        api.delete("ClusterVirtualImage", None, cname)
    assert vms.last("vm")["status"]["phase"] == "Running"
    assert vis.last("direct")["status"]["phase"] == "Pending"


def test_inconsistent_snapshots(sandbox: Any, api: Api, namespace: str, recs: dict) -> None:
    vds, snaps, vms = recs["VirtualDisk"], recs["VirtualDiskSnapshot"], recs["VirtualMachine"]
    api.create(vd(namespace, "root"))
    api.create(vm(namespace, "noagent", "root", agent=False))
    obj = vms.wait("noagent", lambda o: (cond(o, "AgentReady") or {}).get("status") == "False", 60)
    assert cond(obj, "AgentReady")["message"] == ("The guest agent is not responding. Make sure the guest agent is "
                                                  "installed and running in the guest OS.")
    vds.wait("root", lambda o: (o.get("status") or {}).get("attachedToVirtualMachines"), 30)
    api.create(snap(namespace, "strict", "root"))
    failed = snaps.wait_phase("strict", "Failed", 30)
    assert ready_of(failed) == ("False", "PotentiallyInconsistent",
                                'Cannot take a consistent snapshot of virtual disk "root" attached to virtual machine '
                                '"noagent": virtual machine agent is not ready and the virtual machine cannot be frozen.')
    api.create(snap(namespace, "loose", "root", required=False))
    loose = snaps.wait_phase("loose", "Ready", 30)
    assert "consistent" not in loose["status"]

    api.create(snap(namespace, "boom", "root", required=False,
                    annotations={"sandbox.deckhouse.io/snapshot-error": "the CSI driver exploded"}))
    boom = snaps.wait_phase("boom", "Failed", 30)
    assert ready_of(boom) == ("False", "VirtualDiskSnapshotFailed",
                              f'VolumeSnapshot "d8v-vds-boom-{boom["metadata"]["uid"]}" has an error: '
                              "the CSI driver exploded.")
    api.create(snap(namespace, "nodisk", "missing"))
    nodisk = snaps.wait_phase("nodisk", "Failed", 30)
    assert ready_of(nodisk) == ("False", "WaitingForTheVirtualDisk",
                                'Cannot take a snapshot: the virtual disk "missing" does not exist.')
    assert cond(nodisk, "VirtualDiskReady")["message"] == 'The virtual disk "missing" was not found.'


def test_image_from_a_disk_holds_it(sandbox: Any, api: Api, namespace: str, recs: dict, vis: Recorder) -> None:
    vds = recs["VirtualDisk"]
    api.create(vd(namespace, "src"))
    vds.wait_phase("src", "Ready", 30)
    slow = {"sandbox.deckhouse.io/import-rate": str(2 * 1024 * 1024)}   # 8 MiB: ~4 s
    api.create(vi(namespace, "golden", {"type": "ObjectRef", "objectRef": {"kind": "VirtualDisk", "name": "src"}},
                  annotations=slow))
    held = vds.wait("src", lambda o: (cond(o, "InUse") or {}).get("reason") == "UsedForImageCreation", 30)
    assert cond(held, "InUse")["message"] == ('The VirtualDisk is in use for creating the VirtualImage "golden"; '
                                              "the creation must finish to release the disk.")
    # the disk can be deleted meanwhile: no protection for images, the image still gets the data
    api.delete("VirtualDisk", namespace, "src")
    vds.wait_gone("src", 30)
    assert vis.wait_phase("golden", "Ready", 60)["status"]["size"]["unpackedBytes"] == str(8 * 2**20)
