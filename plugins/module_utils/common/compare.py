# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Wanted vs live, decided before any write: which fields differ and the patch that fixes them."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

METADATA_MAPS = ("labels", "annotations")


def spec_differences(wanted: Any, live: Any, path: str = "spec") -> List[str]:
    """Dotted paths where ``live`` differs from ``wanted``.

    The spec is compared whole (a key only in ``live`` is a difference too) because
    every spec field of these kinds is user-set; the only server default (storage)
    is applied to ``wanted`` by the spec builder.
    """
    if isinstance(wanted, Mapping) and isinstance(live, Mapping):
        diffs: List[str] = []
        for key in sorted(set(wanted) | set(live)):
            diffs.extend(spec_differences(wanted.get(key), live.get(key), "%s.%s" % (path, key)))
        return diffs
    if wanted != live and not _same_digest(path, wanted, live):
        return [path]
    return []


def _same_digest(path: str, wanted: Any, live: Any) -> bool:
    """A checksum digest is hex: ``ABC`` and ``abc`` are one digest (the collection sends lower case; an image
    made elsewhere may hold upper case, and that is no reason to make it anew)."""
    return (".checksum." in path and isinstance(wanted, str) and isinstance(live, str)
            and wanted.lower() == live.lower())


def metadata_patch(wanted_meta: Mapping[str, Any], live_meta: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """Labels/annotations to set; additive (keys the user did not name are left alone)."""
    patch: Dict[str, Any] = {}
    for field in METADATA_MAPS:
        wanted = wanted_meta.get(field) or {}
        live = live_meta.get(field) or {}
        changed = {key: value for key, value in wanted.items() if live.get(key) != value}
        if changed:
            patch[field] = changed
    return patch or None


def merge_patch(live: Any, wanted: Any) -> Any:
    """An RFC 7386 merge patch turning ``live`` into ``wanted`` (None deletes a key)."""
    if not isinstance(live, Mapping) or not isinstance(wanted, Mapping):
        return wanted
    patch: Dict[str, Any] = {}
    for key in set(live) | set(wanted):
        if key not in wanted:
            patch[key] = None
        elif key not in live:
            patch[key] = wanted[key]
        elif live[key] != wanted[key]:
            patch[key] = merge_patch(live[key], wanted[key])
    return patch


def apply_metadata(live: Mapping[str, Any], patch: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """``live`` metadata with a metadata patch applied (for the diff's "after")."""
    meta = dict(live)
    for field, values in (patch or {}).items():
        merged = dict(meta.get(field) or {})
        merged.update(values)
        meta[field] = {key: value for key, value in merged.items() if value is not None}  # None removes (RFC 7386)
    return meta
