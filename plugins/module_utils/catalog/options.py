# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The typed options of one catalog run: every option checked and every entry parsed, once, before any request.

The run reads only this, never module parameters: a caller (the module, a test) builds it from parameters with
``from_params`` and nothing changes it afterwards.
"""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple, Optional, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.entries import Entry, parse_catalog
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.rules import refuse_module_side_manifests
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import Kind


class CatalogOptions(NamedTuple):
    """What one run of image_catalog_apply applies, and how."""

    kind: Kind                       # VirtualImage, or ClusterVirtualImage for a cluster-wide catalog
    catalog: str                     # the owner label value of everything the catalog makes
    namespaces: Tuple[str, ...]      # where a namespaced catalog applies (empty for a cluster-wide one)
    entries: Tuple[Entry, ...]       # the ``images`` entries, then the ``definitions``, each checked
    create_namespaces: bool = False
    prune: bool = False
    recreate: bool = False
    fanout: str = "none"
    wait: bool = True
    wait_timeout: float = 0.0
    progress_file: Optional[str] = None

    @property
    def scopes(self) -> Tuple[Optional[str], ...]:
        """The namespaces the run lists and writes in: ``(None,)`` for a cluster-wide catalog."""
        return self.namespaces if self.kind.namespaced else (None,)

    @classmethod
    def from_params(cls, params: Mapping[str, Any], kind: Kind) -> "CatalogOptions":
        """Check the catalog's options and parse its entries (parse_catalog); ValidationError names the first
        problem, and no request is sent. ``manifests`` that reached the module unread are refused first: planned
        without them, the catalog would seem empty (and, with ``prune``, would delete what it owns)."""
        refuse_module_side_manifests(params)
        entries = parse_catalog(params, kind)
        return cls(
            kind=kind, catalog=params["catalog"], namespaces=tuple(params.get("namespaces") or ()),
            entries=tuple(entries), create_namespaces=bool(params.get("create_namespaces")),
            prune=bool(params.get("prune")), recreate=bool(params.get("recreate")),
            fanout=params.get("fanout") or "none", wait=bool(params.get("wait")),
            wait_timeout=float(params.get("wait_timeout") or 0), progress_file=params.get("progress_file"))
