"""The controller process: informers, a de-duplicating work queue, and the shared helpers
(status writes, finalizers, events, PVCs) every reconciler uses.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from .. import dvcr
from ..config import State
from .images import Images
from .kube import (CVI, EVENT, PVC, SECRET, STORAGECLASS, VD, VDSNAP, VI, VM, VMOP, ApiError, Informer, Kind,
                   Kube)
from .machines import Machines
from .settings import Settings
from .sources import Sources
from .status import now, status_patch
from .uploader import UploadHub

log = logging.getLogger(__name__)
KINDS = (VI, CVI, VD, VDSNAP, VM, VMOP, SECRET, PVC, STORAGECLASS)
DEFAULT_SC_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


class Controller:
    def __init__(self, state: State, settings: Settings) -> None:
        info = state.load_info()
        self.state_dir = state.root
        self.settings = settings
        self.kube = Kube(info["api_url"], info["tokens"]["controller"], str(state.ca_crt))
        ports = info.get("ports", {})
        self.dvcr_host = f"127.0.0.1:{ports['dvcr']}"
        self.dvcr = dvcr.Registry(self.dvcr_host, str(state.ca_crt))
        self.hub = UploadHub(int(ports["uploader"]), state.tls_dir / "uploader.crt", state.tls_dir / "uploader.key")
        self.inf: dict[str, Informer] = {k.kind: Informer(self.kube, k, self._changed(k)) for k in KINDS}
        self.queue: asyncio.Queue[tuple[str, str, str]] = asyncio.Queue()
        self.queued: set[tuple[str, str, str]] = set()
        self.active: set[tuple[str, str, str]] = set()
        self.dirty: set[tuple[str, str, str]] = set()
        self._world = asyncio.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.images = Images(self)
        self.machines = Machines(self)
        self.sources = Sources(self)
        self._kinds = {k.kind: k for k in KINDS}

    # -- queue ------------------------------------------------------------------------------------
    def poke(self, key: tuple[str, str, str]) -> None:
        if key not in self.queued:
            self.queued.add(key)
            self.queue.put_nowait(key)

    def poke_threadsafe(self, key: tuple[str, str, str]) -> None:
        assert self.loop is not None
        self.loop.call_soon_threadsafe(self.poke, key)

    def _poke_all(self, kind: Kind, ns: str | None) -> None:
        for obj in self.inf[kind.kind].items(ns if kind.namespaced else None):
            self.poke((kind.kind, obj["metadata"].get("namespace", ""), obj["metadata"]["name"]))

    def _changed(self, kind: Kind) -> Callable[[dict, bool], None]:
        def on_change(obj: dict, deleted: bool) -> None:
            md = obj["metadata"]
            ns = md.get("namespace")
            if deleted:
                if kind is VD:
                    self.machines.forget_disk(obj)
                    asyncio.ensure_future(self._delete_quietly(PVC, ns, f"vd-{md['name']}-{md['uid']}"))
                elif kind is VDSNAP:
                    self.machines.forget_snapshot(obj)
                elif kind in (VI, CVI):
                    asyncio.ensure_future(self.images._drop_job(md["uid"]))
            elif kind in (VI, CVI, VD, VDSNAP, VM, VMOP):
                self.poke((kind.kind, ns or "", md["name"]))
            # who depends on what
            if kind is VM:
                self._poke_all(VI, ns), self._poke_all(CVI, None), self._poke_all(VD, ns), self._poke_all(VMOP, ns)
            elif kind in (VI, CVI, VD):
                self._poke_all(VM, ns if kind is not CVI else None)
                if kind is VD:
                    self._poke_all(VDSNAP, ns)
            elif kind is PVC:
                self._poke_all(VI, ns)
            self._world.set()
            self._world = asyncio.Event()
        return on_change

    async def _delete_quietly(self, kind: Kind, ns: str | None, name: str) -> None:
        try:
            await self.kube.delete(kind, ns, name)
        except Exception as exc:  # the namespace may be going away with it
            log.info("delete %s %s: %s", kind.kind, name, exc)

    async def wait_world(self, timeout: float) -> None:
        """Sleep until anything watched changes (or timeout): how blocked jobs notice their cause went away."""
        ev = self._world
        try:
            await asyncio.wait_for(ev.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    async def _worker(self) -> None:
        while True:
            key = await self.queue.get()
            self.queued.discard(key)
            if key in self.active:  # one reconcile per object at a time
                self.dirty.add(key)
                continue
            self.active.add(key)
            try:
                await self._reconcile(key)
            finally:
                self.active.discard(key)
                if key in self.dirty:
                    self.dirty.discard(key)
                    self.poke(key)

    async def _reconcile(self, key: tuple[str, str, str]) -> None:
        kind_name, ns, name = key
        kind = self._kinds[kind_name]
        obj = self.inf[kind_name].get(ns, name)
        if obj is None:
            return
        try:
            if kind in (VI, CVI):
                await self.images.reconcile(kind, obj)
            elif kind is VD:
                await self.machines.reconcile_disk(obj)
            elif kind is VDSNAP:
                await self.machines.reconcile_snapshot(obj)
            elif kind is VM:
                await self.machines.reconcile_vm(obj)
            elif kind is VMOP:
                await self.machines.reconcile_vmop(obj)
        except ApiError as exc:
            if exc.status not in (404, 409):
                log.warning("reconcile %s: %s", key, exc)
            self.loop.call_later(0.2, self.poke, key)  # type: ignore[union-attr]
        except Exception:
            log.exception("reconcile %s", key)
            self.loop.call_later(1.0, self.poke, key)  # type: ignore[union-attr]

    # -- API helpers ------------------------------------------------------------------------------
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
        out = await self.kube.patch(kind, md.get("namespace"), md["name"], {"status": patch}, sub="status")
        if out.get("metadata"):
            self.inf[kind.kind].cache[(md.get("namespace", ""), md["name"])] = out

    async def set_finalizers(self, kind: Kind, obj: dict, add: list[str] = (), remove: list[str] = ()) -> None:
        md = obj["metadata"]
        have = list(md.get("finalizers") or [])
        want = [f for f in have if f not in remove] + [f for f in add if f not in have and f not in remove]
        if want == have:
            return
        body = {"metadata": {"finalizers": want or None, "resourceVersion": md.get("resourceVersion")}}
        try:
            out = await self.kube.patch(kind, md.get("namespace"), md["name"], body)
        except ApiError as exc:
            if exc.status == 404:
                return
            raise
        if out.get("metadata"):
            self.inf[kind.kind].cache[(md.get("namespace", ""), md["name"])] = out
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
            await self.kube.create(EVENT, ns, body)
        except ApiError as exc:
            log.warning("event %s: %s", reason, exc)

    def image_users(self, kind: Kind, ns: str | None, name: str) -> list[str]:
        """VMs (not Stopped) whose spec.blockDeviceRefs name this image."""
        out = []
        for vm in self.inf[VM.kind].items(ns if kind is VI else None):
            if ((vm.get("status") or {}).get("phase") or "Pending") == "Stopped":
                continue
            for ref in (vm.get("spec") or {}).get("blockDeviceRefs") or []:
                if ref.get("kind") == kind.kind and ref.get("name") == name:
                    out.append(vm["metadata"]["name"] if kind is VI
                               else f"{vm['metadata']['namespace']}/{vm['metadata']['name']}")
                    break
        return sorted(out)

    def storage_class_for(self, obj: dict) -> tuple[str | None, tuple[str, str]]:
        wanted = ((obj.get("spec") or {}).get("persistentVolumeClaim") or {}).get("storageClassName")
        classes = self.inf[STORAGECLASS.kind].items()
        if wanted:
            if any(sc["metadata"]["name"] == wanted for sc in classes):
                return wanted, ("", "")
            return None, ("StorageClassNotFound", f'Storage class "{wanted}" not found.')
        for sc in classes:
            if (sc["metadata"].get("annotations") or {}).get(DEFAULT_SC_ANNOTATION) == "true":
                return sc["metadata"]["name"], ("", "")
        return None, ("StorageClassNotFound", "The default storage class was not found in the cluster.")

    async def create_pvc(self, owner: dict, name: str, storage_class: str, size: int,
                         kind_prefix: str = "vi") -> None:
        md = owner["metadata"]
        ns = md["namespace"]
        if self.inf[PVC.kind].get(ns, name) is None:
            body: dict[str, Any] = {
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": name, "namespace": ns,
                             "labels": {"virtualization.deckhouse.io/owner": md["name"]}},
                "spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem",
                         "resources": {"requests": {"storage": str(max(size, 1))}}},
            }
            if storage_class:
                body["spec"]["storageClassName"] = storage_class
            try:
                await self.kube.create(PVC, ns, body)
            except ApiError as exc:
                if exc.status != 409:
                    raise
            try:
                await self.kube.patch(PVC, ns, name, {"status": {"phase": "Bound"}}, sub="status")
            except ApiError:
                pass  # a PVC without status support is still a PVC

    def volume_path(self, ns: str, pvc: str) -> Path:
        return self.state_dir / "controller" / "volumes" / ns / f"{pvc}.img"

    def work_dir(self, uid: str) -> Path:
        d = self.state_dir / "controller" / "work" / uid
        d.mkdir(parents=True, exist_ok=True)
        return d

    # -- periodic -----------------------------------------------------------------------------------
    async def _registry_checker(self) -> None:
        """ImageLost: look for every Ready DVCR image once per its check interval."""
        last: dict[str, float] = {}
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(0.5)
            for kind in (VI, CVI):
                for obj in self.inf[kind.kind].items():
                    phase = (obj.get("status") or {}).get("phase")
                    if phase not in ("Ready", "ImageLost") or obj["metadata"].get("deletionTimestamp"):
                        continue
                    uid = obj["metadata"]["uid"]
                    interval = self.settings.for_object(obj).image_check_interval
                    if loop.time() - last.get(uid, 0.0) < interval:
                        continue
                    last[uid] = loop.time()
                    await self.images.check_registry(kind, obj)

    async def run(self) -> None:
        self.loop = asyncio.get_running_loop()
        # imports block a worker thread each: enough of them that a catalog imports in parallel
        self.loop.set_default_executor(ThreadPoolExecutor(max_workers=64, thread_name_prefix="import"))
        tasks = [asyncio.create_task(inf.run()) for inf in self.inf.values()]
        await asyncio.gather(*(inf.synced.wait() for inf in self.inf.values()))
        await self.hub.start()  # the supervisor's health check: listening = synced and serving
        log.info("controller synced")
        tasks += [asyncio.create_task(self._worker()) for _ in range(4)]
        tasks.append(asyncio.create_task(self._registry_checker()))
        try:
            await asyncio.gather(*tasks)
        finally:
            await self.kube.close()
