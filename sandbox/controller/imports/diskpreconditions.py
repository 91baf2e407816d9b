"""What must hold before a VirtualDisk's provisioning makes anything: a readable data source
(DatasourceReady) and a ready storage class.
"""
from __future__ import annotations

from typing import Any

from ..model.kinds import CVI, VD, VDSNAP, VI
from ..runtime.context import Context
from ..runtime.queries import disk_storage_class
from .diskjob import DiskJob
from .disksteps import DiskSteps
from .imagejob import ImageJob
from .sources import Blocked, Sources


class DiskPreconditions:
    """Waits, showing the platform's Pending step, until a disk's source and storage class can be used."""

    def __init__(self, ctx: Context, steps: DiskSteps) -> None:
        self.ctx = ctx
        self.steps = steps
        self.sources = Sources(ctx)

    async def wait_datasource(self, vd: dict, job: DiskJob, typ: str) -> Any:
        """DatasourceReady (vd DatasourceReadyHandler): Pending, Ready DatasourceIsNotReady / DatasourceIsNotFound
        with the datasource's message until the source can be read. Returns what to read: the fetcher (HTTP,
        ContainerImage), the image or snapshot object (ObjectRef), None (blank, upload)."""
        while True:
            live = self.steps.live(vd)
            src, problem = self._resolve(live, typ)
            if problem is None:
                job.datasource = (True, "DatasourceReady", "")
                return src
            reason, msg = problem
            ready_reason = "DatasourceIsNotFound" if reason in ("ImageNotFound", "ClusterImageNotFound") \
                else "DatasourceIsNotReady"
            if job.datasource != (False, reason, msg):
                job.datasource = (False, reason, msg)
                job.step("Pending", ready_reason, msg)
                self.steps.poke(job)
            await self.ctx.queue.wait_world(2.0)

    def _resolve(self, vd: dict, typ: str) -> tuple[Any, Blocked | None]:
        ns = vd["metadata"]["namespace"]
        ds = (vd.get("spec") or {}).get("dataSource") or {}
        if typ in ("HTTP", "ContainerImage"):
            stub = ImageJob(key=("", "", ""), uid="", generation=0, kind=VD.kind)
            blocked, fetcher = self.sources.resolve(VD, vd, stub)
            if blocked:
                return None, blocked
            return fetcher, None
        if typ != "ObjectRef":
            return None, None
        ref = ds.get("objectRef") or {}
        kind, name = ref.get("kind"), ref.get("name", "")
        cache = self.ctx.cache
        if kind in ("VirtualImage", "ClusterVirtualImage"):
            k = VI if kind == "VirtualImage" else CVI
            obj = cache.get(k, ns if k is VI else None, name)
            short = "Image" if k is VI else "ClusterImage"
            if obj is None:
                return None, (f"{short}NotFound", f'{kind} "{name}" not found.')
            st = obj.get("status") or {}
            target = st.get("target") or {}
            if st.get("phase") != "Ready" or not (target.get("registryURL") or target.get("persistentVolumeClaimName")):
                return None, (f"{short}NotReady", f'{kind} "{name}" not ready.')
            return obj, None
        if kind == "VirtualDiskSnapshot":
            snap = cache.get(VDSNAP, ns, name)
            if snap is None or (snap.get("status") or {}).get("phase") != "Ready":
                return None, ("VirtualDiskSnapshot", f'VirtualDiskSnapshot "{name}" not ready.')
            return snap, None
        return None, ("DatasourceIsNotReady", f'{kind} "{name}" not ready.')

    async def wait_storage_class(self, vd: dict, job: DiskJob) -> str:
        """Ready StorageClassIsNotReady `The StorageClass is not ready.` until StorageClassReady holds."""
        while True:
            name, (ok, _, _) = disk_storage_class(self.ctx.cache, self.steps.live(vd), "")
            if ok:
                return name
            if job.ready != ("StorageClassIsNotReady", "The StorageClass is not ready."):
                job.step("Pending", "StorageClassIsNotReady", "The StorageClass is not ready.")
                self.steps.poke(job)
            await self.ctx.queue.wait_world(2.0)
