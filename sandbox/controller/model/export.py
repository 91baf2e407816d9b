"""A data export of a VirtualDisk as the platform's vd controller sees it; the export itself belongs to the storage
module (issue #29 will model it). The storage module marks the disk's PVC with a data-export request annotation; the
vd InUseHandler then reports InUse `UsedForDataExport` (when no VM mounts the disk and no image is made from it),
and the ReadyStep turns a disk whose PVC is `Lost` under that request `Exporting` (a PVC lost without one makes the
disk PVCLost). Upstream: `vd/internal/inuse.go`, `vd/internal/source/step/ready_step.go`,
`pkg/common/annotations/annotations.go`; v1.10.2 knows one annotation key and gives InUse no message, main also
reads the storage module's renamed key.
"""
from __future__ import annotations

from ...platform import V1_10

EXPORTING = "Exporting"                 # the disk's phase, and its Ready reason, while its volume is exported
USED_FOR_DATA_EXPORT = "UsedForDataExport"
EXPORTING_MESSAGE = "The VirtualDisk is being exported."
IN_USE_MESSAGE = "The VirtualDisk is in use by a data export request; the export must finish to release the disk."
LEGACY_REQUEST = "storage.deckhouse.io/data-export-request"
REQUEST_KEYS = {V1_10: (LEGACY_REQUEST,)}
CURRENT_REQUEST_KEYS = ("storage-foundation.deckhouse.io/data-export-request", LEGACY_REQUEST)


def export_requested(pvc: dict | None, platform: str) -> bool:
    """The PVC carries the line's data-export request annotation set to "true"."""
    annotations = ((pvc or {}).get("metadata") or {}).get("annotations") or {}
    return any(annotations.get(key) == "true" for key in REQUEST_KEYS.get(platform, CURRENT_REQUEST_KEYS))


def in_use_message(platform: str) -> str:
    """The InUse message of a disk held by an export: none on v1.10."""
    return "" if platform == V1_10 else IN_USE_MESSAGE
