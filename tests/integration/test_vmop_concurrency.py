"""Operations of a VM that meet through the collection: another run's operation still unfinished (a killed
run's module goes on, since Ansible's workers start sessions of their own) is waited for, never answered with one the
platform refuses (`... should finish first`), and both runs reach the same end.

The sandbox's fault annotation `sandbox.deckhouse.io/hold-operations` keeps the VM's operations Pending: the other
run's operation is unfinished for certain when the run under test decides, and released once the run under test has
listed the VM's operations (the audit says so), so every case is the same race every time, with no timing.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Dict

from killing import audited, collection

CAPTURE = "deckhouse.virtualization.virtual_image_capture"
OPERATION = "deckhouse.virtualization.virtual_machine_operation"
HOLD = "sandbox.deckhouse.io/hold-operations"
STOPPED_BY = collection("machines.power").STOPPED_BY


def _other_run(kube: Any, namespace: str, vm: str, typ: str, mark: bool = True) -> str:
    """What a killed capture run left going: the mark on the VM, and its operation, held Pending."""
    annotations: Dict[str, Any] = {HOLD: "true"}
    if mark:
        annotations[STOPPED_BY] = json.dumps({"by": "virtual_image_capture of VirtualDisk %s/root" % namespace,
                                              "runPolicy": "AlwaysOnUnlessStoppedManually"}, sort_keys=True)
    kube.api("VirtualMachine").patch(namespace=namespace, name=vm, body={"metadata": {"annotations": annotations}},
                                     content_type="application/merge-patch+json")
    name = _create_operation(kube, namespace, vm, typ)
    kube.poll_phase("VirtualMachineOperation", name, namespace, "Pending")
    return name


def _create_operation(kube: Any, namespace: str, vm: str, typ: str) -> str:
    """The other run's operation, as it posts it; returns its name."""
    name = "other-run-%s" % typ.lower()
    kube.api("VirtualMachineOperation").create(namespace=namespace, body={
        "apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualMachineOperation",
        "metadata": {"name": name, "namespace": namespace}, "spec": {"type": typ, "virtualMachineName": vm}})
    return name


def _release_once(sandbox: Any, kube: Any, namespace: str, vm: str, method: str = "GET",
                  verb: str = "list") -> Callable[[Any], None]:
    """``until`` for play: once the run under test has listed the VM's operations (it decided while the other
    run's one was unfinished; ``POST``: once it created its own), the VM's operations go on."""
    seen = audited(sandbox, method, "virtualmachineoperations", 1, verb=verb)

    def release(_proc: Any) -> None:
        kube.poll(seen.what, seen.fired, 120)
        kube.api("VirtualMachine").patch(namespace=namespace, name=vm, body={"metadata": {"annotations": {HOLD: None}}},
                                         content_type="application/merge-patch+json")
    return release


def _vmops_posted(admin_writes: Any, namespace: str) -> int:
    return len(admin_writes.real(namespace, "virtualmachineoperations"))


def _capture_rerun(play: Any, sandbox: Any, kube: Any, namespace: str, admin_writes: Any) -> Dict[str, Any]:
    """The capture's re-run beside the other run, which goes on once the re-run has decided; it must succeed."""
    admin_writes.clear()
    task = {"namespace": namespace, "disk": "root", "name": "web-img", "stop_vm": True, "wait_timeout": 60}
    run = play([{CAPTURE: task, "register": "rerun"}], until=_release_once(sandbox, kube, namespace, "web"))
    assert run.rc == 0, run.stdout
    assert run["rerun"]["phase"] == "Ready", run["rerun"]
    return dict(run["rerun"], task=task)


def _running_without_mark(kube: Any, namespace: str) -> bool:
    vm = kube.get("VirtualMachine", namespace, "web")
    return vm["status"]["phase"] == "Running" and STOPPED_BY not in (vm["metadata"].get("annotations") or {})


