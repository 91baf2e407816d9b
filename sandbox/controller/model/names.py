"""How the controller names what it makes for an object: DVCR repositories, PVCs, finalizers.

A leaf (imports nothing but the kinds), so the reconcilers and the import machinery agree on
every name without importing each other.
"""
from __future__ import annotations

from .kinds import VI, Kind

FINALIZER_PREFIX = "virtualization.deckhouse.io/"


def image_finalizers(kind: Kind) -> tuple[str, str]:
    """(cleanup, protection) finalizers of a VirtualImage / ClusterVirtualImage."""
    short = "vi" if kind is VI else "cvi"
    return FINALIZER_PREFIX + f"{short}-cleanup", FINALIZER_PREFIX + f"{short}-protection"


def dvcr_repo(kind: Kind, ns: str | None, name: str) -> str:
    """The image's repository in DVCR (the tag is its UID)."""
    return f"vi/{ns}/{name}" if kind is VI else f"cvi/{name}"


def image_repo(kind: Kind, obj: dict) -> str:
    """dvcr_repo of a VirtualImage / ClusterVirtualImage object."""
    md = obj["metadata"]
    return dvcr_repo(kind, md.get("namespace"), md["name"])


def image_pvc(obj: dict) -> str:
    """The PVC of a VirtualImage with PersistentVolumeClaim storage."""
    md = obj["metadata"]
    return f"d8v-vi-{md['name']}-{md['uid']}"


def disk_pvc(vd: dict) -> str:
    """The PVC of a VirtualDisk (the platform's supplements name `d8v-vd-<name>-<uid>`)."""
    md = vd["metadata"]
    return f"d8v-vd-{md['name']}-{md['uid']}"


def volume_snapshot(snap: dict) -> str:
    """The VolumeSnapshot of a VirtualDiskSnapshot (status.volumeSnapshotName)."""
    md = snap["metadata"]
    return f"d8v-vds-{md['name']}-{md['uid']}"
