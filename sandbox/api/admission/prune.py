"""Structural pruning: drop fields the schema does not declare, and say which.

The apiserver does this while decoding a custom resource; the dropped paths become
``unknown field "<path>"`` (an error with fieldValidation=Strict, a warning with Warn).
"""
from __future__ import annotations

from typing import Any

from .schemas.dsl import Schema

# metav1.ObjectMeta's JSON fields: metadata keeps exactly these.
OBJECT_META_FIELDS = frozenset({
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations",
    "ownerReferences", "finalizers", "managedFields",
})


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def prune(obj: dict, schema: Schema) -> list[str]:
    """Prune ``obj`` in place against its root schema; return the dropped paths, sorted."""
    dropped: list[str] = []
    for key in list(obj):
        if key in ("apiVersion", "kind"):
            continue
        if key == "metadata":
            meta = obj[key]
            if isinstance(meta, dict):
                for mkey in [k for k in meta if k not in OBJECT_META_FIELDS]:
                    del meta[mkey]
                    dropped.append(f"metadata.{mkey}")
            continue
        prop = schema.get("properties", {}).get(key)
        if prop is None:
            del obj[key]
            dropped.append(key)
        else:
            _prune(obj[key], prop, key, dropped)
    return sorted(dropped)


def _prune(value: Any, schema: Schema, path: str, dropped: list[str]) -> None:
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        keep_unknown = schema.get("x-kubernetes-preserve-unknown-fields", False)
        for key in list(value):
            child_path = _join(path, key)
            if props is not None and key in props:
                _prune(value[key], props[key], child_path, dropped)
            elif isinstance(extra, dict):
                _prune(value[key], extra, child_path, dropped)
            elif not keep_unknown and extra is not True:
                del value[key]
                dropped.append(child_path)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            _prune(item, schema["items"], f"{path}[{i}]", dropped)
