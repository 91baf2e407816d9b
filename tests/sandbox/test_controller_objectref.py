"""ObjectRef sources and the VM/VD/VMOP emulation that disk capture needs."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from _controller_support import (GROUP, Api, Recorder, api, check_progress, cond, cvi, dvcr_layer_files,  # noqa: F401
                                 http_source, phase_of, seeded, unique, vi, vis)


def _ref(kind: str, name: str, ns: str | None = None) -> dict:
    ref = {"kind": kind, "name": name}
    if ns:
        ref["namespace"] = ns
    return {"type": "ObjectRef", "objectRef": ref}


def _vd(ns: str, name: str, source: dict | None = None, size: str = "8Mi") -> dict:
    spec: dict = {"persistentVolumeClaim": {"size": size}}
    if source:
        spec["dataSource"] = source
    return {"apiVersion": GROUP, "kind": "VirtualDisk", "metadata": {"name": name, "namespace": ns}, "spec": spec}


def _vm(ns: str, name: str, disks: list[tuple[str, str]], policy: str = "AlwaysOnUnlessStoppedManually") -> dict:
    return {"apiVersion": GROUP, "kind": "VirtualMachine", "metadata": {"name": name, "namespace": ns},
            "spec": {"virtualMachineClassName": "generic", "runPolicy": policy,
                     "cpu": {"cores": 1}, "memory": {"size": "1Gi"},
                     "blockDeviceRefs": [{"kind": k, "name": n} for k, n in disks]}}


def _vmop(ns: str, name: str, vm: str, typ: str) -> dict:
    return {"apiVersion": GROUP, "kind": "VirtualMachineOperation", "metadata": {"name": name, "namespace": ns},
            "spec": {"type": typ, "virtualMachineName": vm}}


def _blocked(vis: Recorder, name: str, reason: str, message: str) -> dict:
    obj = vis.wait(name, lambda o: (cond(o, "DatasourceReady") or {}).get("reason") == reason, 30, reason)
    assert obj["status"]["phase"] == "Pending" and "progress" not in obj["status"]
    assert cond(obj, "DatasourceReady")["message"] == message
    assert cond(obj, "Ready")["reason"] == "DatasourceNotReady"
    return obj


def test_copies_from_images_jump_to_100_and_wait_for_their_source(
        sandbox: Any, api: Api, namespace: str, vis: Recorder, seeded: Path, tmp_path: Path) -> None:
    http = sandbox.components["fileserver"]["http_url"]
    cname = unique("cvi")
    cvis = Recorder(api, "ClusterVirtualImage", None)
    try:
        api.create(vi(namespace, "copy", _ref("VirtualImage", "base")))        # source does not exist yet
        _blocked(vis, "copy", "ImageNotReady", "VirtualImage base not ready.")
        api.create(vi(namespace, "fromcvi", _ref("ClusterVirtualImage", cname)))
        _blocked(vis, "fromcvi", "ClusterImageNotReady", f"ClusterVirtualImage {cname} not ready.")
        api.create(vi(namespace, "base", http_source(f"{http}/disk.qcow2")))
        base = vis.wait_phase("base", "Ready", 60)
        copy = vis.wait_phase("copy", "Ready", 60)
        assert copy["status"]["sourceUID"] == base["metadata"]["uid"]
        assert copy["status"]["size"] == base["status"]["size"] and copy["status"]["format"] == "qcow2"
        assert check_progress(vis.history("copy")) == ["0%", "100%"]
        assert dvcr_layer_files(sandbox, copy["status"]["target"]["registryURL"], tmp_path) == \
            dvcr_layer_files(sandbox, base["status"]["target"]["registryURL"], tmp_path)
        api.create(cvi(cname, _ref("VirtualImage", "base", namespace)))
        c = cvis.wait_phase(cname, "Ready", 60)
        assert c["status"]["target"]["registryURL"].endswith(f"/cvi/{cname}:{c['metadata']['uid']}")
        assert c["metadata"]["finalizers"] == ["virtualization.deckhouse.io/cvi-cleanup"]
        assert vis.wait_phase("fromcvi", "Ready", 60)["status"]["sourceUID"] == c["metadata"]["uid"]
        check_progress(cvis.history(cname))
    finally:
        cvis.stop()
        api.delete("ClusterVirtualImage", None, cname)


def test_disk_capture_waits_for_the_vm_to_stop(sandbox: Any, api: Api, namespace: str, vis: Recorder,
                                               seeded: Path) -> None:
    http = sandbox.components["fileserver"]["http_url"]
    vms = Recorder(api, "VirtualMachine", namespace)
    vds = Recorder(api, "VirtualDisk", namespace)
    ops = Recorder(api, "VirtualMachineOperation", namespace)
    try:
        api.create(vi(namespace, "base", http_source(f"{http}/disk.qcow2")))
        api.create(_vd(namespace, "root", _ref("VirtualImage", "base")))
        api.create(_vm(namespace, "vm", [("VirtualDisk", "root")]))
        vm = vms.wait_phase("vm", "Running", 60)
        assert vm["status"]["blockDeviceRefs"][0]["kind"] == "VirtualDisk"
        phases = [h["status"]["phase"] for h in vms.history("vm") if h.get("status")]
        assert "Starting" in phases
        vd = vds.wait("root", lambda o: (o.get("status") or {}).get("attachedToVirtualMachines"), 30)
        assert vd["status"]["phase"] == "Ready"
        assert vd["status"]["attachedToVirtualMachines"] == [{"name": "vm", "mounted": True}]
        assert cond(vd, "InUse")["reason"] == "AttachedToVirtualMachine"

        slow = {"sandbox.deckhouse.io/import-rate": str(3 * 1024 * 1024)}   # 8 MiB disk: ~3 s
        api.create(vi(namespace, "capture", _ref("VirtualDisk", "root"), annotations=slow))
        _blocked(vis, "capture", "VirtualDiskAttachedToVirtualMachine", "The VirtualDisk root attached to VirtualMachine.")
        api.create(_vmop(namespace, "stop", "vm", "Stop"))
        op = ops.wait_phase("stop", "Completed", 30)
        assert cond(op, "Completed")["status"] == "True"
        assert "Stopping" in [h["status"]["phase"] for h in vms.history("vm") if h.get("status")]
        vms.wait_phase("vm", "Stopped", 10)
        # while the image is being made the disk says so, and the VM cannot start
        vds.wait("root", lambda o: (cond(o, "InUse") or {}).get("reason") == "UsedForImageCreation", 30)
        api.create(_vmop(namespace, "early", "vm", "Start"))
        ops.wait_phase("early", "InProgress", 30)
        if phase_of(vis.last("capture")) == "Provisioning":
            assert phase_of(vms.last("vm")) == "Stopped"
        captured = vis.wait_phase("capture", "Ready", 60)
        ops.wait_phase("early", "Completed", 30)
        api.create(_vmop(namespace, "halt", "vm", "Stop"))
        ops.wait_phase("halt", "Completed", 30)
        assert captured["status"]["format"] == "raw"            # a disk's volume holds raw data
        assert captured["status"]["sourceUID"] == vd["metadata"]["uid"]

        # a snapshot of the disk is a source too
        api.create({"apiVersion": GROUP, "kind": "VirtualDiskSnapshot",
                    "metadata": {"name": "snap", "namespace": namespace}, "spec": {"virtualDiskName": "root"}})
        api.create(vi(namespace, "fromsnap", _ref("VirtualDiskSnapshot", "snap")))
        assert vis.wait_phase("fromsnap", "Ready", 60)["status"]["size"]["unpackedBytes"] == \
            captured["status"]["size"]["unpackedBytes"]
        api.create(_vmop(namespace, "start", "vm", "Start"))
        ops.wait_phase("start", "Completed", 30)
        vms.wait_phase("vm", "Running", 10)
    finally:
        for r in (vms, vds, ops):
            r.stop()


def test_vmop_rules_by_run_policy(sandbox: Any, api: Api, namespace: str, seeded: Path) -> None:
    vms = Recorder(api, "VirtualMachine", namespace)
    ops = Recorder(api, "VirtualMachineOperation", namespace)
    try:
        api.create(_vd(namespace, "blank"))
        api.create(_vm(namespace, "always", [("VirtualDisk", "blank")], "AlwaysOn"))
        vms.wait_phase("always", "Running", 60)
        api.create(_vmop(namespace, "stop", "always", "Stop"))
        op = ops.wait_phase("stop", "Failed", 30)
        done = cond(op, "Completed")
        assert (done["status"], done["reason"], done["message"]) == (
            "False", "NotApplicableForVirtualMachineRunPolicy",
            "Operation type Stop is not applicable for VirtualMachine with runPolicy AlwaysOn")
        assert vms.last("always")["status"]["phase"] == "Running"
        api.patch("VirtualMachine", namespace, "always", {"spec": {"runPolicy": "AlwaysOff"}})
        vms.wait_phase("always", "Stopped", 30)
        events = [e for e in api.events(namespace) if e["involvedObject"]["name"] == "stop"]
        assert events and events[0]["type"] == "Warning"

        api.create(_vm(namespace, "manual", [("VirtualDisk", "blank")], "Manual"))
        vms.wait_phase("manual", "Stopped", 30)
        api.create(_vmop(namespace, "go", "manual", "Start"))
        ops.wait_phase("go", "Completed", 30)
        api.create(_vmop(namespace, "again", "manual", "Restart"))
        ops.wait_phase("again", "Completed", 30)
        seq = [h["status"]["phase"] for h in vms.history("manual") if h.get("status")]
        assert seq.count("Running") >= 1 and "Stopping" in seq[seq.index("Running"):]
        assert vms.last("manual")["status"]["phase"] == "Running"
    finally:
        vms.stop()
        ops.stop()


def test_a_vmop_for_a_vm_that_does_not_exist_fails(sandbox: Any, api: Api, namespace: str) -> None:
    """vmop/service/service.go (v1.10.2 and main): Failed, Completed False VirtualMachineNotFound, a Warning event."""
    ops = Recorder(api, "VirtualMachineOperation", namespace)
    recorded = Recorder(api, "Event", namespace)   # events are recorded apart from the status, as a recorder does
    try:
        api.create(_vmop(namespace, "ghost-start", "ghost", "Start"))
        op = ops.wait_phase("ghost-start", "Failed", 30)
        done = cond(op, "Completed")
        assert (done["status"], done["reason"], done["message"]) == (
            "False", "VirtualMachineNotFound", "VirtualMachine not found")
        events = recorded.wait_any(lambda e: e["involvedObject"]["name"] == "ghost-start", 30, "about ghost-start")
        assert [(e["type"], e["reason"], e["message"]) for e in events] == [
            ("Warning", "VirtualMachineOperationFailed", "VirtualMachine not found")]
    finally:
        ops.stop()
        recorded.stop()
