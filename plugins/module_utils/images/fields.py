# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Fields the cluster's API lacks: the strict-validation refusal read back, named as the user wrote them.

Every write asks for strict field validation (api/client.py), so a field an older platform line lacks (DVP v1.10
has no sha1/sha512/streebog checksums and no ``dataSource.upload.checksum``) is refused before anything is
stored instead of dropped in silence. This module turns that refusal into the option the user set, what the
cluster lacks and the way out; and knows the one field the collection can do without: an upload's checksum,
which the module verifies itself while sending.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ApiError, FieldsUnknown
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    RELEASED_LINE_CHECKSUMS, SOURCE_TYPES, Kind,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload import recorded

_UNKNOWN_RE = re.compile(r'unknown field "([^"]+)"')
# The server's checksum of an upload: without it the module's own check (before the last byte) is the only one.
# DVP v1.10 has no dataSource.upload block at all (the checksum is all it holds), so either may be refused.
UPLOAD_CHECKSUM = "spec.dataSource.upload.checksum"
UPLOAD_BLOCK = "spec.dataSource.upload"
# How each module option is spelled in the API (the typed options' inverse of images/manifest.py).
_OPTION_OF_API_KEY = {api_key: option for option, (_type, api_key) in SOURCE_TYPES.items()}
_OPTION_OF_SPEC = {"spec.storage": "storage", "spec.persistentVolumeClaim.storageClassName": "storage_class",
                   "spec.persistentVolumeClaim.size": "size",
                   "metadata.labels": "labels", "metadata.annotations": "annotations"}


def refuses_upload_checksum(exc: ApiError) -> bool:
    """The refusal names nothing but the upload checksum (or the block that holds it)."""
    fields = unknown_fields(exc)
    return bool(fields) and all(field in (UPLOAD_CHECKSUM, UPLOAD_BLOCK) for field in fields)


def unknown_fields(exc: ApiError) -> List[str]:
    """The fields a strict-validation refusal names (create: 400, patch: 422), or [] for any other error."""
    if exc.status not in (400, 422) or "strict decoding error" not in exc.msg:
        return []
    return sorted(set(_UNKNOWN_RE.findall(exc.msg)))


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda match: "_" + match.group(1).lower(), name)


def option_for(field: str, style: str) -> str:
    """The user's name for an API field: ``module`` (typed options), ``entry`` (catalog entry fields) or
    ``definition`` (a whole manifest)."""
    if style == "definition":
        return "definition." + field
    for prefix, option in _OPTION_OF_SPEC.items():
        if field == prefix or field.startswith(prefix + "."):
            return option + field[len(prefix):]
    parts = field.split(".")
    if parts[:2] == ["spec", "dataSource"] and len(parts) > 2 and parts[2] in _OPTION_OF_API_KEY:
        rest = [_snake(part) for part in parts[3:]]
        if style == "entry":
            return ".".join(rest) or field
        return ".".join(["source", _OPTION_OF_API_KEY[parts[2]]] + rest)
    return field


def unknown_field_message(kind: Kind, fields: List[str], style: str, where: str = "") -> str:
    """``<option> needs a platform whose <Kind> API has <field> ...``: what is missing and the way out."""
    named = ", ".join("%s (%s)" % (option_for(field, style), field) for field in fields)
    text = ("%s%s: this cluster's %s API has no such field, so the API server refused the write under strict field "
            "validation and nothing was stored. It needs a platform whose %s API has it (newer than DVP v1.10)"
            % (where, named, kind.kind, kind.kind))
    if any(".checksum." in field for field in fields):
        text += "; on this cluster use a checksum it knows (%s)" % " or ".join(RELEASED_LINE_CHECKSUMS)
    return text + "."


def without(manifest: Dict[str, Any], field: str) -> Dict[str, Any]:
    """A copy of ``manifest`` without ``field`` (a dotted path), for the platform that lacks it."""
    parts = field.split(".")
    copy: Dict[str, Any] = dict(manifest)
    node: Optional[Dict[str, Any]] = copy
    for part in parts[:-1]:
        if not isinstance(node, dict) or not isinstance(node.get(part), dict):
            return copy
        node[part] = dict(node[part])
        node = node[part]
    if isinstance(node, dict):
        node.pop(parts[-1], None)
    return copy


def has(manifest: Optional[Dict[str, Any]], field: str) -> bool:
    """``field`` (a dotted path) is set in ``manifest``."""
    node: Any = manifest
    for part in field.split("."):
        if not isinstance(node, dict) or node.get(part) in (None, {}):
            return False
        node = node[part]
    return True


def refuse_unknown(exc: ApiError, kind: Kind, style: str, where: str = "") -> None:
    """Raise FieldsUnknown for a strict-validation refusal (naming the user's options); return for any other error."""
    fields = unknown_fields(exc)
    if fields:
        raise FieldsUnknown(unknown_field_message(kind, fields, style, where), unknown_fields=fields)


def create_image(client: Client, kind: Kind, manifest: Dict[str, Any], style: str, uploads: bool,
                 where: str = "") -> Tuple[Dict[str, Any], bool]:
    """POST the image; (object, the platform verifies the upload's checksum).

    A cluster without the upload checksum field gets the image without it: the module still verifies the bytes it
    sends. Any other field the cluster lacks is FieldsUnknown, with nothing stored.
    """
    meta = manifest.get("metadata") or {}
    collection = kind.collection_path(meta.get("namespace"))
    try:
        return client.create(collection, manifest), True
    except ApiError as exc:
        if uploads and refuses_upload_checksum(exc):
            return client.create(collection, without(manifest, UPLOAD_BLOCK)), False
        refuse_unknown(exc, kind, style, where)
        raise


def align_upload_checksum(client: Client, kind: Kind, wanted: Dict[str, Any],
                          live: Optional[Mapping[str, Any]]) -> Tuple[Dict[str, Any], Optional[bool]]:
    """``wanted`` as this cluster stores it, and whether the platform verifies the upload's checksum (None: not
    known, nothing to say), so that a re-run on an older platform compares like with like and writes nothing.

    Only a live image that lacks the checksum its wanted form has is in question. When the upload record (the
    annotation written after a verified upload) holds those checksums, the field was left out at create: no request.
    Otherwise (say a run was killed before its upload) a dry-run create asks the server: it answers 400 for a field
    its schema lacks before it would answer 409 for a name that exists.
    """
    if live is None or not has(wanted, UPLOAD_CHECKSUM) or has(live, UPLOAD_CHECKSUM):
        return wanted, None
    given = {algo: str(value).lower() for algo, value in wanted["spec"]["dataSource"]["upload"]["checksum"].items()
             if value}
    sums, _size = recorded(live)
    if all(sums.get(algo) == value for algo, value in given.items()):
        return without(wanted, UPLOAD_BLOCK), None
    meta = wanted.get("metadata") or {}
    try:
        client.create(kind.collection_path(meta.get("namespace")), wanted, dry_run=True)
    except ApiError as exc:
        if refuses_upload_checksum(exc):
            return without(wanted, UPLOAD_BLOCK), False
        if exc.status != 409:
            raise
    return wanted, None
