"""VirtualDisk and VirtualDiskSnapshot."""
from __future__ import annotations

from .common import QUANTITY_PATTERN, conditions, data_source, download_speed, upload_urls
from .dsl import Schema, array, boolean, integer, int_or_string, obj, resource, string


def virtual_disk(line: str) -> Schema:
    spec = obj({
        "dataSource": data_source(
            obj({"kind": string(enum=["ClusterVirtualImage", "VirtualImage", "VirtualDiskSnapshot"]),
                 "name": string(min_len=1)}, required=["kind", "name"]),
            line,
            secret_namespace=False,
            type_required=False,
        ),
        "persistentVolumeClaim": obj({
            "size": int_or_string(pattern=QUANTITY_PATTERN),
            "storageClassName": string(),
        }),
    })
    status = obj({
        "attachedToVirtualMachines": array(obj({"mounted": boolean(), "name": string()})),
        "capacity": string(),
        "conditions": conditions(),
        "downloadSpeed": download_speed(),
        "imageUploadURLs": upload_urls(),
        "migrationState": obj({
            "endTimestamp": string(fmt="date-time"),
            "message": string(),
            "result": string(enum=["Succeeded", "Failed"]),
            "sourcePVC": string(),
            "startTimestamp": string(fmt="date-time"),
            "targetPVC": string(),
        }),
        "observedGeneration": integer(fmt="int64"),
        "phase": string(enum=["Pending", "Provisioning", "WaitForUserUpload", "WaitForFirstConsumer", "Ready",
                              "Resizing", "Failed", "PVCLost", "Exporting", "Terminating", "Migrating"]),
        "progress": string(),
        "sourceUID": string(),
        "stats": obj({"creationDuration": obj({
            k: string(nullable=True)
            for k in ("dvcrProvisioning", "totalProvisioning", "waitingForDependencies", "waitingForFirstConsumer")
        })}),
        "storageClassName": string(),
        "target": obj({"persistentVolumeClaimName": string()}),
        "uploadCommand": string(),
    })
    return resource(spec, status)


def virtual_disk_snapshot(line: str) -> Schema:
    spec = obj(
        {"virtualDiskName": string(min_len=1), "requiredConsistency": boolean(default=True)},
        required=["virtualDiskName"],
    )
    status = obj({
        "conditions": conditions(),
        "volumeSnapshotName": string(),
        "consistent": boolean(),
        "phase": string(enum=["Pending", "InProgress", "Ready", "Failed", "Terminating"]),
        "observedGeneration": integer(),
    })
    return resource(spec, status)
