"""Which VM a VirtualDisk counts as mounted by (vd InUseHandler.updateAttachedVirtualMachinesStatus, the same on
v1.10.2 and main): every VM referencing the disk is listed in `status.attachedToVirtualMachines`, but at most one
is `mounted: true`. The one mounted before keeps it while it still uses the disk; otherwise the first VM that
uses it takes it (the platform walks a Go map, in no fixed order; the sandbox takes the VMs in the order given).
"""
from __future__ import annotations


def one_mounted(users: list[tuple[str, bool]], attached_before: list[dict] | None) -> list[tuple[str, bool]]:
    """(vm name, mounted) for each VM referencing the disk, ``users`` saying which of them use it now and
    ``attached_before`` the disk's previous `status.attachedToVirtualMachines`."""
    before = next((vm.get("name") for vm in attached_before or [] if vm.get("mounted")), None)
    keeper = before if (before, True) in users else next((name for name, using in users if using), None)
    return [(name, name == keeper) for name, _using in users]
