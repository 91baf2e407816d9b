"""virtual_disk_snapshot and capture without downtime (virtual_image_capture method: snapshot) against the sandbox.

The snapshot of a Running VM's disk is consistent because the sandbox's guest agent freezes the filesystem; a VM
without an agent (annotation sandbox.deckhouse.io/guest-agent: "false") cannot be frozen. Runs on both lines."""
from __future__ import annotations

import threading
from typing import Any, Dict, List

SNAP = "deckhouse.virtualization.virtual_disk_snapshot"
CAPTURE = "deckhouse.virtualization.virtual_image_capture"
WAIT = 60
NO_AGENT = {"sandbox.deckhouse.io/guest-agent": "false"}


def snapshot(namespace: str, name: str, **options: Any) -> Dict[str, Any]:
    return dict({"name": name, "namespace": namespace, "wait_timeout": WAIT}, **options)


def test_snapshot_of_a_running_vm_is_consistent_and_a_rerun_writes_nothing(play, namespace, kube, admin_writes):
    kube.make_disk(namespace, "root")
    kube.make_vm(namespace, "web", "root", "AlwaysOnUnlessStoppedManually")
    task = snapshot(namespace, "before", disk="root", labels={"why": "upgrade"})
    admin_writes.clear()
    run = play([{SNAP: task, "register": "checked", "check_mode": True},
                {SNAP: task, "register": "taken"},
                {SNAP: task, "register": "again"},
                {SNAP: dict(task, disk="other"), "register": "changed_disk", "ignore_errors": True}], diff=True)
    assert run["checked"]["changed"] is True and run["checked"]["diff"]["after"]["spec"] == {
        "virtualDiskName": "root", "requiredConsistency": True}
    taken = run["taken"]
    assert taken["changed"] is True and taken["phase"] == "Ready" and taken["consistent"] is True, run.fatal()
    assert [p["phase"] for p in taken["phases"]][-2:] == ["InProgress", "Ready"], taken["phases"]
    assert taken["volume_snapshot"]
    assert run["again"]["changed"] is False
    refused = run["changed_disk"]
    assert refused["failed"] is True and "spec.virtualDiskName" in refused["msg"], refused["msg"]
    writes = [(w["method"], w.get("dryRun")) for w in admin_writes(namespace, "virtualdisksnapshots")]
    assert writes == [("POST", True), ("POST", False)]
    assert kube.vm_phase(namespace, "web") == "Running"


def make_vm_without_agent(kube: Any, namespace: str, name: str, disk: str) -> None:
    """A Running VM mounting ``disk`` whose guest agent does not answer: its filesystem cannot be frozen."""
    kube.api("VirtualMachine").create(namespace=namespace, body={
        "apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualMachine",
        "metadata": {"name": name, "namespace": namespace, "annotations": NO_AGENT},
        "spec": {"virtualMachineClassName": "generic", "runPolicy": "AlwaysOnUnlessStoppedManually",
                 "cpu": {"cores": 1}, "memory": {"size": "1Gi"},
                 "blockDeviceRefs": [{"kind": "VirtualDisk", "name": disk}]}})
    kube.poll("VM Running", lambda: kube.vm_phase(namespace, name) == "Running")


def start_guest_agent(kube: Any, namespace: str, name: str) -> None:
    """The cause of a PotentiallyInconsistent snapshot fixed: the VM's guest agent answers (AgentReady True)."""
    kube.api("VirtualMachine").patch(namespace=namespace, name=name, content_type="application/merge-patch+json",
                                     body={"metadata": {"annotations": {"sandbox.deckhouse.io/guest-agent": None}}})

    def agent_ready() -> bool:
        conditions = ((kube.get("VirtualMachine", namespace, name) or {}).get("status") or {}).get("conditions") or []
        return any(c["type"] == "AgentReady" and c["status"] == "True" for c in conditions)
    kube.poll("AgentReady True", agent_ready)


