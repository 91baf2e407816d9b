"""The storage-class checks the vd.* and vi.* webhooks share (the platform's storage class services).

The sandbox's classes all have a storage profile that offers `Filesystem` with `ReadWriteOnce` (what CDI reports
for `rancher.io/local-path`) and no deprecated provisioner, so the profile and deprecation checks always pass, and
the module settings name no default class: only the class's existence and the cluster's default are checked.
"""
from __future__ import annotations

from .base import Denied, Review, get

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


def check_named_class(r: Review, what: str, warnings: list[str] | None = None) -> None:
    """A class named in `spec.persistentVolumeClaim.storageClassName` exists; `what` is "storage class" on create
    and "target storage class" on a change while Pending. Not checked without a look-up (unit tests)."""
    name = get(r.spec(), "persistentVolumeClaim", "storageClassName")
    if name and r.lookup is not None and r.lookup("StorageClass", "", name) is None:
        raise Denied(f'{what} "{name}" not found', warnings)


def check_default_class(r: Review) -> None:
    """With no class named, the cluster has a default one (annotated `is-default-class: "true"`), else the
    object could never get a volume. Not checked without a listing (unit tests)."""
    if get(r.spec(), "persistentVolumeClaim", "storageClassName") or r.listing is None:
        return
    if not any(((sc.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION) == "true"
               for sc in r.listing("StorageClass", "")):
        raise Denied("the default storage class was not found in either the cluster or the module settings; "
                     "please specify a storage class name explicitly in the spec")
