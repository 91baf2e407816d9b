# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""One flat dict per image, for reports and templates."""

from __future__ import annotations

from typing import Any, Dict, Mapping

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond


def summarize(obj: Mapping[str, Any]) -> Dict[str, Any]:
    """Flatten the fields people ask about; missing ones are None."""
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    size = status.get("size") or {}
    target = status.get("target") or {}
    ready = cond.condition(obj, "Ready") or {}
    return {
        "name": meta.get("name"),
        "namespace": meta.get("namespace"),
        "kind": obj.get("kind"),
        "phase": status.get("phase"),
        "progress": status.get("progress"),
        "format": status.get("format"),
        "cdrom": status.get("cdrom"),
        "stored_size": size.get("stored"),
        "unpacked_size": size.get("unpacked"),
        "registry_url": target.get("registryURL"),
        "pvc_name": target.get("persistentVolumeClaimName"),
        "ready_reason": ready.get("reason"),
        "ready_message": ready.get("message"),
    }
