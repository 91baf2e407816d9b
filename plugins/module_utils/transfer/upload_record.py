# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The upload's record: what was sent into an object (checksums and size), kept on it between runs.

The platform keeps no checksum in status, so the record is the annotation ANNOTATION; ``spec.dataSource.upload
.checksum``, when the object has it, is checked by the server and read as a fallback record. While the file is
being sent the annotation holds the sending mark instead (resume.py).
"""

from __future__ import annotations

import copy
import json
from typing import Any, Dict, Mapping, Optional, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import CHECKSUM_ALGORITHMS
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.views import view
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.resume import sending_mark

ANNOTATION = "virtualization.deckhouse.io/ansible-upload-checksum"
PLANNED = "(recorded after the upload)"


def spec_checksums(obj: Mapping[str, Any]) -> Dict[str, str]:
    """spec.dataSource.upload.checksum (lower-case): what the platform verifies."""
    spec_sums = (((obj.get("spec") or {}).get("dataSource") or {}).get("upload") or {}).get("checksum") or {}
    return {algo: str(value).lower() for algo, value in spec_sums.items() if value}


def record_text(obj: Mapping[str, Any]) -> Optional[str]:
    """The annotation as it stands: a record, a sending mark, or None."""
    return ((obj.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION)


def recorded(obj: Mapping[str, Any]) -> Tuple[Dict[str, str], Optional[int]]:
    """(checksums, size) recorded for what the image holds: the annotation, else spec checksums."""
    try:
        record = json.loads(record_text(obj) or "{}")
    except ValueError:
        record = {}
    if not isinstance(record, dict):
        record = {}
    size = record.pop("size", None)
    sums = {algo: str(value).lower() for algo, value in record.items() if algo in CHECKSUM_ALGORITHMS}
    if not sums:
        sums = spec_checksums(obj)
    if size is None:
        stored = (((obj.get("status") or {}).get("size") or {}).get("storedBytes"))
        size = int(stored) if stored not in (None, "") else None
    return sums, (int(size) if size is not None else None)


def record_value(checksums: Mapping[str, str], size: int) -> str:
    """The annotation's value: compact JSON of the checksums and the size."""
    record: Dict[str, Any] = dict(sorted(checksums.items()))
    record["size"] = size
    return json.dumps(record, separators=(",", ":"))


def record_diff(obj: Mapping[str, Any], value: str = PLANNED) -> Dict[str, Any]:
    """The diff of writing ``value`` as the record (a dry run shows PLANNED: its checksums are not known)."""
    after = view(obj)
    after["metadata"].setdefault("annotations", {})[ANNOTATION] = value
    return {"before": view(obj), "after": after}


def fresh_manifest(obj: Mapping[str, Any]) -> Dict[str, Any]:
    """The image as a new object: same spec, labels, annotations (minus our record) and owners."""
    meta = obj.get("metadata") or {}
    new_meta: Dict[str, Any] = {"name": meta["name"]}
    for key in ("namespace", "labels", "ownerReferences"):
        if meta.get(key):
            new_meta[key] = copy.deepcopy(meta[key])
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k != ANNOTATION}
    if annotations:
        new_meta["annotations"] = annotations
    return {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": new_meta,
            "spec": copy.deepcopy(obj.get("spec") or {})}


class RecordWriter:
    """Writes the annotation of one object for one file: the sending mark, then the record."""

    def __init__(self, client: Client, path: str, file_path: str, size: int) -> None:
        self.client = client
        self.path = path
        self.file_path = file_path
        self.size = size

    def mark_sending(self) -> None:
        """The mark in the record's place, before the last byte (and after the given checksums matched): a run killed
        between the last byte and the record leaves it, and the next run finishes the record (resume.py)."""
        mark = sending_mark(self.file_path, self.size)
        self.client.patch(self.path, {"metadata": {"annotations": {ANNOTATION: mark}}})

    def write(self, obj: Mapping[str, Any], checksums: Mapping[str, str]) -> Tuple[Mapping[str, Any], Dict[str, Any]]:
        """Write what was uploaded (checksums and size) on the object: (the object as patched, the diff)."""
        value = record_value(checksums, self.size)
        patched = self.client.patch(self.path, {"metadata": {"annotations": {ANNOTATION: value}}})
        return patched, record_diff(obj, value)
