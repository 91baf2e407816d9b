"""The VirtualDisk webhook's warnings about its source (vd/internal/validator/pvc_size_validator.go and
iso_source_validator.go; the same on v1.10.2 and main): a size smaller than a Ready source image's unpacked bytes,
and an ISO image as the source. Both only warn: the disk is stored, and its import fails later.

A disk made from a VirtualDiskSnapshot is sized from the snapshot's VolumeSnapshot (its restoreSize); the sandbox
keeps no VolumeSnapshot objects, so, as the platform does when that object is missing, it gives no warning there.
"""
from __future__ import annotations

from ..pvcsize import ZERO_SIZE, capitalized, pvc_size_error
from ..quantity import Quantity
from .base import Denied, Review, get

ISO_SOURCE_NOT_SUPPORTED = ("creating a virtual disk from an ISO image is not supported: please use a virtual "
                            "image or a cluster virtual image instead")
_IMAGE_KINDS = ("VirtualImage", "ClusterVirtualImage")


def source_warnings(r: Review) -> list[str]:
    """The warnings in the validators' order: the size one (on create, and on an update that changes the size),
    then the ISO one (on every create and update)."""
    image = _ready_image(r)
    if image is None:
        return []
    warnings = []
    status = image.get("status") or {}
    size = get(r.spec(), "persistentVolumeClaim", "size")
    old_size = get(r.old_spec(), "persistentVolumeClaim", "size")
    unpacked = (status.get("size") or {}).get("unpackedBytes")
    if unpacked and (r.operation == "CREATE" and size is not None or r.operation == "UPDATE" and size != old_size):
        error = pvc_size_error(Quantity(str(size if size is not None else 0)), int(Quantity(str(unpacked)).value))
        if error == ZERO_SIZE:
            raise Denied(error)
        if error:
            warnings.append(capitalized(error))
    if str(status.get("format") or "").lower() == "iso":
        warnings.append(capitalized(ISO_SOURCE_NOT_SUPPORTED))
    return warnings


def _ready_image(r: Review) -> dict | None:
    """The source VirtualImage or ClusterVirtualImage when it is Ready (NewDVCRDataSourcesForVMD's IsReady)."""
    source = r.spec().get("dataSource") or {}
    ref = source.get("objectRef") or {}
    if source.get("type") != "ObjectRef" or ref.get("kind") not in _IMAGE_KINDS or r.lookup is None:
        return None
    namespace = r.namespace if ref["kind"] == "VirtualImage" else ""
    image = r.lookup(ref["kind"], namespace, ref.get("name") or "") if ref.get("name") else None
    if image is None or (image.get("status") or {}).get("phase") != "Ready":
        return None
    return image
