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
