# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Listing images for virtual_image_info (and any kind for the other info modules)."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ApiError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    API_VERSION, CLUSTER_VIRTUAL_IMAGE, VIRTUAL_IMAGE, Kind,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.redaction import redact_image
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.summary import summarize


def list_images(client: Client, params: Mapping[str, Any]) -> Dict[str, Any]:
    """``images`` (as the API gives them) and ``summary``, same order (namespace, name)."""
    kind = CLUSTER_VIRTUAL_IMAGE if params.get("cluster") else VIRTUAL_IMAGE
    images = list_objects(client, kind, None if params.get("cluster") else params.get("namespace"), params)
    return {"images": images, "summary": [summarize(obj) for obj in images]}


def list_objects(client: Client, kind: Kind, namespace: Optional[str], params: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The objects of ``kind`` that ``name``, ``label_selectors`` and ``phase`` select, sorted by (namespace, name),
    upload URLs redacted. An API the cluster does not serve is an error, not an empty list."""
    field_selector = "metadata.name=%s" % params["name"] if params.get("name") else None
    selector = ",".join(params.get("label_selectors") or []) or None
    try:
        page = client.list(kind.collection_path(namespace), label_selector=selector, field_selector=field_selector)
    except ApiError as exc:
        if exc.status == 404:
            raise ApiError("the API %s/%s is not served by this cluster: is the Deckhouse virtualization "
                           "module enabled?" % (API_VERSION, kind.plural), status=404, reason="NotFound")
        if exc.status == 400 and selector:  # the API server is the one parser of selectors: name the option
            raise ApiError("label_selectors %r: %s" % (params.get("label_selectors"), exc.msg), status=400,
                           reason=exc.reason)
        raise
    found: List[Dict[str, Any]] = []
    for item in page.get("items") or []:
        item.setdefault("apiVersion", API_VERSION)
        item.setdefault("kind", kind.kind)
        if params.get("phase") and (item.get("status") or {}).get("phase") not in params["phase"]:
            continue
        found.append(redact_image(item))  # upload URLs are credentials: never in a result
    found.sort(key=lambda o: ((o["metadata"].get("namespace") or ""), o["metadata"]["name"]))
    return found
