# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The pull Secret the module owns for a ``source.container_image`` with credentials (an image's or a disk's):
written before the object, owned by it once it exists (so it goes with it), deleted with it (label-checked)."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    OWNED_SECRET_LABEL, core_object_path,
)


def _secret_path(secret: Mapping[str, Any]) -> str:
    meta = secret["metadata"]
    return core_object_path("secrets", meta["name"], meta["namespace"])


def ensure_secret(client: Client, secret: Dict[str, Any]) -> bool:
    """Create or update the owned Secret; True when it was written."""
    path = _secret_path(secret)
    live = client.get(path)
    if live is None:
        client.create(core_object_path("secrets", None, secret["metadata"]["namespace"]), secret)
        return True
    if (live.get("data") or {}) == secret["data"] and live.get("type") == secret["type"]:
        return False
    client.patch(path, {"data": secret["data"], "metadata": {"labels": secret["metadata"]["labels"]}})
    return True


def own_secret(client: Client, secret: Mapping[str, Any], obj: Mapping[str, Any], name: str) -> None:
    """Point the Secret's ownerReference at ``obj`` (named ``name``) so it goes with it."""
    uid = (obj.get("metadata") or {}).get("uid")
    path = _secret_path(secret)
    live = client.get(path) or {}
    refs = (live.get("metadata") or {}).get("ownerReferences") or []
    if not uid or any(ref.get("uid") == uid for ref in refs):
        return
    owner = {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": name, "uid": uid}
    client.patch(path, {"metadata": {"ownerReferences": [owner]}})


def delete_owned_secret(client: Client, live: Mapping[str, Any], namespace: Optional[str]) -> None:
    """Delete the pull Secret this module created for ``live`` (label-checked); ``namespace``: the object's."""
    ref = (((live.get("spec") or {}).get("dataSource") or {}).get("containerImage") or {}).get("imagePullSecret")
    if not ref or not ref.get("name"):
        return
    namespace = ref.get("namespace") or namespace
    if not namespace:
        return
    path = core_object_path("secrets", ref["name"], namespace)
    secret = client.get(path)
    if secret and OWNED_SECRET_LABEL in ((secret.get("metadata") or {}).get("labels") or {}):
        client.delete(path)
