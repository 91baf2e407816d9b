# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""How an operation on a VM goes beside the other operations of the same VM: decisions only, no requests.

The platform admits a new VirtualMachineOperation only when every unfinished one of the same VM may be superseded
by it (a Stop supersedes a Start, Migrate or Evict; a Restart a Migrate or Evict; the module never forces), and
refuses it otherwise with `VMOP cannot be executed now. Previously created operation "<x>" should finish first`.
Two runs (a killed run's module still going, and its re-run) may ask the same VM at once; whichever loses must
reach the same end as the winner, so a refusal or failure that only says another operation got there first means
"wait for that one, then decide again", never an error.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, List, Mapping, NamedTuple, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.waiter import DONE, WAIT, Verdict
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond

FINISHED_PHASES = ("Completed", "Failed", "Superseded")
# The phase a VM is in once each operation is done, and the phase it passes on its way there.
TARGET_PHASE = {"Start": "Running", "Stop": "Stopped", "Restart": "Running"}
ON_THE_WAY = {"Start": "Starting", "Stop": "Stopping"}
# The platform's words for an operation refused or failed because another one of the VM is unfinished.
SHOULD_FINISH_FIRST = "should finish first"
NOT_READY_REASON = "NotReadyToBeExecuted"
_NOT_APPLICABLE_IN_PHASE = re.compile(r"is not applicable for VirtualMachine in phase (\w+)")

POST, DONE_ALREADY, WAIT_OPERATION, WAIT_PHASE = "post", "done", "wait-operation", "wait-phase"


class Step(NamedTuple):
    """What to do next: ``post`` the operation, ``done`` (the VM is there), ``wait-operation`` (the unfinished
    operation named ``target`` first) or ``wait-phase`` (for the VM to reach the phase ``target``)."""

    action: str
    target: str = ""


def _spec(op: Mapping[str, Any]) -> Mapping[str, Any]:
    return op.get("spec") or {}


def is_finished(op: Optional[Mapping[str, Any]]) -> bool:
    return cond.phase(op) in FINISHED_PHASES


def unfinished(ops: Iterable[Mapping[str, Any]], vm_name: str) -> List[Mapping[str, Any]]:
    """The unfinished operations of a VM, oldest first (creation time, then name, as the platform orders them)."""
    found = [op for op in ops if _spec(op).get("virtualMachineName") == vm_name and not is_finished(op)]
    return sorted(found, key=lambda op: ((op.get("metadata") or {}).get("creationTimestamp") or "",
                                         (op.get("metadata") or {}).get("name") or ""))


def supersedes(operation: str, old: Mapping[str, Any]) -> bool:
    """True when the platform lets an unforced ``operation`` supersede the unfinished ``old`` one."""
    old_type = _spec(old).get("type")
    if old_type == "Start":
        return operation == "Stop"
    if old_type in ("Migrate", "Evict"):
        return operation in ("Stop", "Restart")
    return False


def next_step(operation: str, vm_phase: str, pending: Iterable[Mapping[str, Any]]) -> Step:
    """The next step towards what ``operation`` does, given the VM's phase and its unfinished operations: an
    operation the new one may not supersede is waited out; one it may supersede is, by posting (whatever the phase:
    left alone it would move the VM away); else a VM already there, or on its way, needs no operation (a Restart
    always acts), and a Start waits for a VM still stopping."""
    superseding = False
    for op in pending:
        if not supersedes(operation, op):
            return Step(WAIT_OPERATION, str((op.get("metadata") or {}).get("name") or ""))
        superseding = True
    if operation != "Restart" and not superseding:
        target = TARGET_PHASE[operation]
        if vm_phase == target:
            return Step(DONE_ALREADY, target)
        if vm_phase == ON_THE_WAY[operation]:
            return Step(WAIT_PHASE, target)
        if operation == "Start" and vm_phase == "Stopping":
            return Step(WAIT_PHASE, "Stopped")
    return Step(POST)


def lost_race(operation: str, message: str, reason: str = "") -> bool:
    """True when a refusal (``message``) or a Failed operation (its Completed ``reason`` and ``message``) says only
    that another operation of the VM came first: still unfinished, or already bringing the VM where this one
    goes."""
    if SHOULD_FINISH_FIRST in message or reason == NOT_READY_REASON:
        return True
    found = _NOT_APPLICABLE_IN_PHASE.search(message)
    return bool(found) and operation in ON_THE_WAY and found.group(1) in (ON_THE_WAY[operation],
                                                                          TARGET_PHASE[operation])


def is_operation_finished(obj: Optional[Mapping[str, Any]]) -> Verdict:
    """Waiter predicate: another run's operation finished, however it ended (or was deleted)."""
    return Verdict(DONE) if obj is None or is_finished(obj) else Verdict(WAIT)
