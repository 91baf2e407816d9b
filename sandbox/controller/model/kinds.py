"""The kinds the controller reads and writes, and where each lives in the API.

A leaf: imports nothing of the sandbox, so every controller module can name a kind.
"""
from __future__ import annotations

from dataclasses import dataclass

GROUP = "virtualization.deckhouse.io/v1alpha2"


@dataclass(frozen=True)
class Kind:
    """Where a resource lives in the API."""
    kind: str
    plural: str
    api: str  # "v1" for core, "group/version" otherwise
    namespaced: bool = True

    def path(self, ns: str | None = None, name: str | None = None, sub: str | None = None) -> str:
        base = "/api/v1" if self.api == "v1" else f"/apis/{self.api}"
        if self.namespaced and ns:
            base += f"/namespaces/{ns}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
        if sub:
            base += f"/{sub}"
        return base


VI = Kind("VirtualImage", "virtualimages", GROUP)
CVI = Kind("ClusterVirtualImage", "clustervirtualimages", GROUP, namespaced=False)
VD = Kind("VirtualDisk", "virtualdisks", GROUP)
VDSNAP = Kind("VirtualDiskSnapshot", "virtualdisksnapshots", GROUP)
VM = Kind("VirtualMachine", "virtualmachines", GROUP)
VMOP = Kind("VirtualMachineOperation", "virtualmachineoperations", GROUP)
SECRET = Kind("Secret", "secrets", "v1")
PVC = Kind("PersistentVolumeClaim", "persistentvolumeclaims", "v1")
EVENT = Kind("Event", "events", "v1")
STORAGECLASS = Kind("StorageClass", "storageclasses", "storage.k8s.io/v1", namespaced=False)
