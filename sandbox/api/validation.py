"""What kube-apiserver itself checks on every object (ObjectMeta) and the light core-kind rules.

The virtualization kinds' schemas, defaults and webhook rules belong to `admission/`; this module
only does what the generic apiserver does for every kind, plus core kinds' required fields.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from . import errors, govalidation
from .resources import ResourceType

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
             "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
             "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                 "'-' or '.', and must start and end with an alphanumeric character (e.g. "
                 "'example.com', regex used for validation is "
                 "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
Cause = dict[str, str]


def name_causes(r: ResourceType, name: str, field: str = "metadata.name") -> list[Cause]:
    if r.kind == "Namespace":
        if len(name) > 63:
            return [errors.cause(field, "FieldValueInvalid",
                                 f'Invalid value: "{name}": must be no more than 63 characters')]
        if not _DNS1123_LABEL.match(name):
            return [errors.cause(field, "FieldValueInvalid", f'Invalid value: "{name}": {LABEL_MSG}')]
        return []
    if len(name) > 253:
        return [errors.cause(field, "FieldValueInvalid",
                             f'Invalid value: "{name}": must be no more than 253 characters')]
    if not _DNS1123_SUBDOMAIN.match(name):
        return [errors.cause(field, "FieldValueInvalid", f'Invalid value: "{name}": {SUBDOMAIN_MSG}')]
    return []


def _meta_causes(r: ResourceType, md: dict[str, Any]) -> list[Cause]:
    """ValidateObjectMeta's findings: the name, label keys and values, annotation keys."""
    causes: list[Cause] = []
    causes += name_causes(r, md.get("name", ""))
    causes += label_causes(md)
    causes += annotation_causes(md)
    return causes


def annotation_causes(md: dict[str, Any]) -> list[Cause]:
    """ValidateAnnotations: one cause per problem of each key (checked in lower case)."""
    return [errors.cause("metadata.annotations", "FieldValueInvalid", f"Invalid value: {_quote(key)}: {problem}")
            for key in (md.get("annotations") or {})
            for problem in govalidation.is_qualified_name(str(key).lower())]


def label_causes(md: dict[str, Any]) -> list[Cause]:
    """ValidateLabels: one cause per problem of each key, then of its value (all on metadata.labels)."""
    causes: list[Cause] = []
    for key, val in (md.get("labels") or {}).items():
        val = val if isinstance(val, str) else str(val)
        causes += [errors.cause("metadata.labels", "FieldValueInvalid", f"Invalid value: {_quote(key)}: {problem}")
                   for problem in govalidation.is_qualified_name(str(key))]
        causes += [errors.cause("metadata.labels", "FieldValueInvalid", f"Invalid value: {_quote(val)}: {problem}")
                   for problem in govalidation.is_valid_label_value(val)]
    return causes


def update_causes(md: dict[str, Any], old_md: dict[str, Any], sent_uid: str | None = None) -> list[Cause]:
    """ValidateObjectMetaUpdate's findings that can occur here: new finalizers on a deleting object, a
    changed uid (`sent_uid`: what the patch set; the registry keeps the stored one otherwise), then the
    labels and annotations again."""
    causes: list[Cause] = []
    if old_md.get("deletionTimestamp"):
        added = sorted(set(md.get("finalizers") or []) - set(old_md.get("finalizers") or []))
        if added:
            causes.append(errors.cause(
                "metadata.finalizers", "FieldValueForbidden",
                "Forbidden: no new finalizers can be added if the object is being deleted, found new "
                "finalizers []string{" + ", ".join(_quote(f) for f in added) + "}"))
    if sent_uid and sent_uid != old_md.get("uid"):
        causes.append(errors.cause("metadata.uid", "FieldValueInvalid",
                                   f"Invalid value: {_quote(sent_uid)}: field is immutable"))
    return causes + label_causes(md) + annotation_causes(md)


def _quote(value: Any) -> str:
    return json.dumps(value if isinstance(value, str) else str(value), ensure_ascii=False)


def _core_causes(r: ResourceType, obj: dict[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    if r.kind == "Secret":
        for key, val in (obj.get("data") or {}).items():
            try:
                base64.b64decode(str(val), validate=True)
            except (binascii.Error, ValueError):
                causes.append(errors.cause(f"data[{key}]", "FieldValueInvalid",
                                           "Invalid value: \"<secret contents redacted>\": "
                                           "illegal base64 data"))
        if obj.get("type") == "kubernetes.io/dockerconfigjson" and \
                ".dockerconfigjson" not in (obj.get("data") or {}):
            causes.append(errors.cause("data[.dockerconfigjson]", "FieldValueRequired",
                                       "Required value"))
    elif r.kind == "PersistentVolumeClaim":
        spec = obj.get("spec") or {}
        if not spec.get("accessModes"):
            causes.append(errors.cause("spec.accessModes", "FieldValueRequired",
                                       "Required value: at least 1 access mode is required"))
        if not ((spec.get("resources") or {}).get("requests") or {}).get("storage"):
            causes.append(errors.cause("spec.resources[storage]", "FieldValueRequired",
                                       "Required value"))
    elif r.kind == "StorageClass":
        if not obj.get("provisioner"):
            causes.append(errors.cause("provisioner", "FieldValueRequired", "Required value"))
    return causes


def validate(r: ResourceType, obj: dict[str, Any]) -> None:
    """422 Invalid with every cause, as the real server reports them together."""
    causes = _meta_causes(r, obj.get("metadata") or {})
    if not r.custom:
        causes += _core_causes(r, obj)
    if causes:
        raise errors.invalid(r.kind, r.group, obj.get("metadata", {}).get("name", ""), causes)


def causes(r: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None,
           sent_uid: str | None = None) -> list[Cause]:
    """What the generic registry finds in a create (`old` None) or an update, in its order.

    An update of a custom resource runs ObjectMeta's update checks twice (the registry's common
    checks, then the custom resource strategy's own), and the apiserver reports every cause it was
    given: a forbidden new finalizer, say, appears twice in `details.causes` (the message shows it
    once). Core kinds run them once here."""
    md = obj.get("metadata") or {}
    found = _meta_causes(r, md)
    if not r.custom:
        found += _core_causes(r, obj)
    if old is not None:
        upd = update_causes(md, old.get("metadata") or {}, sent_uid)
        found += upd + upd if r.custom else upd
    return found


def default_core(r: ResourceType, obj: dict[str, Any], creating: bool) -> None:
    """Defaults kube-apiserver applies to core kinds (and stringData folding for Secrets)."""
    md = obj["metadata"]
    if r.kind == "Namespace":
        md.setdefault("labels", {})["kubernetes.io/metadata.name"] = md["name"]
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        if creating:
            obj["status"] = {"phase": "Active"}
    elif r.kind == "Secret":
        string_data = obj.pop("stringData", None) or {}
        if string_data:
            data = obj.setdefault("data", {})
            for k, v in string_data.items():
                data[k] = base64.b64encode(str(v).encode()).decode()
        obj.setdefault("type", "Opaque")
    elif r.kind == "PersistentVolumeClaim":
        obj.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
        if creating:
            obj["status"] = {"phase": "Pending"}
    elif r.kind == "StorageClass":
        obj.setdefault("reclaimPolicy", "Delete")
        obj.setdefault("volumeBindingMode", "Immediate")
