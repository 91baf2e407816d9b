"""The controller process: informers feed a de-duplicating work queue, workers hand each object to
its kind's reconciler.

This module only wires things up and dispatches: reconcilers get a narrow `Context` (cache,
writer, queue, files, settings, DVCR) and never see the controller itself.
"""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from ..config import State
from ..dvcr import Registry
from .imports.diskimport import DiskImports
from .imports.imageimport import ImageImports
from .imports.imagejob import ImageJobs
from .imports.uploader import UploadHub
from .model.kinds import CVI, PVC, SECRET, STORAGECLASS, VD, VDSNAP, VI, VM, VMOP, Kind
from .model.power import Freezes, Power
from .model.settings import Settings
from .reconcilers.virtualdisk import VirtualDiskReconciler
from .reconcilers.virtualdisksnapshot import VirtualDiskSnapshotReconciler
from .reconcilers.virtualimage import VirtualImageReconciler
from .reconcilers.virtualmachine import VirtualMachineReconciler
from .reconcilers.virtualmachineoperation import VirtualMachineOperationReconciler
from .runtime.cache import Cache
from .runtime.context import Context, Reconciler
from .runtime.files import Files
from .runtime.informer import Informer
from .runtime.kube import ApiError, Kube
from .runtime.workqueue import Key, WorkQueue
from .runtime.writer import Writer

log = logging.getLogger(__name__)
KINDS = (VI, CVI, VD, VDSNAP, VM, VMOP, SECRET, PVC, STORAGECLASS)
# Who to look at again when an object of a kind changes (same namespace; every namespace when the
# changed object or the dependent kind is cluster-scoped).
DEPENDENTS: dict[Kind, tuple[Kind, ...]] = {
    VM: (VI, CVI, VD, VMOP, VDSNAP),
    VI: (VM, VD), CVI: (VM, VD),
    VD: (VM, VDSNAP, VI, CVI),
    VDSNAP: (VD,),
    PVC: (VI, VD),
    STORAGECLASS: (VD,),
}


class Controller:
    def __init__(self, state: State, settings: Settings) -> None:
        info = state.load_info()
        settings.platform = str(info.get("platform") or settings.platform)
        ports = info.get("ports", {})
        self.kube = Kube(info["api_url"], info["tokens"]["controller"], str(state.ca_crt))
        self.hub = UploadHub(int(ports["uploader"]), state.tls_dir / "uploader.crt", state.tls_dir / "uploader.key")
        self.informers = {k.kind: Informer(self.kube, k, self._changed(k)) for k in KINDS}
        self.queue = WorkQueue()
        cache = Cache(self.informers)
        ctx = Context(cache=cache, writer=Writer(self.kube, cache), queue=self.queue,
                      files=Files(state.root / "controller"), settings=settings,
                      dvcr=Registry(f"127.0.0.1:{ports['dvcr']}", str(state.ca_crt)))
        self.ctx = ctx
        jobs, power, freezes = ImageJobs(), Power(), Freezes()
        imports = ImageImports(ctx, jobs, self.hub)
        self.images = [VirtualImageReconciler(ctx, VI, imports), VirtualImageReconciler(ctx, CVI, imports)]
        reconcilers: list[Reconciler] = [
            *self.images,
            VirtualDiskReconciler(ctx, DiskImports(ctx, self.hub), jobs),
            VirtualDiskSnapshotReconciler(ctx, freezes),
            VirtualMachineReconciler(ctx, power, freezes),
            VirtualMachineOperationReconciler(ctx, power),
        ]
        self.reconcilers: dict[str, Reconciler] = {r.kind.kind: r for r in reconcilers}

    # -- watch events -> queue ----------------------------------------------------------------------
    def _poke_all(self, kind: Kind, ns: str | None) -> None:
        for obj in self.ctx.cache.items(kind, ns if kind.namespaced else None):
            self.queue.poke((kind.kind, obj["metadata"].get("namespace", ""), obj["metadata"]["name"]))

    def _changed(self, kind: Kind) -> Callable[[dict, bool], None]:
        def on_change(obj: dict, deleted: bool) -> None:
            md = obj["metadata"]
            ns = md.get("namespace") or None     # None: cluster-scoped, its dependents everywhere
            reconciler = self.reconcilers.get(kind.kind)
            if reconciler is not None:
                if deleted:
                    reconciler.forget(obj)
                else:
                    self.queue.poke((kind.kind, ns or "", md["name"]))
            for dependent in DEPENDENTS.get(kind, ()):
                self._poke_all(dependent, ns)
            self.queue.world_changed()
        return on_change

    async def _reconcile(self, key: Key) -> None:
        kind_name, ns, name = key
        obj = self.informers[kind_name].get(ns, name)
        reconciler = self.reconcilers.get(kind_name)
        if obj is None or reconciler is None:
            return
        try:
            await reconciler.reconcile(obj)
        except ApiError as exc:
            if exc.status not in (404, 409):
                log.warning("reconcile %s: %s", key, exc)
            self.queue.poke_later(0.2, key)
        except Exception:
            log.exception("reconcile %s", key)
            self.queue.poke_later(1.0, key)

    # -- periodic -----------------------------------------------------------------------------------
    async def _registry_checker(self) -> None:
        """ImageLost: look for every Ready DVCR image once per its check interval."""
        last: dict[str, float] = {}
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(0.5)
            for images in self.images:
                for obj in self.ctx.cache.items(images.kind):
                    phase = (obj.get("status") or {}).get("phase")
                    if phase not in ("Ready", "ImageLost") or obj["metadata"].get("deletionTimestamp"):
                        continue
                    uid = obj["metadata"]["uid"]
                    interval = self.ctx.settings.for_object(obj).image_check_interval
                    if loop.time() - last.get(uid, 0.0) < interval:
                        continue
                    last[uid] = loop.time()
                    await images.check_registry(obj)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self.queue.bind(loop)
        # imports block a worker thread each: enough of them that a catalog imports in parallel
        loop.set_default_executor(ThreadPoolExecutor(max_workers=64, thread_name_prefix="import"))
        tasks = [asyncio.create_task(inf.run()) for inf in self.informers.values()]
        await asyncio.gather(*(inf.synced.wait() for inf in self.informers.values()))
        await self.hub.start()  # the supervisor's health check: listening = synced and serving
        log.info("controller synced")
        tasks += [asyncio.create_task(self.queue.work(self._reconcile)) for _ in range(4)]
        tasks.append(asyncio.create_task(self._registry_checker()))
        try:
            await asyncio.gather(*tasks)
        finally:
            await self.kube.close()
