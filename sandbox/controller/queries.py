"""Questions one reconciler asks about objects of other kinds, answered from the cache.

Who uses an image, who uses a disk, which storage class a PVC gets: kept here (not in a
reconciler) so no reconciler needs another one to answer them.
"""
from __future__ import annotations

from .cache import Cache
from .kinds import STORAGECLASS, VI, VM, Kind

STOP_LIKE = ("Stopped",)
DEFAULT_SC_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


def image_users(cache: Cache, kind: Kind, ns: str | None, name: str) -> list[str]:
    """VMs (not Stopped) whose spec.blockDeviceRefs name this image."""
    out = []
    for vm in cache.items(VM, ns if kind is VI else None):
        if ((vm.get("status") or {}).get("phase") or "Pending") == "Stopped":
            continue
        for ref in (vm.get("spec") or {}).get("blockDeviceRefs") or []:
            if ref.get("kind") == kind.kind and ref.get("name") == name:
                out.append(vm["metadata"]["name"] if kind is VI
                           else f"{vm['metadata']['namespace']}/{vm['metadata']['name']}")
                break
    return sorted(out)


def disk_users(cache: Cache, ns: str, name: str) -> list[tuple[str, bool]]:
    """(vm name, mounted) for every VM listing the disk in status.blockDeviceRefs."""
    out = []
    for vm in cache.items(VM, ns):
        refs = (vm.get("status") or {}).get("blockDeviceRefs") or []
        if any(r.get("kind") == "VirtualDisk" and r.get("name") == name for r in refs):
            phase = (vm.get("status") or {}).get("phase") or "Pending"
            out.append((vm["metadata"]["name"], phase not in STOP_LIKE))
    return out


def disk_mounted(cache: Cache, ns: str, name: str) -> bool:
    return any(mounted for _, mounted in disk_users(cache, ns, name))


def storage_class_for(cache: Cache, obj: dict) -> tuple[str | None, tuple[str, str]]:
    """The storage class the object's PVC gets, or None and the StorageClassReady (reason, message)."""
    wanted = ((obj.get("spec") or {}).get("persistentVolumeClaim") or {}).get("storageClassName")
    classes = cache.items(STORAGECLASS)
    if wanted:
        if any(sc["metadata"]["name"] == wanted for sc in classes):
            return wanted, ("", "")
        return None, ("StorageClassNotFound", f'Storage class "{wanted}" not found.')
    for sc in classes:
        if (sc["metadata"].get("annotations") or {}).get(DEFAULT_SC_ANNOTATION) == "true":
            return sc["metadata"]["name"], ("", "")
    return None, ("StorageClassNotFound", "The default storage class was not found in the cluster.")
