"""The steps every VirtualDisk source shares: showing a step, the fault hook, the PVC, its first consumer, the
volume fill and the end.

Fault hook `sandbox.deckhouse.io/disk-error: <error>`: the provisioning Pod reports <error> (Failed; see
`DiskSteps.fault`).
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Callable, NoReturn

from ...api.admission.pvcsize import capitalized
from ...api.admission.webhooks.disksource import ISO_SOURCE_NOT_SUPPORTED
from ...platform import V1_10
from ..model.kinds import VD
from ..model.names import disk_pvc
from ..runtime.context import Context
from ..runtime.queries import disk_scheduled, disk_users, late_binding
from .diskjob import PVC_POD_FAILED, WFFC_NO_VM, WFFC_NOT_SCHEDULED, DiskJob
from .diskvolume import fill_volume
from .importers import pod_says

FAULT_ANNOTATION = "sandbox.deckhouse.io/disk-error"
ISO_NOT_SUPPORTED = capitalized(ISO_SOURCE_NOT_SUPPORTED) + "."


class Stop(Exception):
    """The job ended in a terminal state (already recorded in the job)."""


class DiskSteps:
    """One disk job's dealings with the world: the sources call these so each rule lives in one place."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def poke(self, job: DiskJob) -> None:
        self.ctx.queue.poke(job.key)

    def live(self, vd: dict) -> dict:
        """The disk as the cache has it now (the job's copy when it is gone)."""
        md = vd["metadata"]
        return self.ctx.cache.get(VD, md["namespace"], md["name"]) or vd

    @staticmethod
    def stop(job: DiskJob, reason: str, message: str) -> NoReturn:
        """End the job Failed with `reason` and `message`."""
        job.fail(reason, message)
        raise Stop()

    async def until_shown(self, job: DiskJob, timeout: float = 5.0) -> None:
        """Let a client see the current step: wait until the stored status shows it (bounded)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        _, ns, name = job.key
        while loop.time() < deadline:
            vd = self.ctx.cache.get(VD, ns, name)
            if vd is None:
                return
            ready = [c for c in (vd.get("status") or {}).get("conditions") or [] if c["type"] == "Ready"]
            if ready and job.ready and (ready[0]["reason"], ready[0]["message"]) == job.ready:
                return
            await self.ctx.queue.wait_world(0.1)

    def fault(self, vd: dict, job: DiskJob, pod: str | None, upload: bool = False) -> None:
        """`sandbox.deckhouse.io/disk-error: <error>`: the provisioning Pod fails. With a DVCR importer/uploader
        Pod (HTTP, registry, upload): `Provisioning failed: Pod <ns>/<pod> reported: <error>.`, reason
        ProvisioningFailed (an upload on dev: ProvisioningFailedTerminally); otherwise the PVC importer's
        `VirtualDisk importer Pod failed.` (ProvisioningFailed)."""
        error = (self.live(vd)["metadata"].get("annotations") or {}).get(FAULT_ANNOTATION)
        if not error:
            return
        if pod is None:
            self.stop(job, "ProvisioningFailed", PVC_POD_FAILED)
        self.stop(job, self.upload_failure_reason() if upload else "ProvisioningFailed", self.pod_failed(pod, error))

    def pod_failed(self, pod: str, error: object) -> str:
        """A provisioning Pod's report as the stat service words it on the line served."""
        return f"Provisioning failed: Pod {pod} {pod_says(self.ctx.settings.platform)}: {error}."

    def upload_failure_reason(self) -> str:
        return "ProvisioningFailed" if self.ctx.settings.platform == V1_10 else "ProvisioningFailedTerminally"

    async def create_pvc(self, vd: dict, job: DiskJob, storage_class: str, size: str) -> None:
        job.pvc = disk_pvc(vd)
        await self.ctx.writer.create_pvc(vd, job.pvc, storage_class, size, bound=not late_binding(
            self.ctx.cache, storage_class))

    async def wait_consumer(self, job: DiskJob, storage_class: str, imported: bool) -> None:
        """On a late-binding class: WaitForFirstConsumer until a VM using the disk is scheduled. An imported
        disk attached to one VM that is not scheduled yet says so (WaitForPVCImportStep)."""
        if not late_binding(self.ctx.cache, storage_class):
            return
        _, ns, name = job.key
        while not disk_scheduled(self.ctx.cache, ns, name):
            attached = disk_users(self.ctx.cache, ns, name)
            msg = WFFC_NOT_SCHEDULED if imported and len(attached) == 1 else WFFC_NO_VM
            if job.ready != ("WaitingForFirstConsumer", msg):
                job.step("WaitForFirstConsumer", "WaitingForFirstConsumer", msg)
                self.poke(job)
            await self.ctx.queue.wait_world(2.0)
        if job.pvc:
            await self.ctx.writer.bind_pvc(ns, job.pvc)

    async def fill(self, vd: dict, job: DiskJob, source: Callable[[], Path], size: int, workdir: Path) -> None:
        """The disk's volume made from what `source` gives (in a thread, so the controller keeps serving)."""
        await asyncio.to_thread(fill_volume, source, self.ctx.files.disk(vd), size, job.feed, workdir)

    def finish(self, job: DiskJob, capacity: str) -> None:
        job.span, job.speed = None, False
        job.capacity = capacity
        job.ready, job.phase, job.progress = None, "Ready", "100%"
        self.poke(job)
