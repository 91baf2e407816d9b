"""virtual_machine_operation against the sandbox: Stop/Start/Restart, no-ops, check mode, runPolicy refusal."""
from __future__ import annotations

MOD = "deckhouse.virtualization.virtual_machine_operation"


def test_stop_start_restart_and_run_policy_rule(play, namespace, kube, admin_writes):
    kube.make_disk(namespace, "root")
    kube.make_disk(namespace, "other")
    kube.make_vm(namespace, "svc", "root", "AlwaysOnUnlessStoppedManually")
    kube.make_vm(namespace, "pinned", "other", "AlwaysOn")
    vm = {"namespace": namespace, "name": "svc", "wait_timeout": 60}
    admin_writes.clear()
    run = play([
        {MOD: dict(vm, type="Stop"), "register": "stop"},
        {MOD: dict(vm, type="Stop"), "register": "stop_again"},
        {MOD: dict(vm, type="Start"), "register": "check_start", "check_mode": True},
        {MOD: dict(vm, type="Start"), "register": "start"},
        {MOD: dict(vm, type="Restart"), "register": "restart"},
        {MOD: dict(vm, name="pinned", type="Stop"), "register": "pinned", "ignore_errors": True},
        {MOD: dict(vm, name="ghost", type="Start"), "register": "ghost", "ignore_errors": True},
    ])
    stop, start, restart = run["stop"], run["start"], run["restart"]
    assert stop["changed"] is True and stop["vm_phase"] == "Stopped", stop
    assert stop["operation"]["status"]["phase"] == "Completed"
    assert stop["operation"]["spec"] == {"type": "Stop", "virtualMachineName": "svc"}
    assert run["stop_again"]["changed"] is False and run["stop_again"]["operation"] is None
    assert run["check_start"]["changed"] is True and run["check_start"]["vm_phase"] == "Stopped"
    assert start["changed"] is True and start["vm_phase"] == "Running"
    assert restart["changed"] is True and restart["vm_phase"] == "Running"
    assert restart["vm_actions"][0]["action"] == "Restart" and restart["vm_actions"][0]["phase"] == "Completed"
    pinned = run["pinned"]
    assert pinned["failed"] is True
    assert "Operation type Stop is not applicable for VirtualMachine with runPolicy AlwaysOn" in pinned["msg"]
    assert "VirtualMachine %s/ghost not found" % namespace == run["ghost"]["msg"]
    # Stop, Start, Restart: three operations stored; the no-op, the refusal and check mode stored none
    assert len(admin_writes.real(namespace, "virtualmachineoperations")) == 3
    assert [w["resource"] for w in admin_writes(namespace) if not w.get("dryRun")] == ["virtualmachineoperations"] * 3
    assert len([w for w in admin_writes(namespace) if w.get("dryRun")]) == 1
    assert kube.vm_phase(namespace, "svc") == "Running" and kube.vm_phase(namespace, "pinned") == "Running"


def test_progress_at_verbose(play, namespace, kube):
    """At -v the operation and the phases it goes through are printed while the module waits."""
    kube.make_disk(namespace, "root")
    kube.make_vm(namespace, "svc", "root", "AlwaysOnUnlessStoppedManually")
    run = play([{MOD: {"namespace": namespace, "name": "svc", "type": "Stop", "wait_timeout": 60},
                 "register": "stop"}], verbosity=1)
    assert run.rc == 0, run.stdout
    op = run["stop"]["operation"]["metadata"]["name"]
    vm_ref = "VirtualMachine %s/svc" % namespace
    assert "%s: Stop of %s: VirtualMachineOperation %s" % (vm_ref, vm_ref, op) in run.stdout, run.stdout
    assert "VirtualMachineOperation %s/%s: Completed" % (namespace, op) in run.stdout, run.stdout
    assert "%s: Stopped" % vm_ref in run.stdout, run.stdout