def test_snapshot_failures_fail_fast_and_unknown_disks_before_any_write(play, namespace, kube, admin_writes):
    kube.make_disk(namespace, "root")
    make_vm_without_agent(kube, namespace, "bare", "root")
    admin_writes.clear()
    run = play([{SNAP: snapshot(namespace, "strict", disk="root"), "register": "strict", "ignore_errors": True},
                {SNAP: snapshot(namespace, "loose", disk="root", required_consistency=False), "register": "loose"},
                {SNAP: snapshot(namespace, "ghost", disk="no-such-disk"), "register": "ghost",
                 "ignore_errors": True}])
    strict = run["strict"]
    assert strict["failed"] is True and "phase Failed" in strict["msg"], strict
    assert "Cannot take a consistent snapshot" in strict["msg"] and strict["duration"] < WAIT / 2
    assert run["loose"]["phase"] == "Ready" and run["loose"]["consistent"] is None, run.fatal()
    ghost = run["ghost"]
    assert ghost["failed"] is True and ghost["msg"].startswith("disk: VirtualDisk %s/no-such-disk does not exist"
                                                               % namespace)
    assert len(admin_writes.real(namespace, "virtualdisksnapshots")) == 2  # strict and loose; none for the ghost


class PhaseWatch:
    """Polls a VM's phase in the background while a play runs: every phase it was seen in."""

    def __init__(self, kube: Any, namespace: str, name: str) -> None:
        self.seen: List[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(kube, namespace, name), daemon=True)

    def _run(self, kube: Any, namespace: str, name: str) -> None:
        while not self._stop.is_set():
            phase = kube.vm_phase(namespace, name)
            if not self.seen or self.seen[-1] != phase:
                self.seen.append(phase)
            self._stop.wait(0.1)

    def __enter__(self) -> "PhaseWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def test_capture_by_snapshot_keeps_the_vm_running_and_a_rerun_writes_nothing(play, namespace, kube, admin_writes):
    kube.make_disk(namespace, "root")
    kube.make_vm(namespace, "web", "root", "AlwaysOnUnlessStoppedManually")
    cvi = "%s-golden" % namespace
    task = {"namespace": namespace, "disk": "root", "name": "golden", "cluster_image": cvi, "method": "snapshot",
            "wait_timeout": WAIT}
    admin_writes.clear()
    try:
        with PhaseWatch(kube, namespace, "web") as watch:
            run = play([{CAPTURE: task, "register": "captured"}], diff=True)
        assert run.rc == 0, run.fatal()
        captured = run["captured"]
        assert watch.seen == ["Running"], watch.seen
        assert captured["changed"] is True and captured["vm_actions"] == [] and captured["vms_stopped"] == []
        assert captured["phase"] == "Ready" and captured["cluster_image_phase"] == "Ready"
        assert captured["snapshot_consistent"] is True and captured["snapshot_deleted"] is True
        assert captured["image"]["spec"]["dataSource"] == {
            "type": "ObjectRef", "objectRef": {"kind": "VirtualDiskSnapshot", "name": "golden-capture"}}
        assert captured["cluster_image"]["spec"]["dataSource"]["objectRef"] == {
            "kind": "VirtualDiskSnapshot", "name": "golden-capture", "namespace": namespace}
        assert kube.get("VirtualDiskSnapshot", namespace, "golden-capture") is None
        assert admin_writes.real(namespace, "virtualmachineoperations") == []
        assert "--- before: VirtualDiskSnapshot %s/golden-capture" % namespace in run.stdout
        admin_writes.clear()
        again = play([{CAPTURE: task, "register": "again"}])
        assert again["again"]["changed"] is False and again["again"]["snapshot"] is None, again.fatal()
        assert admin_writes.real_anywhere() == []
        kept = play([{CAPTURE: dict(task, name="kept", cluster_image=None, keep_snapshot=True), "register": "kept"}])
        assert kept["kept"]["snapshot_deleted"] is False and kept["kept"]["phase"] == "Ready", kept.fatal()
        assert kube.get("VirtualDiskSnapshot", namespace, "kept-capture")["status"]["phase"] == "Ready"
        assert kube.vm_phase(namespace, "web") == "Running"
    finally:
        play([{"deckhouse.virtualization.cluster_virtual_image": {"name": cvi, "state": "absent"}}])


