# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Listing images for virtual_image_info (and any kind for the other info modules)."""

from __future__ import annotations

from typing import Any, Dict, List

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ApiError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    API_VERSION, Kind,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.labels import (
    CATALOG_LABEL, TRACK_LABEL, track_sequence,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.redaction import redact_image
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.summary import summarize
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.usage import Usage, UsageIndex
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.info import ListQuery


def list_images(client: Client, query: ListQuery) -> Dict[str, Any]:
    """``images`` (as the API gives them) and ``summary``, same order (namespace, name); with ``track``, only that
    track's versions, oldest to newest (``sequence``, then ``created``), and ``newest``, the summary of the one
    carrying the newest label (None before any is Ready)."""
    labels = ((TRACK_LABEL, query.track), (CATALOG_LABEL, query.catalog))
    owned = tuple("%s=%s" % (label, value) for label, value in labels if value)
    images = list_objects(client, query._replace(label_selectors=query.label_selectors + owned))
    if query.track:
        # a track's versions oldest to newest: by their place in the track, then by creation
        images.sort(key=lambda obj: (track_sequence(obj), (obj.get("metadata") or {}).get("creationTimestamp") or "",
                                     (obj.get("metadata") or {}).get("namespace") or "",
                                     (obj.get("metadata") or {}).get("name")))
    usage = UsageIndex(client)
    summary = [_with_usage(summarize(obj), usage.of(obj, query.kind), query.kind) for obj in images]
    result: Dict[str, Any] = {"images": images, "summary": summary}
    if query.track:
        newest = [(track_sequence(obj), row) for obj, row in zip(images, summary) if row["newest"]]
        result["newest"] = max(newest, key=lambda pair: pair[0])[1] if newest else None
    return result


def _with_usage(row: Dict[str, Any], usage: Usage, kind: Kind) -> Dict[str, Any]:
    """``in_use`` (None when a list of disks or machines was forbidden and nothing was found), ``used_by`` and,
    for cluster images, ``used_in_namespaces``."""
    row.update(in_use=True if usage.in_use else (False if usage.complete else None), used_by=usage.users,
               used_in_namespaces=None if kind.namespaced else usage.namespaces, disks=usage.disks)
    return row


def list_objects(client: Client, query: ListQuery) -> List[Dict[str, Any]]:
    """The objects the query selects, sorted by (namespace, name), upload URLs redacted. An API the cluster does
    not serve is an error, not an empty list."""
    kind = query.kind
    field_selector = "metadata.name=%s" % query.name if query.name else None
    selector = query.selector
    try:
        page = client.list(kind.collection_path(query.namespace if kind.namespaced else None),
                           label_selector=selector, field_selector=field_selector)
    except ApiError as exc:
        if exc.status == 404:
            raise ApiError("the API %s/%s is not served by this cluster: is the Deckhouse virtualization "
                           "module enabled?" % (API_VERSION, kind.plural), status=404, reason="NotFound")
        if exc.status == 400 and selector:  # the API server is the one parser of selectors: name the option
            raise ApiError("label_selectors %r: %s" % (list(query.label_selectors), exc.msg), status=400,
                           reason=exc.reason)
        raise
    found: List[Dict[str, Any]] = []
    for item in page.get("items") or []:
        item.setdefault("apiVersion", API_VERSION)
        item.setdefault("kind", kind.kind)
        if query.phases and (item.get("status") or {}).get("phase") not in query.phases:
            continue
        found.append(redact_image(item))  # upload URLs are credentials: never in a result
    found.sort(key=lambda o: ((o["metadata"].get("namespace") or ""), o["metadata"]["name"]))
    return found
