# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""One flat dict per image, for reports and templates."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.labels import (
    TRACK_LABEL, VERSION_LABEL, is_newest, track_sequence,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.quantity import parse_quantity


def common_summary(obj: Mapping[str, Any]) -> Dict[str, Any]:
    """What every summary starts with: identity, phase and progress; missing ones are None."""
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    return {"name": meta.get("name"), "namespace": meta.get("namespace"), "phase": status.get("phase"),
            "progress": status.get("progress")}


def ready_summary(obj: Mapping[str, Any]) -> Dict[str, Any]:
    """What every summary ends with: why the object is (not) Ready, in the platform's words."""
    ready = cond.condition(obj, "Ready") or {}
    return {"ready_reason": ready.get("reason"), "ready_message": ready.get("message")}


def size_bytes(size: Mapping[str, Any], field: str) -> Optional[int]:
    """A size in bytes: the platform's ``<field>Bytes``, else its human form read as a quantity; None if neither."""
    for raw in (size.get(field + "Bytes"), size.get(field)):
        if raw in (None, ""):
            continue
        try:
            return int(parse_quantity(raw))
        except ValueError:
            continue
    return None


def summarize(obj: Mapping[str, Any]) -> Dict[str, Any]:
    """Flatten the fields people ask about; missing ones are None."""
    status = obj.get("status") or {}
    size = status.get("size") or {}
    target = status.get("target") or {}
    labels = (obj.get("metadata") or {}).get("labels") or {}
    summary = common_summary(obj)
    summary.update(kind=obj.get("kind"), format=status.get("format"), cdrom=status.get("cdrom"),
                   stored_size=size.get("stored"), unpacked_size=size.get("unpacked"),
                   stored_size_bytes=size_bytes(size, "stored"), unpacked_size_bytes=size_bytes(size, "unpacked"),
                   registry_url=target.get("registryURL"), pvc_name=target.get("persistentVolumeClaimName"),
                   track=labels.get(TRACK_LABEL), version=labels.get(VERSION_LABEL),
                   newest=is_newest(labels) if labels.get(TRACK_LABEL) else None,
                   sequence=track_sequence(obj) if labels.get(TRACK_LABEL) else None,
                   created=(obj.get("metadata") or {}).get("creationTimestamp"))
    summary.update(ready_summary(obj))
    return summary
