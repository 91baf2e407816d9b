# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""VirtualMachine power control: VMOPs, runPolicy switches, the record of what was done, and the mark left on a
VM that the module stops and must start again.

The platform's rules: Stop/Start VMOPs work for runPolicy
Manual and AlwaysOnUnlessStoppedManually; an AlwaysOn VM can only be stopped by
switching runPolicy to AlwaysOff; an AlwaysOff VM cannot be started by an operation.

Why the mark: a run can be killed between stopping a VM and starting it again. The annotation STOPPED_BY is
written before the VM is stopped (in the same write as a runPolicy switch) and says what stopped it and the
runPolicy to restore; the next run for the same purpose finds it, starts the VM again and removes it. A VM
without it was stopped by someone else and is never started by the module.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.waiter import Waiter
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import (
    ApiError, ObjectFailed, TaskError, WaitTimeout,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    API_VERSION, VIRTUAL_MACHINE, VIRTUAL_MACHINE_OPERATION,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.machines.operations import (
    DONE_ALREADY, POST, TARGET_PHASE, WAIT_OPERATION, is_operation_finished, lost_race, next_step, unfinished,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.validation import validate_vm_operation

DEFAULT_RUN_POLICY = "AlwaysOnUnlessStoppedManually"
WAIT_GOAL = {"Running": "vm-running", "Stopped": "vm-stopped"}
MANAGED_BY = {"app.kubernetes.io/managed-by": "deckhouse.virtualization"}
STOPPED_BY = "virtualization.deckhouse.io/ansible-stopped-by"


class StopMark(NamedTuple):
    """What the mark on a VM says: who stopped it (``purpose``) and the runPolicy it had."""

    purpose: str
    run_policy: str

    def annotation(self) -> Dict[str, Optional[str]]:
        """The metadata.annotations patch that writes it."""
        return {STOPPED_BY: json.dumps({"by": self.purpose, "runPolicy": self.run_policy}, sort_keys=True)}


CLEAR_MARK: Dict[str, Optional[str]] = {STOPPED_BY: None}


def stop_mark(vm: Mapping[str, Any]) -> Optional[StopMark]:
    """The mark on a VM, or None (none, or not one of ours)."""
    value = ((vm.get("metadata") or {}).get("annotations") or {}).get(STOPPED_BY)
    try:
        mark = json.loads(value) if value else None
    except ValueError:
        return None
    if not isinstance(mark, dict) or not isinstance(mark.get("by"), str):
        return None
    return StopMark(mark["by"], str(mark.get("runPolicy") or DEFAULT_RUN_POLICY))


class RunPolicyRefused(TaskError):
    """The VM's runPolicy does not allow the operation (the platform's rule, explained)."""


def run_policy(vm: Mapping[str, Any]) -> str:
    """spec.runPolicy with the platform default."""
    return (vm.get("spec") or {}).get("runPolicy") or DEFAULT_RUN_POLICY


def refusal(operation: str, vm_ref: str, policy: str) -> Optional[str]:
    """The message for an operation the runPolicy forbids, or None when it is allowed."""
    if operation == "Stop" and policy == "AlwaysOn":
        return ("Operation type Stop is not applicable for VirtualMachine with runPolicy AlwaysOn: %s always runs. "
                "Options: change its runPolicy (AlwaysOff stops it; Manual or AlwaysOnUnlessStoppedManually allow "
                "Stop operations), or let the module switch it to AlwaysOff and restore AlwaysOn afterwards "
                "(allow_run_policy_change: true)." % vm_ref)
    if operation in ("Start", "Restart") and policy == "AlwaysOff":
        return ("Operation type %s is not applicable for VirtualMachine with runPolicy AlwaysOff: %s never runs. "
                "Change its runPolicy to start it." % (operation, vm_ref))
    return None


def mounting_vms(client: Client, namespace: str, disk: str) -> List[Dict[str, Any]]:
    """VMs that mount the disk: listed in status.blockDeviceRefs while not Stopped."""
    found = []
    for vm in client.list(VIRTUAL_MACHINE.collection_path(namespace)).get("items") or []:
        refs = (vm.get("status") or {}).get("blockDeviceRefs") or []
        if cond.phase(vm) != "Stopped" and any(
                ref.get("kind") == "VirtualDisk" and ref.get("name") == disk for ref in refs):
            found.append(vm)
    return found


class PowerControl:
    """Stops and starts VMs, recording each action with its timing for the task result, and writing each step
    and each phase seen to the task's progress."""

    def __init__(self, client: Client, namespace: str, timeout: float, tracker: Tracker) -> None:
        self.client = client
        self.namespace = namespace
        self.timeout = timeout
        self.tracker = tracker
        self.actions: List[Dict[str, Any]] = []
        self.waits: List[str] = []   # what the VMs' other operations made this run wait for, last one last

    @property
    def check_mode(self) -> bool:
        return self.client.check_mode

    def _vm_path(self, name: str) -> str:
        return VIRTUAL_MACHINE.object_path(name, self.namespace)

    def get_vm(self, name: str) -> Dict[str, Any]:
        """The VM, or a clear error when it does not exist."""
        vm = self.client.get(self._vm_path(name))
        if vm is None:
            raise TaskError("%s not found" % VIRTUAL_MACHINE.ref(name, self.namespace))
        return vm

    def _record(self, vm: str, action: str, started: float, **extra: Any) -> Dict[str, Any]:
        entry = {"vm": vm, "action": action, "duration": round(time.monotonic() - started, 3)}
        entry.update(extra)
        self.actions.append(entry)
        return entry

    def wait_phase(self, name: str, phase: str, obj: Optional[Mapping[str, Any]] = None,
                   timeout: Optional[float] = None) -> Mapping[str, Any]:
        tracker = self.tracker.child(VIRTUAL_MACHINE.ref(name, self.namespace))
        waiter = Waiter(self.client, VIRTUAL_MACHINE, name, self.namespace, on_update=tracker.update)
        return waiter.wait(WAIT_GOAL[phase], self.timeout if timeout is None else timeout, obj) or {}

    def unfinished_operations(self, name: str) -> List[Mapping[str, Any]]:
        """The VM's operations not yet Completed, Failed or Superseded, oldest first."""
        listed = self.client.list(VIRTUAL_MACHINE_OPERATION.collection_path(self.namespace)).get("items") or []
        return unfinished(listed, name)

    def operate(self, name: str, operation: str, wait: bool = True) -> Optional[Dict[str, Any]]:
        """Bring the VM where ``operation`` takes it, as the platform allows beside the VM's other operations (another
        run's, or a killed run's module still going): an unfinished one the new one may not supersede is waited out
        first; a VM already there or on its way is waited for instead (a Restart always acts); a post that lost the
        race to another operation is decided again. Returns the operation created and completed (when asked to
        wait), or None when the VM got there without one. In check mode nothing is waited for."""
        ref = VIRTUAL_MACHINE.ref(name, self.namespace)
        deadline = time.monotonic() + self.timeout
        while True:
            vm = self.get_vm(name)
            refused = refusal(operation, ref, run_policy(vm))
            if refused:
                raise RunPolicyRefused(refused, vm_actions=self.actions)
            step = next_step(operation, cond.phase(vm) or "", self.unfinished_operations(name))
            if step.action == DONE_ALREADY or (step.action != POST and (self.check_mode or not wait)):
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeout("timed out after %ss waiting to %s %s: %s" % (
                    int(self.timeout), operation.lower(), ref, "; ".join(self.waits[-1:]) or "no progress"),
                    vm_actions=self.actions)
            if step.action == WAIT_OPERATION:
                self._wait_operation(ref, operation, step.target, remaining)
            elif step.action == POST:
                op = self._post(name, operation, wait, remaining)
                if op is not None:
                    return op
            else:
                self.waits.append("%s is on its way to %s" % (ref, step.target))
                self.wait_phase(name, step.target, timeout=remaining)

    def _wait_operation(self, ref: str, operation: str, op_name: str, timeout: float) -> None:
        """Wait for another unfinished operation of the VM, which the platform lets none but a superseding one
        pass."""
        self.waits.append("%s of %s waits for VirtualMachineOperation %s to finish first" % (operation, ref, op_name))
        self.tracker.note(self.waits[-1])
        tracker = self.tracker.child(VIRTUAL_MACHINE_OPERATION.ref(op_name, self.namespace))
        waiter = Waiter(self.client, VIRTUAL_MACHINE_OPERATION, op_name, self.namespace, on_update=tracker.update)
        waiter.wait((is_operation_finished, "finish"), timeout)

    def _post(self, name: str, operation: str, wait: bool, timeout: float) -> Optional[Dict[str, Any]]:
        """Create the operation and (when asked) wait for it to complete and the VM to reach the matching phase;
        None when it lost the race to another operation of the VM (refused, or Failed for that)."""
        ref = VIRTUAL_MACHINE.ref(name, self.namespace)
        started = time.monotonic()
        op_name = "%s-%s-%s" % (name[:40].rstrip("-"), operation.lower(), secrets.token_hex(3))
        body = {"apiVersion": API_VERSION, "kind": VIRTUAL_MACHINE_OPERATION.kind,
                "metadata": {"name": op_name, "namespace": self.namespace, "labels": dict(MANAGED_BY)},
                "spec": {"type": operation, "virtualMachineName": name}}
        try:
            op = self.client.create(VIRTUAL_MACHINE_OPERATION.collection_path(self.namespace), body)
        except ApiError as exc:
            if not lost_race(operation, exc.msg):
                raise
            self.waits.append("%s of %s was refused: %s" % (operation, ref, exc.msg))
            self.tracker.note(self.waits[-1])
            return None
        entry = self._record(name, operation, started, operation=op_name, check_mode=self.check_mode)
        if self.check_mode or not wait:
            entry["phase"] = cond.phase(op)
            return op
        self.tracker.note("%s of %s: VirtualMachineOperation %s" % (operation, ref, op_name))
        tracker = self.tracker.child(VIRTUAL_MACHINE_OPERATION.ref(op_name, self.namespace))
        waiter = Waiter(self.client, VIRTUAL_MACHINE_OPERATION, op_name, self.namespace, on_update=tracker.update)
        try:
            op = waiter.wait("vmop-completed", timeout, op) or {}
        except ObjectFailed as exc:
            entry.update(phase="Failed", duration=round(time.monotonic() - started, 3))
            done = cond.condition(exc.details.get("image"), "Completed") or {}
            if lost_race(operation, str(done.get("message") or ""), str(done.get("reason") or "")):
                entry["lost_race"] = True
                self.waits.append("%s of %s came second: %s" % (operation, ref, done.get("message")))
                self.tracker.note(self.waits[-1])
                return None
            raise ObjectFailed("%s on %s failed: %s" % (operation, ref, exc.msg), vm_actions=self.actions,
                               operation=exc.details.get("image"))
        self.wait_phase(name, TARGET_PHASE[operation], timeout=max(timeout - (time.monotonic() - started), 1.0))
        entry.update(phase="Completed", duration=round(time.monotonic() - started, 3))
        return op

    def set_run_policy(self, name: str, policy: str, wait_phase: Optional[str],
                       annotations: Optional[Dict[str, Optional[str]]] = None) -> None:
        """Patch spec.runPolicy (the only way to stop an AlwaysOn VM), with ``annotations`` in the same write (the
        stop mark), and wait for the resulting phase."""
        started = time.monotonic()
        self.tracker.note("runPolicy of %s set to %s" % (VIRTUAL_MACHINE.ref(name, self.namespace), policy))
        patch: Dict[str, Any] = {"spec": {"runPolicy": policy}}
        if annotations:
            patch["metadata"] = {"annotations": annotations}
        self.client.patch(self._vm_path(name), patch)
        entry = self._record(name, "SetRunPolicy", started, run_policy=policy, check_mode=self.check_mode)
        if wait_phase and not self.check_mode:
            self.wait_phase(name, wait_phase)
            entry["duration"] = round(time.monotonic() - started, 3)

    def annotate(self, name: str, annotations: Dict[str, Optional[str]]) -> None:
        """Write (or, with None values, remove) annotations of a VM: the stop mark."""
        self.client.patch(self._vm_path(name), {"metadata": {"annotations": annotations}})

    def marked(self, purpose: str) -> List[Tuple[str, StopMark]]:
        """(name, mark) of every VM of the namespace the module stopped for ``purpose`` and has not started yet."""
        found = []
        for vm in self.client.list(VIRTUAL_MACHINE.collection_path(self.namespace)).get("items") or []:
            mark = stop_mark(vm)
            if mark is not None and mark.purpose == purpose:
                found.append((vm["metadata"]["name"], mark))
        return found


class VmOperationRequest(NamedTuple):
    """One run of virtual_machine_operation, checked."""

    namespace: str
    name: str
    operation: str
    wait: bool = True
    wait_timeout: float = 1800.0

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "VmOperationRequest":
        """Every check before any request."""
        validate_vm_operation(params)
        return cls(namespace=params["namespace"], name=params["name"], operation=params["type"],
                   wait=params.get("wait") is not False, wait_timeout=float(params.get("wait_timeout") or 0))


def run_operation(client: Client, request: VmOperationRequest, tracker: Tracker) -> Dict[str, Any]:
    """virtual_machine_operation: Start/Stop are skipped when the VM is already there (or waited for when on its
    way); Restart always acts; another unfinished operation of the VM is waited out or superseded (..operations)."""
    started = time.monotonic()
    power = PowerControl(client, request.namespace, request.wait_timeout, tracker)
    name, operation = request.name, request.operation
    op = power.operate(name, operation, wait=request.wait)
    vm = power.get_vm(name)
    return {"changed": bool(power.actions), "operation": op, "vm_phase": cond.phase(vm),
            "run_policy": run_policy(vm), "vm_actions": power.actions,
            "duration": round(time.monotonic() - started, 3)}