def test_a_rerun_waits_for_the_other_runs_start_and_ends_as_it_does(play, sandbox, namespace, kube, admin_writes):
    """The other run stopped the VM and posted its Start; the re-run reads the VM Stopped and must not post a second
    Start (refused: should finish first), but wait for the VM to run, then remove the mark."""
    kube.make_disk(namespace, "root")
    kube.make_vm(namespace, "web", "root", "AlwaysOnUnlessStoppedManually")
    _create_operation(kube, namespace, "web", "Stop")
    kube.poll("VM Stopped", lambda: kube.vm_phase(namespace, "web") == "Stopped")
    _other_run(kube, namespace, "web", "Start")
    rerun = _capture_rerun(play, sandbox, kube, namespace, admin_writes)
    assert rerun["vms_restarted"] == ["web"] and rerun["vm_actions"] == [], rerun
    assert _vmops_posted(admin_writes, namespace) == 0
    assert kube.get("VirtualMachineOperation", namespace, "other-run-start")["status"]["phase"] == "Completed"
    assert _running_without_mark(kube, namespace)
    again = play([{CAPTURE: rerun["task"], "register": "again"}])["again"]
    assert again["changed"] is False and again["vm_actions"] == []


def test_a_rerun_joins_the_other_runs_stop_then_captures_and_starts(play, sandbox, namespace, kube, admin_writes):
    """The other run marked the VM and posted its Stop; the re-run must not post a second Stop (refused), but wait
    for it, make the image and start the VM itself."""
    kube.make_disk(namespace, "root")
    kube.make_vm(namespace, "web", "root", "AlwaysOnUnlessStoppedManually")
    _other_run(kube, namespace, "web", "Stop")
    rerun = _capture_rerun(play, sandbox, kube, namespace, admin_writes)
    assert rerun["vms_stopped"] == ["web"] and rerun["vms_restarted"] == ["web"]
    assert [(a["action"], a["phase"]) for a in rerun["vm_actions"]] == [("Start", "Completed")], rerun["vm_actions"]
    assert kube.get("VirtualMachineOperation", namespace, "other-run-stop")["status"]["phase"] == "Completed"
    assert _running_without_mark(kube, namespace)


def test_an_operation_waits_for_an_unfinished_one_or_supersedes_it(play, sandbox, namespace, kube, admin_writes):
    """virtual_machine_operation: a Stop beside another Stop waits for it (the VM ends Stopped, nothing posted); a
    Stop beside a Start supersedes it, as the platform allows."""
    kube.make_disk(namespace, "root")
    kube.make_vm(namespace, "web", "root", "AlwaysOnUnlessStoppedManually")
    _other_run(kube, namespace, "web", "Stop", mark=False)
    admin_writes.clear()
    vm = {"namespace": namespace, "name": "web", "wait_timeout": 60}
    run = play([{OPERATION: dict(vm, type="Stop"), "register": "stop"}],
               until=_release_once(sandbox, kube, namespace, "web"))
    stop = run["stop"]
    assert run.rc == 0, run.stdout
    assert stop["changed"] is False and stop["operation"] is None and stop["vm_phase"] == "Stopped", stop
    assert _vmops_posted(admin_writes, namespace) == 0

    # the other run's Start is Pending on the Stopped VM: left alone it would start it
    other = _other_run(kube, namespace, "web", "Start", mark=False)
    admin_writes.clear()
    run = play([{OPERATION: dict(vm, type="Stop"), "register": "stop"}],
               until=_release_once(sandbox, kube, namespace, "web", "POST", ""))
    superseding = run["stop"]
    assert run.rc == 0, run.stdout
    assert superseding["changed"] is True and superseding["vm_phase"] == "Stopped", superseding
    done = kube.get("VirtualMachineOperation", namespace, other)["status"]
    assert done["phase"] == "Superseded", done
    # the platform then finds the Stop not applicable to a Stopped VM: that only says the VM is where it goes
    assert [(a["action"], a["phase"], a.get("lost_race")) for a in superseding["vm_actions"]] == [
        ("Stop", "Failed", True)]
    assert kube.vm_phase(namespace, "web") == "Stopped"
