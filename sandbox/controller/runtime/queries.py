"""Questions one reconciler asks about objects of other kinds, answered from the cache.

Who uses an image, who uses a disk, which storage class a PVC gets: kept here (not in a
reconciler) so no reconciler needs another one to answer them.
"""
from __future__ import annotations

from ..model.kinds import CVI, PVC, STORAGECLASS, VDSNAP, VI, VM, Kind
from .cache import Cache

STOP_LIKE = ("Stopped",)
SCHEDULED = ("Starting", "Running", "Migrating", "Pause", "Degraded", "Stopping")
DEFAULT_SC_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


def image_users(cache: Cache, kind: Kind, ns: str | None, name: str) -> list[str]:
    """The VMs that mount the image, as the platform's image attachee handler finds them: the VM lists it in
    status.blockDeviceRefs and has a phase, other than Stopped (a VM without a phase yet does not count).
    A VI's users are VMs of its namespace, by name; a CVI's are VMs of every namespace, as "<ns>/<name>".
    Sorted, each VM once. Nothing else uses an image: not a disk or an image being made from it, on either
    line (the platform never fills a CVI's status.usedInNamespaces)."""
    out = set()
    for vm in cache.items(VM, ns if kind is VI else None):
        st = vm.get("status") or {}
        if st.get("phase") in (None, "", "Stopped"):
            continue
        if any(r.get("kind") == kind.kind and r.get("name") == name for r in st.get("blockDeviceRefs") or []):
            out.add(vm["metadata"]["name"] if kind is VI
                    else f"{vm['metadata']['namespace']}/{vm['metadata']['name']}")
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


def disk_storage_class(cache: Cache, vd: dict, pvc_name: str) -> tuple[str, tuple[bool, str, str]]:
    """A VirtualDisk's storage class and its StorageClassReady (status, reason, message), in the
    platform's order (vd StorageClassReadyHandler): the PVC's class once the PVC exists, else the spec's,
    else the cluster default. ("", ...) when there is none."""
    ns = vd["metadata"]["namespace"]
    pvc = cache.get(PVC, ns, pvc_name) if pvc_name else None
    classes = {sc["metadata"]["name"]: sc for sc in cache.items(STORAGECLASS)}
    spec_sc = ((vd.get("spec") or {}).get("persistentVolumeClaim") or {}).get("storageClassName")
    if pvc is not None and (pvc.get("spec") or {}).get("storageClassName"):
        name = pvc["spec"]["storageClassName"]
        sc = classes.get(name)
        if sc is None:
            return name, (False, "StorageClassNotReady",
                          f'The StorageClass "{name}" used by the underlying PersistentVolumeClaim was not found.')
        if sc["metadata"].get("deletionTimestamp"):
            return name, (False, "StorageClassNotReady", f'The StorageClass "{name}" used by the underlying '
                          "PersistentVolumeClaim is terminating and cannot be used.")
        return name, (True, "StorageClassReady", "")
    if spec_sc:
        sc = classes.get(spec_sc)
        if sc is None:
            return spec_sc, (False, "StorageClassNotReady", f'The specified StorageClass "{spec_sc}" was not found.')
        if sc["metadata"].get("deletionTimestamp"):
            return spec_sc, (False, "StorageClassNotReady",
                             f'The specified StorageClass "{spec_sc}" is terminating and cannot be used.')
        return spec_sc, (True, "StorageClassReady", "")
    for name, sc in classes.items():
        if (sc["metadata"].get("annotations") or {}).get(DEFAULT_SC_ANNOTATION) == "true":
            if sc["metadata"].get("deletionTimestamp"):
                return name, (False, "StorageClassNotReady",
                              f'The default StorageClass "{name}" is terminating and cannot be used.')
            return name, (True, "StorageClassReady", "")
    return "", (False, "StorageClassNotReady", "The default StorageClass was not found in either the cluster or the "
                "module settings. Please specify a StorageClass name explicitly in the spec.")


def late_binding(cache: Cache, storage_class: str) -> bool:
    """The class binds volumes only for their first consumer (volumeBindingMode WaitForFirstConsumer)."""
    sc = cache.get(STORAGECLASS, None, storage_class) if storage_class else None
    return sc is not None and sc.get("volumeBindingMode") == "WaitForFirstConsumer"


def disk_scheduled(cache: Cache, ns: str, name: str) -> bool:
    """A VM using the disk (spec.blockDeviceRefs) got a node: its pod is the disk's first consumer."""
    for vm in cache.items(VM, ns):
        if ((vm.get("status") or {}).get("phase") or "Pending") not in SCHEDULED:
            continue
        if any(r.get("kind") == "VirtualDisk" and r.get("name") == name
               for r in (vm.get("spec") or {}).get("blockDeviceRefs") or []):
            return True
    return False


def images_from_disk(cache: Cache, ns: str, name: str) -> list[str]:
    """Images being made from the disk (VI, then CVI; Pending or Provisioning with an ObjectRef to it), as the
    vd InUse handler names them: `VirtualImage "<name>"`. Like the platform, a CVI's objectRef namespace is not
    compared."""
    out = []
    for kind in (VI, CVI):
        names = sorted(
            obj["metadata"]["name"] for obj in cache.items(kind, ns if kind is VI else None)
            if ((obj.get("status") or {}).get("phase") in ("Pending", "Provisioning")
                and ((obj.get("spec") or {}).get("dataSource") or {}).get("type") == "ObjectRef"
                and (obj["spec"]["dataSource"].get("objectRef") or {}).get("kind") == "VirtualDisk"
                and obj["spec"]["dataSource"]["objectRef"].get("name") == name))
        out += [f'{kind.kind} "{n}"' for n in names]
    return out


def snapshots_of(cache: Cache, ns: str, disk: str) -> list[dict]:
    """VirtualDiskSnapshots taken of the disk."""
    return [s for s in cache.items(VDSNAP, ns) if (s.get("spec") or {}).get("virtualDiskName") == disk]
