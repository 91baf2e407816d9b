"""Operations of one VM that meet (vmop_webhook.go activeVMOPValidator, vmop/service/service.go and vmop/supersede at
v1.10.2 and main, the same on both lines): an unfinished operation refuses a new one at admission unless the new one
may supersede it, and the controller marks the superseded one. The fault annotation
`sandbox.deckhouse.io/hold-operations` keeps a VM's operations Pending, so each case is set up without timing.
"""
from __future__ import annotations

from typing import Any

import pytest

from _controller_support import GROUP, Api, Recorder, api, cond, need_controller  # noqa: F401

HOLD = {"metadata": {"annotations": {"sandbox.deckhouse.io/hold-operations": "true"}}}
RELEASE = {"metadata": {"annotations": {"sandbox.deckhouse.io/hold-operations": None}}}


def _vm(ns: str, name: str) -> dict:
    return {"apiVersion": GROUP, "kind": "VirtualMachine", "metadata": {"name": name, "namespace": ns},
            "spec": {"virtualMachineClassName": "generic", "runPolicy": "AlwaysOnUnlessStoppedManually",
                     "cpu": {"cores": 1}, "memory": {"size": "1Gi"},
                     "blockDeviceRefs": [{"kind": "VirtualDisk", "name": "blank"}]}}


def _vmop(ns: str, name: str, typ: str, force: bool | None = None) -> dict:
    spec: dict[str, Any] = {"type": typ, "virtualMachineName": "vm"}
    if force is not None:
        spec["force"] = force
    return {"apiVersion": GROUP, "kind": "VirtualMachineOperation", "metadata": {"name": name, "namespace": ns},
            "spec": spec}


def _refusal(api: Api, obj: dict) -> str:
    """The webhook's denial of a create (403), checked to have stored nothing."""
    ns, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
    r = api.s.post(api.base + api.path("VirtualMachineOperation", ns), json=obj, verify=api.ca, timeout=30)
    assert r.status_code == 403, r.text
    assert api.get("VirtualMachineOperation", ns, name) is None
    return r.json()["message"]


def _denied(blocker: str) -> str:
    return ('admission webhook "vmop.virtualization-controller.validate.d8-virtualization" denied the request: '
            f'VMOP cannot be executed now. Previously created operation "{blocker}" should finish first')


@pytest.fixture
def vm(sandbox: Any, api: Api, namespace: str) -> Any:
    """A running VM of its own disk, and recorders of it and its operations."""
    need_controller(sandbox)
    vms = Recorder(api, "VirtualMachine", namespace)
    ops = Recorder(api, "VirtualMachineOperation", namespace)
    api.create({"apiVersion": GROUP, "kind": "VirtualDisk", "metadata": {"name": "blank", "namespace": namespace},
                "spec": {"persistentVolumeClaim": {"size": "8Mi"}}})
    api.create(_vm(namespace, "vm"))
    vms.wait_phase("vm", "Running", 60)
    yield vms, ops
    vms.stop()
    ops.stop()


def test_an_unfinished_stop_refuses_what_cannot_supersede_it(api: Api, namespace: str, vm: Any) -> None:
    vms, ops = vm
    api.patch("VirtualMachine", namespace, "vm", HOLD)
    api.create(_vmop(namespace, "stop-1", "Stop"))
    ops.wait_phase("stop-1", "Pending")
    assert _refusal(api, _vmop(namespace, "stop-2", "Stop")) == _denied("stop-1")
    assert _refusal(api, _vmop(namespace, "start-1", "Start")) == _denied("stop-1")
    assert _refusal(api, _vmop(namespace, "restart-1", "Restart")) == _denied("stop-1")
    assert vms.last("vm")["status"]["phase"] == "Running"
    # a forced Stop may supersede an unforced one
    api.create(_vmop(namespace, "stop-forced", "Stop", force=True))
    done = cond(ops.wait_phase("stop-1", "Superseded"), "Completed")
    assert (done["status"], done["reason"], done["message"]) == (
        "True", "Superseded", "Superseded by stop-forced with type Stop")
    api.patch("VirtualMachine", namespace, "vm", RELEASE)
    ops.wait_phase("stop-forced", "Completed")
    vms.wait_phase("vm", "Stopped")
    api.create(_vmop(namespace, "start-2", "Start"))      # nothing unfinished: accepted again
    ops.wait_phase("start-2", "Completed")


