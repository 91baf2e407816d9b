"""What was last asked of each VM's power, shared by the VirtualMachine and the
VirtualMachineOperation reconcilers (a VMOP Start/Stop/Restart changes what the VM wants).
"""
from __future__ import annotations

from dataclasses import dataclass, field

RUNNING_LIKE = ("Running", "Starting", "Migrating", "Pause", "Degraded")


@dataclass
class Power:
    # VM uid -> wants to run (Manual / AlwaysOnUnlessStoppedManually)
    wanted: dict[str, bool] = field(default_factory=dict)
    # VM uids in a Restart VMOP's stop half
    restarting: set[str] = field(default_factory=set)

    def wants_running(self, vm: dict) -> bool:
        """By runPolicy; for the manual policies the last request, else what the VM's phase says."""
        uid = vm["metadata"]["uid"]
        policy = (vm.get("spec") or {}).get("runPolicy") or "AlwaysOnUnlessStoppedManually"
        if policy == "AlwaysOn":
            return True
        if policy == "AlwaysOff":
            return False
        if uid not in self.wanted:
            phase = (vm.get("status") or {}).get("phase")
            if phase in RUNNING_LIKE:
                self.wanted[uid] = True
            elif phase in ("Stopped", "Stopping"):
                self.wanted[uid] = False
            else:
                self.wanted[uid] = policy == "AlwaysOnUnlessStoppedManually"
        return self.wanted[uid]


@dataclass
class Freezes:
    """Whose guest filesystem is frozen, and for which VirtualDiskSnapshots (shared by the VirtualMachine
    and VirtualDiskSnapshot reconcilers: the snapshot freezes, the VM shows FilesystemFrozen)."""
    # VM uid -> uids of the snapshots that froze it
    held: dict[str, set[str]] = field(default_factory=dict)

    def freeze(self, vm_uid: str, snap_uid: str) -> None:
        self.held.setdefault(vm_uid, set()).add(snap_uid)

    def thaw(self, vm_uid: str, snap_uid: str) -> bool:
        """Let go of the snapshot's freeze; True when the filesystem thaws (no other snapshot holds it)."""
        holders = self.held.get(vm_uid)
        if holders is None:
            return False
        holders.discard(snap_uid)
        if holders:
            return False
        del self.held[vm_uid]
        return True

    def frozen(self, vm_uid: str) -> bool:
        return vm_uid in self.held

    def drop_vm(self, vm_uid: str) -> None:
        """The guest is gone (stopped): nothing stays frozen."""
        self.held.pop(vm_uid, None)
