"""VirtualImage and ClusterVirtualImage."""
from __future__ import annotations

from .common import conditions, data_source, download_speed, image_size, upload_urls
from .dsl import Schema, array, boolean, integer, obj, resource, rule, string

_IMAGE_PHASES = ["Pending", "Provisioning", "WaitForUserUpload", "Ready", "Failed", "Terminating", "ImageLost"]
_REF_KINDS = ["ClusterVirtualImage", "VirtualImage", "VirtualDisk", "VirtualDiskSnapshot"]


def _image_status(phases: list[str], extra: dict[str, Schema], target: dict[str, Schema]) -> Schema:
    props: dict[str, Schema] = {
        "cdrom": boolean(),
        "conditions": conditions(),
        "downloadSpeed": download_speed(),
        "format": string(),
        "imageUploadURLs": upload_urls(),
        "observedGeneration": integer(fmt="int64"),
        "phase": string(enum=phases),
        "progress": string(),
        "size": image_size(),
        "sourceUID": string(),
        "target": obj(target),
        "uploadCommand": string(),
    }
    props.update(extra)
    return obj(props)


def virtual_image(line: str) -> Schema:
    spec = obj(
        {
            "dataSource": data_source(
                obj({"kind": string(enum=_REF_KINDS), "name": string(min_len=1)}, required=["kind", "name"]),
                line,
                secret_namespace=False,
                type_required=False,
            ),
            "persistentVolumeClaim": obj({"storageClassName": string()}),
            "storage": string(enum=["ContainerRegistry", "Kubernetes", "PersistentVolumeClaim"],
                              default="ContainerRegistry"),
        },
        required=["dataSource", "storage"],
    )
    status = _image_status(
        _IMAGE_PHASES + ["PVCLost"],
        {"storageClassName": string()},
        {"persistentVolumeClaimName": string(), "registryURL": string()},
    )
    return resource(spec, status)


_NAMESPACED_REF = "self.kind == 'VirtualImage' || self.kind == 'VirtualDisk' || self.kind == 'VirtualDiskSnapshot'"


def cluster_virtual_image(line: str) -> Schema:
    # `namespace` is a CEL reserved word: the apiserver exposes the field as `__namespace__`.
    object_ref = obj(
        {"kind": string(enum=_REF_KINDS), "name": string(min_len=1), "namespace": string()},
        required=["kind", "name"],
        rules=[
            rule(f"{_NAMESPACED_REF} ? has(self.__namespace__) && size(self.__namespace__) > 0 : true",
                 "The namespace is required for VirtualDisk, VirtualImage and VirtualDiskSnapshot"),
            rule(f"{_NAMESPACED_REF} ? has(self.__namespace__) && size(self.__namespace__) < 64 : true",
                 "The namespace must be no longer than 63 characters."),
        ],
    )
    spec = obj(
        {"dataSource": data_source(object_ref, line, secret_namespace=True, type_required=True)},
        required=["dataSource"],
    )
    status = _image_status(
        _IMAGE_PHASES,
        {"usedInNamespaces": array(string())},
        {"registryURL": string()},
    )
    return resource(spec, status)
