"""The vd and vi webhooks' storage-class rules (vd storage_class_validator.go, vi_webhook.go; the same at v1.10.2
and main): a disk's class changed past Pending is a volume migration, which the CE build the sandbox claims
refuses; an image on a PVC names an existing class or needs a default one."""
from __future__ import annotations

import copy

import pytest

from _admission_support import HTTP_VI, create, obj, request
from sandbox.api.admission import AdmissionError, admit
from test_admission_webhooks import denial, with_status

MIGRATION_OFF = 'storage class cannot be changed if volume migration is not enabled (EDITION="CE")'
NO_DEFAULT = ("the default storage class was not found in either the cluster or the module settings; please "
              "specify a storage class name explicitly in the spec")


def _class(name: str, default: bool = False) -> dict:
    md: dict = {"name": name}
    if default:
        md["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    return {"kind": "StorageClass", "metadata": md}


def _admit(operation: str, new: dict, old: dict | None = None, classes: tuple[dict, ...] = ()) -> AdmissionError | None:
    """Admit with a cluster that holds ``classes``; the refusal, or None when admitted."""
    req = request(operation, new, old)
    by_name = {c["metadata"]["name"]: c for c in classes}
    req.lookup = lambda kind, ns, name: by_name.get(name) if kind == "StorageClass" else None
    req.listing = lambda kind, ns: list(classes) if kind == "StorageClass" else []
    try:
        admit(req)
    except AdmissionError as exc:
        return exc
    return None


def _disk(phase: str, sc: str | None = "a", ready: bool | None = None) -> dict:
    claim: dict = {"size": "1Gi"}
    if sc is not None:
        claim["storageClassName"] = sc
    return with_status(create(obj("VirtualDisk", {"persistentVolumeClaim": claim})).obj, phase, ready)


def _moved(disk: dict, sc: str | None) -> dict:
    out = copy.deepcopy(disk)
    if sc is None:
        del out["spec"]["persistentVolumeClaim"]["storageClassName"]
    else:
        out["spec"]["persistentVolumeClaim"]["storageClassName"] = sc
    return out


CLASSES = (_class("a", default=True), _class("b"))


@pytest.mark.parametrize("phase", ["", "Provisioning", "WaitForFirstConsumer", "WaitForUserUpload", "Failed",
                                   "Ready", "Resizing", "Migrating", "PVCLost"])
def test_a_disk_class_changed_past_pending_is_refused_as_a_volume_migration(phase: str) -> None:
    old = _disk(phase)
    err = _admit("UPDATE", _moved(old, "b"), old, CLASSES)
    assert err is not None and err.status == denial("vd", MIGRATION_OFF)


def test_a_class_first_named_past_pending_is_a_change_too() -> None:
    """A disk made on the default class (none in its spec) that names that same class later: the spec changed."""
    old = _disk("Ready", sc=None, ready=True)
    err = _admit("UPDATE", _moved(old, "a"), old, CLASSES)
    assert err is not None and err.status == denial("vd", MIGRATION_OFF)


def test_a_pending_disk_moves_to_an_existing_class_and_a_class_may_be_dropped_later() -> None:
    pending = _disk("Pending")
    assert _admit("UPDATE", _moved(pending, "b"), pending, CLASSES) is None
    err = _admit("UPDATE", _moved(pending, "gone"), pending, CLASSES)
    assert err is not None and err.status == denial("vd", 'target storage class "gone" not found')
    ready = _disk("Ready", ready=True)
    assert _admit("UPDATE", _moved(ready, None), ready, CLASSES) is None
    grown = copy.deepcopy(ready)
    grown["spec"]["persistentVolumeClaim"]["size"] = "2Gi"
    assert _admit("UPDATE", grown, ready, CLASSES) is None


def test_size_cannot_change_while_migrating() -> None:
    old = _disk("Migrating")
    grown = copy.deepcopy(old)
    grown["spec"]["persistentVolumeClaim"]["size"] = "2Gi"
    err = _admit("UPDATE", grown, old, CLASSES)
    assert err is not None and err.status == denial(
        "vd", "spec.persistentVolumeClaim.size cannot be changed during migration. Please wait for the migration "
              "to finish")


def _image(sc: str | None, storage: str = "PersistentVolumeClaim") -> dict:
    spec: dict = {**HTTP_VI, "storage": storage}
    if sc is not None:
        spec["persistentVolumeClaim"] = {"storageClassName": sc}
    return obj("VirtualImage", spec)


def test_an_image_on_a_pvc_names_an_existing_class_or_has_a_default() -> None:
    err = _admit("CREATE", _image("gone"), classes=CLASSES)
    assert err is not None and err.status == denial("vi", 'storage class "gone" not found')
    err = _admit("CREATE", _image(None), classes=(_class("b"),))
    assert err is not None and err.status == denial("vi", NO_DEFAULT)
    assert _admit("CREATE", _image(None), classes=CLASSES) is None
    assert _admit("CREATE", _image("b"), classes=(_class("b"),)) is None


def test_registry_and_kubernetes_images_skip_the_class_checks_at_create() -> None:
    assert _admit("CREATE", _image("gone", storage="ContainerRegistry")) is None
    assert _admit("CREATE", _image("gone", storage="Kubernetes")) is None


def test_a_pending_image_moved_to_a_missing_class_or_to_no_default_is_refused() -> None:
    old = with_status(create(_image("b")).obj, "Pending")
    moved = copy.deepcopy(old)
    moved["spec"]["persistentVolumeClaim"]["storageClassName"] = "gone"
    err = _admit("UPDATE", moved, old, CLASSES)
    assert err is not None and err.status == denial("vi", 'target storage class "gone" not found')
    dropped = copy.deepcopy(old)
    del dropped["spec"]["persistentVolumeClaim"]
    err = _admit("UPDATE", dropped, old, (_class("b"),))
    assert err is not None and err.status == denial("vi", NO_DEFAULT)
    assert _admit("UPDATE", dropped, old, CLASSES) is None
