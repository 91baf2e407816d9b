"""The cluster's background controllers that the API server's semantics rely on.

- namespace controller: a Terminating namespace loses its content, then its `kubernetes`
  finalizer, then goes;
- garbage collector: dependents whose owners are all gone are deleted (background), the
  `foregroundDeletion` finalizer waits for dependents to go, `orphan` strips owner references.

Runs soon after writes that may need it (deletes, objects with ownerReferences or a
deletionTimestamp), off the request path, as the real controllers run asynchronously.
"""
from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

from .ops import Api, WriteContext
from .resources import ResourceType

log = logging.getLogger(__name__)
GC_USER = "system:serviceaccount:kube-system:generic-garbage-collector"
NS_USER = "system:serviceaccount:kube-system:namespace-controller"


class Collector:
    def __init__(self, api: Api) -> None:
        self.api = api
        self._scheduled = False

    def kick(self) -> None:
        """Schedule one sweep on the event loop (coalesced)."""
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return      # not serving yet: the caller's own sweep() loops until nothing changes
        self._scheduled = True
        loop.call_soon(self._run)

    def _run(self) -> None:
        self._scheduled = False
        try:
            self.sweep()
        except Exception:  # never take the server down; log and try on the next write
            log.exception("garbage collection sweep failed")

    def _write(self, r: ResourceType, obj: dict[str, Any], new: dict[str, Any], user: str) -> None:
        md = obj["metadata"]
        ctx = WriteContext(user=user, field_manager=user.rsplit(":", 1)[-1])
        self.api.update(r, md.get("namespace", ""), md["name"], new, ctx, None)

    def _delete(self, r: ResourceType, obj: dict[str, Any], user: str) -> None:
        md = obj["metadata"]
        if md.get("deletionTimestamp"):
            return
        self.api.delete(r, md.get("namespace", ""), md["name"], {"propagationPolicy": "Background"},
                        WriteContext(user=user))

    def sweep(self, rounds: int = 20) -> None:
        for _ in range(rounds):
            if not self._once():
                return

    def _once(self) -> bool:
        store = self.api.store
        changed = False
        snapshot = [(k, copy.deepcopy(o)) for k, o in store.objects.items()]
        for key, obj in snapshot:
            if key not in store.objects:
                continue
            r = store.type_of(key)
            md = obj["metadata"]
            deleting = bool(md.get("deletionTimestamp"))
            if r.kind == "Namespace" and deleting:
                changed |= self._namespace(r, obj)
            elif deleting and "orphan" in (md.get("finalizers") or []):
                for dkey, dep in self._dependents(md["uid"]):
                    new = copy.deepcopy(dep)
                    new["metadata"]["ownerReferences"] = [
                        ref for ref in dep["metadata"]["ownerReferences"] if ref.get("uid") != md["uid"]]
                    if not new["metadata"]["ownerReferences"]:
                        del new["metadata"]["ownerReferences"]
                    self._write(store.type_of(dkey), dep, new, GC_USER)
                self._drop_finalizer(r, obj, "orphan")
                changed = True
            elif deleting and "foregroundDeletion" in (md.get("finalizers") or []):
                deps = self._dependents(md["uid"])
                for dkey, dep in deps:
                    if not dep["metadata"].get("deletionTimestamp"):
                        self._delete(store.type_of(dkey), dep, GC_USER)
                        changed = True
                if not deps:
                    self._drop_finalizer(r, obj, "foregroundDeletion")
                    changed = True
            cur = store.objects.get(key)
            refs = (cur or {}).get("metadata", {}).get("ownerReferences") or []
            if refs and cur is not None:
                live = [ref for ref in refs if store.by_uid(ref.get("uid", "")) is not None]
                if not live:
                    self._delete(r, store.objects[key], GC_USER)
                    changed = True
                elif len(live) != len(refs):
                    new = copy.deepcopy(store.objects[key])
                    new["metadata"]["ownerReferences"] = live
                    self._write(r, store.objects[key], new, GC_USER)
                    changed = True
        return changed

    def _dependents(self, uid: str) -> list[tuple[Any, dict[str, Any]]]:
        return [(k, o) for k, o in list(self.api.store.objects.items())
                if any(ref.get("uid") == uid for ref in o["metadata"].get("ownerReferences") or [])]

    def _drop_finalizer(self, r: ResourceType, obj: dict[str, Any], name: str) -> None:
        cur = self.api.store.get(self.api.key(r, obj["metadata"].get("namespace", ""),
                                              obj["metadata"]["name"]))
        if cur is None:
            return
        new = copy.deepcopy(cur)
        new["metadata"]["finalizers"] = [f for f in cur["metadata"].get("finalizers") or [] if f != name]
        self._write(r, cur, new, GC_USER)

    def _namespace(self, r: ResourceType, ns_obj: dict[str, Any]) -> bool:
        store = self.api.store
        ns = ns_obj["metadata"]["name"]
        content = [(k, o) for k, o in list(store.objects.items()) if k[1] == ns and store.type_of(k).namespaced]
        changed = False
        for key, obj in content:
            if not obj["metadata"].get("deletionTimestamp"):
                self._delete(store.type_of(key), obj, NS_USER)
                changed = True
        if content:
            return changed
        fins = (ns_obj.get("spec") or {}).get("finalizers") or []
        if "kubernetes" in fins:
            new = copy.deepcopy(ns_obj)
            new["spec"]["finalizers"] = [f for f in fins if f != "kubernetes"]
            self.api.update(r, "", ns, new, WriteContext(user=NS_USER, field_manager="namespace-controller"),
                            "finalize")
            changed = True
        cur = store.get(self.api.key(r, "", ns))
        if cur is not None and not (cur.get("spec") or {}).get("finalizers") \
                and not cur["metadata"].get("finalizers"):
            store.remove(r, self.api.key(r, "", ns))
            changed = True
        return changed
