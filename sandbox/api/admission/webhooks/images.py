"""vi.* and cvi.* webhooks: names, the deprecated storage, a PVC-backed image's storage class, changes after
provisioning."""
from __future__ import annotations

from .base import Denied, Review, dot_in_name, dot_in_name_warning, get
from .classes import check_default_class, check_named_class

# Phases in which the image counts as provisioned (the platform contract adds PVCLost).
_PROVISIONED = {"Ready", "ImageLost", "PVCLost"}
_ON_PVC = ("Kubernetes", "PersistentVolumeClaim")


def check_vi(r: Review) -> list[str]:
    spec = r.spec()
    if r.operation == "CREATE":
        if "." in r.name:
            raise Denied(dot_in_name("VirtualImage", r.name))
        if spec.get("storage") == "Kubernetes":
            return ["Using the `Kubernetes` storage type is deprecated. It is recommended to use "
                    "`PersistentVolumeClaim` instead."]
        if spec.get("storage") == "PersistentVolumeClaim":
            _check_class(r, "storage class")
        return []
    if not r.generation_changed():
        return []
    if r.ready() or r.phase() in _PROVISIONED:
        if spec.get("dataSource") != r.old_spec().get("dataSource"):
            raise Denied("data source cannot be changed if the VirtualImage has already been provisioned")
        if get(spec, "persistentVolumeClaim", "storageClassName") != get(
                r.old_spec(), "persistentVolumeClaim", "storageClassName"):
            raise Denied("storage class cannot be changed if the VirtualImage has already been provisioned")
    elif r.phase() == "Terminating" and spec != r.old_spec():
        raise Denied("spec cannot be changed if the VirtualImage is the process of termination")
    elif r.phase() == "Pending" and spec.get("storage") in _ON_PVC:
        _check_class(r, "target storage class")
    if "." in r.name:
        return [dot_in_name_warning("VirtualImage", r.name, "image", leading_space=True)]
    return []


def _check_class(r: Review, what: str) -> None:
    """vi/vi_webhook.go (v1.10.2 and main): an image on a PVC names an existing class, or the cluster has a
    default one. On create a `Kubernetes` image returns with its deprecation warning before these checks; a
    Pending one is checked on both PVC storages."""
    check_named_class(r, what)
    check_default_class(r)


def check_cvi(r: Review) -> list[str]:
    if r.operation == "CREATE":
        if "." in r.name:
            raise Denied(dot_in_name("ClusterVirtualImage", r.name))
        return []
    if not r.generation_changed():
        return []
    if r.phase() == "Ready" or r.ready():
        raise Denied("ClusterVirtualImage is in a Ready state: configuration changes are not available")
    if "." in r.name:
        return [dot_in_name_warning("ClusterVirtualImage", r.name, "image")]
    return []
