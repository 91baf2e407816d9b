"""What a reconciler sees of the cluster: the informers' caches, read by kind.

Reconcilers read through this view and never touch the informers; the only write is
`remember`, which the API writer uses to put the answer of our own write in the cache at once
(the watch event that follows may come after the next reconcile).
"""
from __future__ import annotations

from typing import Mapping

from ..model.kinds import Kind
from .informer import Informer


class Cache:
    def __init__(self, informers: Mapping[str, Informer]) -> None:
        self._informers = informers

    def get(self, kind: Kind, ns: str | None, name: str) -> dict | None:
        return self._informers[kind.kind].get(ns, name)

    def items(self, kind: Kind, ns: str | None = None) -> list[dict]:
        """Every cached object of the kind (in one namespace when ns is given)."""
        return self._informers[kind.kind].items(ns)

    def synced(self, kind: Kind) -> bool:
        """True once the kind was listed: before that, absent means unknown, not deleted."""
        return self._informers[kind.kind].synced.is_set()

    def remember(self, kind: Kind, obj: dict) -> None:
        md = obj["metadata"]
        self._informers[kind.kind].cache[(md.get("namespace", ""), md["name"])] = obj
