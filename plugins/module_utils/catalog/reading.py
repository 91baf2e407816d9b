# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""What a catalog run reads before it writes: its namespaces, and one list per namespace (plus one for the hubs).

Everything the plan and the tracks decide comes from the one LiveState read here, so no decision depends on a
second look at the cluster taken at another moment.
"""

from __future__ import annotations

from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.entries import Wanted
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.options import CatalogOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.plan import owner_of
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.tracks import track_of
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ApiError, ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    API_VERSION, CLUSTER_VIRTUAL_IMAGE, Kind,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.labels import CATALOG_LABEL, FANOUT_LABEL

NAMESPACES_PATH = "/api/v1/namespaces"
LiveIndex = Dict[Tuple[str, Optional[str], str], Dict[str, Any]]   # (kind, namespace, name) -> object
TrackKey = Tuple[Optional[str], str]   # (namespace, track)


class LiveState(NamedTuple):
    """The catalog's objects as listed once, sorted by what decides their fate."""

    live: LiveIndex                                   # every listed object
    scope: List[Any]                                  # (kind, namespace, name, object) the prune may delete
    members: Dict[TrackKey, List[Dict[str, Any]]]     # every live version of each track of this run
    retired: Dict[TrackKey, List[Dict[str, Any]]]     # versions of tracks that left the catalog (with prune)

    @classmethod
    def empty(cls) -> "LiveState":
        return cls({}, [], {}, {})


def list_objects(client: Client, kind: Kind, namespace: Optional[str],
                 selector: Optional[str] = None) -> List[Dict[str, Any]]:
    """One list call; each item carries its apiVersion and kind, as a get returns them."""
    items = client.list(kind.collection_path(namespace), label_selector=selector).get("items") or []
    for item in items:
        item.setdefault("apiVersion", API_VERSION)
        item.setdefault("kind", kind.kind)
    return items


def ensure_namespaces(client: Client, namespaces: Sequence[str], create: bool) -> List[str]:
    """Namespaces created (or, in check mode, that would be); fail when missing and not allowed."""
    try:
        existing = {item["metadata"]["name"] for item in client.list(NAMESPACES_PATH).get("items") or []}
    except ApiError as exc:
        if exc.status == 403:
            return []  # not allowed to list namespaces: the image writes will tell
        raise
    missing = [ns for ns in namespaces if ns not in existing]
    if missing and not create:
        raise ValidationError("namespaces %s do not exist; create them or set create_namespaces "
                              "(role: image_catalog_create_namespaces: true)" % ", ".join(missing))
    for namespace in missing:
        client.create(NAMESPACES_PATH, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    return missing


def read_live(client: Client, options: CatalogOptions, wanted: List[Wanted]) -> LiveState:
    """One list per namespace (plus one for the hubs): the index of live objects, the prune scope, the tracks."""
    state = LiveState.empty()
    kind, catalog, prune = options.kind, options.catalog, options.prune
    tracks = {(item.namespace, item.entry.track.name) for item in wanted if item.entry.track}
    for namespace in options.scopes:
        for obj in list_objects(client, kind, namespace):
            name = obj["metadata"]["name"]
            state.live[(kind.kind, namespace, name)] = obj
            if owner_of(obj) != catalog:
                continue
            if (namespace, track_of(obj)) in tracks:   # a version of a track: the track's rotation decides
                state.members.setdefault((namespace, str(track_of(obj))), []).append(obj)
            elif prune and track_of(obj):   # a track that left the catalog: pruned unless in use
                state.retired.setdefault((namespace, str(track_of(obj))), []).append(obj)
            elif prune:
                state.scope.append((kind, namespace, name, obj))
    if prune and kind.namespaced:
        state.scope.extend(_owned_elsewhere(client, kind, options.scopes, "%s=%s" % (CATALOG_LABEL, catalog)))
    hubs_wanted = any(item.hub for item in wanted)
    if kind.namespaced and (prune or hubs_wanted):
        selector = None if hubs_wanted else "%s=%s" % (FANOUT_LABEL, catalog)
        for obj in list_objects(client, CLUSTER_VIRTUAL_IMAGE, None, selector):
            name = obj["metadata"]["name"]
            state.live[(CLUSTER_VIRTUAL_IMAGE.kind, None, name)] = obj
            if prune and owner_of(obj, FANOUT_LABEL) == catalog:
                state.scope.append((CLUSTER_VIRTUAL_IMAGE, None, name, obj))
    return state


def _owned_elsewhere(client: Client, kind: Kind, namespaces: Sequence[Optional[str]], selector: str) -> List[Any]:
    """Owned images in namespaces the catalog no longer lists (skipped without cluster-wide list rights)."""
    try:
        items = list_objects(client, kind, None, selector)
    except ApiError as exc:
        if exc.status == 403:
            return []
        raise
    return [(kind, obj["metadata"].get("namespace"), obj["metadata"]["name"], obj)
            for obj in items if obj["metadata"].get("namespace") not in namespaces]
