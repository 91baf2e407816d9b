# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""What ``--diff`` and task results show of an object: identity, labels, annotations and spec; no bookkeeping."""

from __future__ import annotations

import copy
from typing import Any, Dict, Mapping, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.compare import apply_metadata


def view(obj: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """The part of an object a diff shows: identity, labels, annotations, spec."""
    if not obj:
        return {}
    meta = obj.get("metadata") or {}
    shown = {key: meta[key] for key in ("name", "namespace", "labels", "annotations") if meta.get(key)}
    return {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": shown,
            "spec": copy.deepcopy(obj.get("spec") or {})}


def patched_view(live: Mapping[str, Any], meta: Optional[Mapping[str, Any]],
                 spec: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """The diff's "after" for a patch: ``live`` with the metadata patch applied and, when given, the new spec."""
    after = view(live)
    after["metadata"] = apply_metadata(after["metadata"], meta)
    if spec is not None:
        after["spec"] = copy.deepcopy(spec)
    return after


def without_managed_fields(obj: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    """The object without metadata.managedFields (bookkeeping nobody reads in a task result)."""
    if obj is None:
        return None
    trimmed = dict(obj)
    trimmed["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return trimmed