def test_a_stop_supersedes_an_unfinished_start(api: Api, namespace: str, vm: Any) -> None:
    vms, ops = vm
    api.create(_vmop(namespace, "stop-0", "Stop"))
    vms.wait_phase("vm", "Stopped")
    ops.wait_phase("stop-0", "Completed")
    api.patch("VirtualMachine", namespace, "vm", HOLD)
    seen_before = len(vms.history("vm"))
    api.create(_vmop(namespace, "start-1", "Start"))
    ops.wait_phase("start-1", "Pending")
    assert _refusal(api, _vmop(namespace, "start-2", "Start")) == _denied("start-1")
    api.create(_vmop(namespace, "stop-1", "Stop"))
    done = cond(ops.wait_phase("start-1", "Superseded"), "Completed")
    assert (done["status"], done["reason"], done["message"]) == (
        "True", "Superseded", "Superseded by stop-1 with type Stop")
    api.patch("VirtualMachine", namespace, "vm", RELEASE)
    failed = cond(ops.wait_phase("stop-1", "Failed"), "Completed")   # the VM never left Stopped
    assert (failed["reason"], failed["message"]) == (
        "NotApplicableForVirtualMachinePhase", "Operation type Stop is not applicable for VirtualMachine in phase "
        "Stopped")
    assert {h["status"]["phase"] for h in vms.history("vm")[seen_before:]} == {"Stopped"}
    assert vms.last("vm")["status"]["phase"] == "Stopped"


def _op(name: str, typ: str, created: str = "2026-01-01T00:00:00Z", phase: str = "", force: bool = False,
        vm: str = "vm") -> dict:
    return {"metadata": {"name": name, "uid": name, "creationTimestamp": created},
            "spec": {"type": typ, "virtualMachineName": vm, "force": force}, "status": {"phase": phase}}


@pytest.mark.parametrize("old, new, force_old, force_new, allowed", [
    ("Start", "Stop", False, False, True), ("Start", "Restart", False, False, False),
    ("Start", "Start", False, False, False), ("Stop", "Stop", False, False, False),
    ("Stop", "Stop", False, True, True), ("Stop", "Restart", False, True, True), ("Stop", "Stop", True, True, False),
    ("Stop", "Start", False, False, False), ("Restart", "Stop", False, True, True),
    ("Restart", "Restart", True, True, False), ("Migrate", "Stop", False, False, True),
    ("Evict", "Restart", False, False, True), ("Evict", "Start", False, False, False),
])
def test_which_operation_supersedes_which(old: str, new: str, force_old: bool, force_new: bool,
                                          allowed: bool) -> None:
    from sandbox.vmop_rules import can_supersede
    assert can_supersede(_op("a", old, force=force_old), _op("b", new, force=force_new)) is allowed


def test_the_older_unfinished_operations_of_the_same_vm_oldest_first() -> None:
    from sandbox.vmop_rules import first_blocker, older_unfinished
    new = _op("new", "Start", "2026-01-01T00:00:05Z")
    others = [_op("b", "Stop", "2026-01-01T00:00:01Z"), _op("a", "Stop", "2026-01-01T00:00:01Z"),
              _op("done", "Stop", "2026-01-01T00:00:00Z", phase="Completed"),
              _op("other-vm", "Stop", "2026-01-01T00:00:00Z", vm="x"),
              _op("later", "Stop", "2026-01-01T00:00:09Z"), new]
    assert [o["metadata"]["name"] for o in older_unfinished(new, others)] == ["a", "b"]
    assert first_blocker(new, others)["metadata"]["name"] == "b"          # the webhook: any unfinished one
    assert first_blocker(_op("new", "Stop", force=True), others[:2]) is None
