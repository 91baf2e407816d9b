"""The platform's rules for VirtualMachineOperations of one VM that meet: which are finished, which is older, and
which new operation may supersede an unfinished one (vmop/supersede/supersede.go, common/vmop/vmop.go; the same
at v1.10.2 and main).

A leaf: the API server's vmop webhook refuses by these rules, the controller supersedes by them.
"""
from __future__ import annotations

FINISHED_PHASES = ("Completed", "Failed", "Superseded")
# The message of the webhook's refusal (vmop_webhook.go activeVMOPValidator), with the older operation's name.
REFUSED = 'VMOP cannot be executed now. Previously created operation "{name}" should finish first'
# What the controller writes on an operation it will not execute (service.go setNotReadyToBeExecuted).
NOT_READY_REASON = "NotReadyToBeExecuted"
NOT_READY_MESSAGE = "VMOP cannot be executed now. Previously created operation should finish first."


def is_finished(op: dict) -> bool:
    return ((op.get("status") or {}).get("phase") or "") in FINISHED_PHASES


def _spec(op: dict) -> dict:
    return op.get("spec") or {}


def vm_of(op: dict) -> str:
    return _spec(op).get("virtualMachineName") or ""


def can_supersede(old: dict, new: dict) -> bool:
    """True when ``new`` may replace the unfinished ``old`` for the same VM: a Stop ends a Start, Migrate or Evict;
    a Restart ends a Migrate or Evict; a forced Stop or Restart ends an unforced Stop or Restart."""
    if vm_of(old) != vm_of(new):
        return False
    old_type, new_type = _spec(old).get("type"), _spec(new).get("type")
    old_force, new_force = bool(_spec(old).get("force")), bool(_spec(new).get("force"))
    if old_type == "Start":
        return new_type == "Stop"
    if old_type in ("Stop", "Restart"):
        return not old_force and new_force and new_type in ("Stop", "Restart")
    if old_type in ("Migrate", "Evict"):
        return new_type in ("Stop", "Restart")
    return False


def _age(op: dict) -> tuple[str, str]:
    """Creation time, then name: how the platform orders operations created in the same second."""
    md = op.get("metadata") or {}
    return md.get("creationTimestamp") or "", md.get("name") or ""


def older_unfinished(op: dict, others: list[dict]) -> list[dict]:
    """The unfinished operations of ``op``'s VM created before it, oldest first (service.go findOlderActiveVMOPs)."""
    uid = (op.get("metadata") or {}).get("uid")
    found = [o for o in others if vm_of(o) == vm_of(op) and not is_finished(o)
             and (o.get("metadata") or {}).get("uid") != uid and _age(o) < _age(op)]
    return sorted(found, key=_age)


def first_blocker(new: dict, others: list[dict]) -> dict | None:
    """The first unfinished operation of the same VM that ``new`` may not supersede (the webhook's check at create:
    every unfinished one counts, whatever its age)."""
    for other in others:
        if vm_of(other) == vm_of(new) and not is_finished(other) and not can_supersede(other, new):
            return other
    return None
