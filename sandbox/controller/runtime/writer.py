"""The writes every reconciler makes through the API: status, finalizers, events, PVCs.

Answers of our own writes go straight into the cache (see Cache.remember), so the next
reconcile of the object already sees them.
"""
from __future__ import annotations

import logging
import secrets
from typing import Any

from ..model.kinds import EVENT, PVC, Kind
from ..model.status import now, status_patch
from .cache import Cache
from .kube import ApiError, Kube

log = logging.getLogger(__name__)


class Writer:
    def __init__(self, kube: Kube, cache: Cache) -> None:
        self._kube = kube
        self._cache = cache

    async def write_status(self, kind: Kind, obj: dict, new: dict, reset: bool = False) -> None:
        """Merge-patch /status to `new` (skipped when nothing but transition times changed)."""
        current = obj.get("status") or {}
        if reset:
            patch: dict | None = {**{k: None for k in current if k not in new}, **new}
        else:
            patch = status_patch(current, new)
        if patch is None:
            return
        md = obj["metadata"]
        out = await self._kube.patch(kind, md.get("namespace"), md["name"], {"status": patch}, sub="status")
        if out.get("metadata"):
            self._cache.remember(kind, out)

    async def set_finalizers(self, kind: Kind, obj: dict, add: list[str] = (), remove: list[str] = ()) -> None:
        md = obj["metadata"]
        have = list(md.get("finalizers") or [])
        want = [f for f in have if f not in remove] + [f for f in add if f not in have and f not in remove]
        if want == have:
            return
        body = {"metadata": {"finalizers": want or None, "resourceVersion": md.get("resourceVersion")}}
        try:
            out = await self._kube.patch(kind, md.get("namespace"), md["name"], body)
        except ApiError as exc:
            if exc.status == 404:
                return
            raise
        if out.get("metadata"):
            self._cache.remember(kind, out)
            obj["metadata"] = out["metadata"]

    async def event(self, kind: Kind, obj: dict, type_: str, reason: str, message: str) -> None:
        md = obj["metadata"]
        ns = md.get("namespace") or "default"
        ts = now()
        body = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{md['name']}.{secrets.token_hex(8)}", "namespace": ns},
            "involvedObject": {k: v for k, v in {
                "apiVersion": kind.api, "kind": kind.kind, "name": md["name"], "namespace": md.get("namespace"),
                "uid": md["uid"], "resourceVersion": md.get("resourceVersion")}.items() if v},
            "reason": reason, "message": message, "type": type_, "count": 1,
            "firstTimestamp": ts, "lastTimestamp": ts,
            "source": {"component": "virtualization-controller"},
            "reportingComponent": "virtualization-controller",
        }
        try:
            await self._kube.create(EVENT, ns, body)
        except ApiError as exc:
            log.warning("event %s: %s", reason, exc)

    async def create_pvc(self, owner: dict, name: str, storage_class: str, size: int | str,
                         bound: bool = True) -> None:
        """The owner's PVC, unless it exists: Bound at once (the sandbox has no provisioner) unless its class
        binds late (`bound=False`: Pending until `bind_pvc`, when its first consumer comes)."""
        md = owner["metadata"]
        ns = md["namespace"]
        if self._cache.get(PVC, ns, name) is None:
            body: dict[str, Any] = {
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": name, "namespace": ns,
                             "labels": {"virtualization.deckhouse.io/owner": md["name"]}},
                "spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem",
                         "resources": {"requests": {"storage": size if isinstance(size, str) else str(max(size, 1))}}},
            }
            if storage_class:
                body["spec"]["storageClassName"] = storage_class
            try:
                await self._kube.create(PVC, ns, body)
            except ApiError as exc:
                if exc.status != 409:
                    raise
            if bound:
                await self.bind_pvc(ns, name)

    async def bind_pvc(self, ns: str, name: str) -> None:
        """The PVC is Bound with its requested capacity."""
        pvc = self._cache.get(PVC, ns, name) or {}
        size = (((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
        status: dict[str, Any] = {"phase": "Bound", "accessModes": ["ReadWriteOnce"]}
        if size:
            status["capacity"] = {"storage": size}
        try:
            out = await self._kube.patch(PVC, ns, name, {"status": status}, sub="status")
            if out.get("metadata"):
                self._cache.remember(PVC, out)
        except ApiError:
            pass  # a PVC without status support is still a PVC

    async def resize_pvc(self, ns: str, name: str, size: str, done: bool) -> None:
        """Ask for more (`done=False`: spec only, as a user's resize request) or report it done (status)."""
        if done:
            out = await self._kube.patch(PVC, ns, name, {"status": {"capacity": {"storage": size}}}, sub="status")
        else:
            out = await self._kube.patch(PVC, ns, name, {"spec": {"resources": {"requests": {"storage": size}}}})
        if out.get("metadata"):
            self._cache.remember(PVC, out)

    async def delete(self, kind: Kind, ns: str | None, name: str) -> bool:
        """Delete (already gone is fine); True when the object is gone, False while a finalizer
        holds it (it stays, with deletionTimestamp set)."""
        out = await self._kube.delete(kind, ns, name)
        return not (isinstance(out, dict) and out.get("kind") == kind.kind)

    async def delete_quietly(self, kind: Kind, ns: str | None, name: str) -> None:
        """Delete, only logging a failure (the namespace may be going away with it)."""
        try:
            await self._kube.delete(kind, ns, name)
        except Exception as exc:
            log.info("delete %s %s: %s", kind.kind, name, exc)
