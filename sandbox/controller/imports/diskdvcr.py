"""A VirtualDisk through DVCR (HTTP, ContainerImage, Upload): the download or the upload first (0-50%), then
the conversion into the disk's PVC (50-100%).
"""
from __future__ import annotations

import asyncio
from pathlib import Path

from .diskinfo import inspect_file
from .diskjob import DVCR_CREATE, DVCR_IMPORT, PVC_IMPORT, DiskJob
from .disksteps import ISO_NOT_SUPPORTED, DiskSteps
from .diskupload import DiskUpload
from .diskvolume import pvc_size, spec_size
from .importers import Fetched, ImportFailed
from .sources import Fetcher


class DvcrDisk:
    def __init__(self, steps: DiskSteps, upload: DiskUpload) -> None:
        self.steps = steps
        self.upload = upload

    async def provision(self, vd: dict, job: DiskJob, workdir: Path, storage_class: str,
                        fetch: Fetcher | None) -> None:
        """`fetch` reads an HTTP or registry source; None means the user uploads the data."""
        steps = self.steps
        md = vd["metadata"]
        upload = fetch is None
        pod = (f"{md['namespace']}/d8v-vd-uploader-{md['name']}-{md['uid']}" if upload
               else f"{md['namespace']}/d8v-vd-importer-{md['uid']}")
        job.step("Provisioning", "Provisioning", DVCR_CREATE, "0%")
        steps.poke(job)
        await steps.until_shown(job)
        steps.fault(vd, job, pod, upload)
        if fetch is None:
            fetched = await self.upload.receive(vd, job, workdir, pod)
        else:
            fetched = await self._download(job, workdir, pod, fetch)
        job.avg_bps = job.feed.avg_bps
        job.span, job.speed, job.progress = None, False, "50.0%"
        info = await asyncio.to_thread(inspect_file, fetched.path, workdir)
        if info.format == "iso":
            steps.stop(job, "ProvisioningFailed", ISO_NOT_SUPPORTED)
        size, capacity = pvc_size(spec_size(vd), info.virtual_size)
        await steps.wait_consumer(job, storage_class, imported=True)
        await steps.create_pvc(vd, job, storage_class, capacity)
        job.step("Provisioning", "Provisioning", PVC_IMPORT)
        job.feed.fraction = 0.0
        job.span = (0.5, 1.0)
        steps.poke(job)
        await steps.fill(vd, job, lambda: fetched.path, size, workdir)
        steps.finish(job, capacity)

    async def _download(self, job: DiskJob, workdir: Path, pod: str, fetch: Fetcher) -> Fetched:
        """The importer Pod's download into DVCR; its failure is the Pod's report."""
        job.step("Provisioning", "Provisioning", DVCR_IMPORT)
        job.span, job.speed = (0.0, 0.5), True
        self.steps.poke(job)
        try:
            return await asyncio.to_thread(fetch, workdir, job.feed)
        except ImportFailed as exc:
            self.steps.stop(job, "ProvisioningFailed", self.steps.pod_failed(pod, exc))
