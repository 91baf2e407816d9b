"""List + watch one kind into an in-memory cache, the way client-go's informers do."""
from __future__ import annotations

import asyncio
import logging
from typing import Callable

from ..model.kinds import Kind
from .kube import Kube

log = logging.getLogger(__name__)

OnChange = Callable[[dict, bool], None]


class Informer:
    """List + watch one kind into a cache, calling on_change(obj, deleted) for every change."""

    def __init__(self, kube: Kube, kind: Kind, on_change: OnChange) -> None:
        self.kube = kube
        self.kind = kind
        self.on_change = on_change
        self.cache: dict[tuple[str, str], dict] = {}
        self.synced = asyncio.Event()

    @staticmethod
    def key(obj: dict) -> tuple[str, str]:
        md = obj["metadata"]
        return md.get("namespace", ""), md["name"]

    def get(self, ns: str | None, name: str) -> dict | None:
        return self.cache.get((ns or "", name))

    def items(self, ns: str | None = None) -> list[dict]:
        return [o for (n, _), o in list(self.cache.items()) if ns is None or n == ns]

    def _older(self, obj: dict) -> bool:
        """True when the cache already holds a newer version (our own write's reply came first)."""
        have = self.cache.get(self.key(obj))
        if have is None:
            return False
        try:
            return int(obj["metadata"]["resourceVersion"]) < int(have["metadata"]["resourceVersion"])
        except (KeyError, ValueError):
            return False

    async def run(self) -> None:
        while True:
            try:
                listed = await self.kube.list(self.kind)
                fresh = {self.key(o): o for o in listed.get("items", [])}
                gone = [o for k, o in self.cache.items() if k not in fresh]
                self.cache = fresh
                for obj in gone:
                    self.on_change(obj, True)
                for obj in fresh.values():
                    self.on_change(obj, False)
                self.synced.set()
                rv = listed.get("metadata", {}).get("resourceVersion", "0")
                async for ev in self.kube.watch(self.kind, rv):
                    typ, obj = ev.get("type"), ev.get("object") or {}
                    if typ == "ERROR":
                        break
                    if typ == "BOOKMARK" or "metadata" not in obj:
                        continue
                    if typ == "DELETED":
                        self.cache.pop(self.key(obj), None)
                        self.on_change(obj, True)
                    elif not self._older(obj):
                        self.cache[self.key(obj)] = obj
                        self.on_change(obj, False)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep watching through API restarts
                log.warning("watch %s: %s", self.kind.plural, exc)
                await asyncio.sleep(0.5)
