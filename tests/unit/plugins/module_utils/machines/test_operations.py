# -*- coding: utf-8 -*-
"""machines/operations.py: what an operation on a VM does beside the VM's other operations (another run's, or a
killed run's module still going), and which refusals and failures only mean that another operation came first;
PowerControl.operate acting on them."""

from __future__ import annotations

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ApiError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.machines.operations import (
    Step, is_operation_finished, lost_race, next_step, supersedes, unfinished,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.machines.power import PowerControl
from ansible_collections.deckhouse.virtualization.tests.unit.helpers.clients import ObjectsClient
from ansible_collections.deckhouse.virtualization.tests.unit.helpers.machines import vm


def op(name, typ, phase="InProgress", created="2026-01-01T00:00:00Z", vm="web"):
    return {"metadata": {"name": name, "creationTimestamp": created},
            "spec": {"type": typ, "virtualMachineName": vm}, "status": {"phase": phase}}


def test_unfinished_operations_of_the_vm_oldest_first():
    ops = [op("b", "Start", created="2026-01-01T00:00:02Z"), op("a2", "Stop", created="2026-01-01T00:00:01Z"),
           op("a1", "Stop", phase="", created="2026-01-01T00:00:01Z"), op("done", "Stop", "Completed"),
           op("gone", "Start", "Superseded"), op("bad", "Start", "Failed"), op("x", "Stop", vm="other")]
    assert [o["metadata"]["name"] for o in unfinished(ops, "web")] == ["a1", "a2", "b"]


@pytest.mark.parametrize("operation, old, allowed", [
    ("Stop", "Start", True), ("Stop", "Migrate", True), ("Restart", "Evict", True), ("Stop", "Stop", False),
    ("Start", "Start", False), ("Start", "Stop", False), ("Restart", "Start", False), ("Restart", "Restart", False),
])
def test_what_an_unforced_operation_may_supersede(operation, old, allowed):
    assert supersedes(operation, op("old", old)) is allowed


@pytest.mark.parametrize("operation, phase, pending, step", [
    # another run's Start still going: wait for it, never post beside it
    ("Start", "Stopped", [op("other-start", "Start", "Pending")], Step("wait-operation", "other-start")),
    ("Start", "Running", [op("stop", "Stop")], Step("wait-operation", "stop")),      # an unfinished Stop first
    ("Stop", "Running", [op("other-stop", "Stop")], Step("wait-operation", "other-stop")),
    ("Stop", "Starting", [op("start", "Start")], Step("post")),                      # a Stop supersedes a Start
    ("Stop", "Stopped", [op("start", "Start", "Pending")], Step("post")),           # ... before it starts the VM
    ("Restart", "Running", [op("evict", "Evict")], Step("post")),
    ("Start", "Running", [], Step("done", "Running")),
    ("Start", "Starting", [], Step("wait-phase", "Running")),
    ("Start", "Stopping", [], Step("wait-phase", "Stopped")),
    ("Start", "Stopped", [], Step("post")),
    ("Stop", "Stopping", [], Step("wait-phase", "Stopped")),
    ("Stop", "Stopped", [], Step("done", "Stopped")),
    ("Restart", "Running", [], Step("post")),
])
def test_next_step(operation, phase, pending, step):
    assert next_step(operation, phase, pending) == step


def test_a_lost_race_is_told_from_a_real_refusal():
    refused = ('admission webhook "vmop.virtualization-controller.validate.d8-virtualization" denied the request: '
               'VMOP cannot be executed now. Previously created operation "web-start-1a2b3c" should finish first')
    assert lost_race("Start", refused)
    assert lost_race("Start", "VMOP cannot be executed now. Previously created operation should finish first.",
                     "NotReadyToBeExecuted")
    assert lost_race("Start", "Operation type Start is not applicable for VirtualMachine in phase Starting")
    assert lost_race("Start", "Operation type Start is not applicable for VirtualMachine in phase Running")
    assert lost_race("Stop", "Operation type Stop is not applicable for VirtualMachine in phase Stopped")
    assert not lost_race("Start", "Operation type Start is not applicable for VirtualMachine in phase Pending")
    assert not lost_race("Restart", "Operation type Restart is not applicable for VirtualMachine in phase Stopped")
    assert not lost_race("Start", "Operation type Start is not applicable for VirtualMachine with runPolicy "
                                  "AlwaysOff")
    assert not lost_race("Stop", "Forbidden (403): not allowed to create virtualmachineoperations")


def test_another_operation_is_over_however_it_ended():
    assert [is_operation_finished(o).state for o in (None, op("a", "Start", "Completed"), op("a", "Stop", "Failed"),
                                                     op("a", "Start", "Superseded"))] == ["done"] * 4
    assert is_operation_finished(op("a", "Start", "Pending")).state == "wait"
    assert is_operation_finished(op("a", "Start", "")).state == "wait"


class RacingClient(ObjectsClient):
    """The VM is Stopped when first read; another run's Start is created meanwhile, so the platform refuses this
    run's Start, and the VM reads Running afterwards."""

    def __init__(self, refusal):
        super().__init__({("virtualmachines", "web"): vm("web", "Stopped")})
        self.refusal = refusal

    def create(self, path, body, dry_run=False):
        self.writes.append(("POST", path))
        self.objects[("virtualmachines", "web")] = vm("web", "Running")
        raise self.refusal


def test_a_start_refused_for_another_runs_start_ends_with_the_vm_running():
    refused = ApiError('the platform refused to create virtualmachineoperations in namespace ns: admission webhook '
                       '"vmop.virtualization-controller.validate.d8-virtualization" denied the request: VMOP cannot '
                       'be executed now. Previously created operation "web-start-1a2b3c" should finish first',
                       status=403, reason="Forbidden")
    client = RacingClient(refused)
    power = PowerControl(client, "ns", 5, Tracker("VirtualMachine ns/web"))
    assert power.operate("web", "Start") is None
    assert power.actions == [] and "should finish first" in power.waits[-1]


def test_a_start_refused_for_any_other_reason_fails():
    client = RacingClient(ApiError("Forbidden (403): not allowed to create virtualmachineoperations", status=403))
    power = PowerControl(client, "ns", 5, Tracker("VirtualMachine ns/web"))
    with pytest.raises(ApiError, match="not allowed"):
        power.operate("web", "Start")