def test_the_role_captures_by_snapshot(play, namespace, kube):
    kube.make_disk(namespace, "root")
    kube.make_vm(namespace, "web", "root", "AlwaysOnUnlessStoppedManually")
    run = play([{"ansible.builtin.include_role": {"name": "deckhouse.virtualization.disk_capture"},
                 "vars": {"disk_capture_namespace": namespace, "disk_capture_disk": "root",
                          "disk_capture_image": "by-role", "disk_capture_method": "snapshot",
                          "disk_capture_wait_timeout": WAIT}},
                {"ansible.builtin.set_fact": {"role_result": "{{ disk_capture_result }}"}, "register": "ignored"},
                {"ansible.builtin.debug": {"var": "role_result"}, "register": "shown"}])
    assert run.rc == 0, run.fatal()
    result = run["shown"]["role_result"]
    assert result["phase"] == "Ready" and result["vm_actions"] == [] and result["snapshot_deleted"] is True
    assert kube.vm_phase(namespace, "web") == "Running"


def test_a_failed_snapshot_is_refused_before_any_write_and_recreate_takes_it_anew(play, namespace, kube, admin_writes):
    """The platform never retries a Failed snapshot: a re-run names recreate: true and writes nothing; once the
    guest agent answers, recreate: true deletes it and takes a consistent one, and a further run writes nothing."""
    kube.make_disk(namespace, "root")
    make_vm_without_agent(kube, namespace, "web", "root")
    task = snapshot(namespace, "before", disk="root")
    first = play([{SNAP: task, "register": "first", "ignore_errors": True}])
    assert first["first"]["msg"].startswith("VirtualDiskSnapshot %s/before: phase Failed: Cannot take a consistent "
                                            "snapshot" % namespace), first["first"]
    assert first["first"]["msg"].endswith("the platform never retries a snapshot: set recreate: true to delete it "
                                          "and take it anew"), first["first"]["msg"]
    start_guest_agent(kube, namespace, "web")
    admin_writes.clear()
    run = play([{SNAP: task, "register": "again", "ignore_errors": True},
                {SNAP: dict(task, recreate=True), "register": "checked", "check_mode": True},
                {SNAP: dict(task, recreate=True), "register": "retaken"},
                {SNAP: dict(task, recreate=True), "register": "kept"}])
    again = run["again"]
    assert again["failed"] is True and again["msg"].startswith(
        "VirtualDiskSnapshot %s/before is Failed (PotentiallyInconsistent: Cannot take a consistent snapshot"
        % namespace), again["msg"]
    assert "set recreate: true" in again["msg"] and again["duration"] < WAIT / 2
    assert again["snapshot"]["status"]["phase"] == "Failed"
    assert run["checked"]["changed"] is True
    retaken = run["retaken"]
    assert retaken["changed"] is True and retaken["phase"] == "Ready" and retaken["consistent"] is True, run.fatal()
    assert any("made anew: it is Failed" in w for w in retaken.get("warnings", [])), retaken
    assert run["kept"]["changed"] is False and run["kept"]["phase"] == "Ready"
    writes = [(w["method"], w.get("dryRun")) for w in admin_writes(namespace, "virtualdisksnapshots")]
    assert writes == [("DELETE", True), ("DELETE", False), ("POST", False)], writes
    assert kube.vm_phase(namespace, "web") == "Running"


def test_a_capture_takes_its_failed_snapshot_anew_on_the_next_run(play, namespace, kube):
    kube.make_disk(namespace, "root")
    make_vm_without_agent(kube, namespace, "web", "root")
    task = {"namespace": namespace, "disk": "root", "name": "golden", "method": "snapshot", "wait_timeout": WAIT}
    failed = play([{CAPTURE: task, "register": "failed", "ignore_errors": True}])["failed"]
    assert failed["failed"] is True and "Cannot take a consistent snapshot" in failed["msg"], failed
    assert failed["msg"].endswith("the next run deletes it and takes it anew"), failed["msg"]
    assert kube.get("VirtualImage", namespace, "golden") is None   # no image made from a Failed snapshot
    assert kube.get("VirtualDiskSnapshot", namespace, "golden-capture")["status"]["phase"] == "Failed"
    start_guest_agent(kube, namespace, "web")
    run = play([{CAPTURE: task, "register": "captured"}])
    captured = run["captured"]
    assert run.rc == 0 and captured["phase"] == "Ready" and captured["snapshot_consistent"] is True, run.fatal()
    assert captured["snapshot_deleted"] is True and captured["vm_actions"] == []
    assert kube.get("VirtualDiskSnapshot", namespace, "golden-capture") is None
    assert kube.vm_phase(namespace, "web") == "Running"
