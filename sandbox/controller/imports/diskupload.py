"""A VirtualDisk's upload: the uploader's steps until the user's data is in (the DVCR stage of an Upload
source); the PVC stage is the same as for any DVCR source (..diskdvcr).
"""
from __future__ import annotations

import shutil
from pathlib import Path

from ...platform import V1_10
from ..model.kinds import VD
from .diskjob import DVCR_IMPORT, UPLOAD_DEADLINE, UPLOAD_WAIT, DiskJob
from .disksteps import DiskSteps, Stop
from .importers import Fetched
from .uploader import Uploader, UploadHub, UploadNotStarted, random_path, serve_upload


class DiskUpload:
    def __init__(self, steps: DiskSteps, hub: UploadHub) -> None:
        self.steps = steps
        self.hub = hub

    async def receive(self, vd: dict, job: DiskJob, workdir: Path, pod: str) -> Fetched:
        """The uploader: Provisioning until it listens, WaitForUserUpload with the URLs, then the DVCR stage."""
        steps = self.steps
        settings = steps.ctx.settings.for_object(vd)
        line = V1_10 if settings.platform == V1_10 else "dev"
        job.step("Provisioning", "Provisioning",
                 f'Waiting for the uploader "{pod.split("/")[-1]}" to be ready to process the user\'s upload.')
        steps.poke(job)
        await steps.until_shown(job)
        checksum = (((vd.get("spec") or {}).get("dataSource") or {}).get("upload") or {}).get("checksum")
        kept = workdir / "uploaded"

        def on_ready(slot: Uploader, urls: dict[str, str]) -> None:
            job.uploader, job.upload_urls = slot, urls
            job.step("WaitForUserUpload", "WaitForUserUpload", UPLOAD_WAIT[line], "0%")
            steps.poke(job)

        def on_start(length: int) -> None:
            job.step("Provisioning", "Provisioning", DVCR_IMPORT)
            job.span, job.speed = (0.0, 0.5), True
            steps.poke(job)

        def on_bytes(got: int, total: int) -> None:
            job.feed.fraction = min(got / total, 0.999)
            job.feed.advance(0, None)
            job.feed.done_bytes = got

        async def store(path: Path) -> str | None:
            shutil.move(str(path), kept)
            return None

        deadline = None if settings.platform == V1_10 else settings.upload_deadline
        try:
            error = await serve_upload(self.hub, random_path(), workdir / "source", checksum, deadline,
                                       on_ready, on_start, on_bytes, store)
        except UploadNotStarted:
            job.upload_urls = None
            job.fail("WaitForUserUploadTimeout", UPLOAD_DEADLINE)
            await steps.ctx.writer.event(VD, steps.live(vd), "Warning", "DataSourceImportFailed", UPLOAD_DEADLINE)
            raise Stop() from None
        finally:
            job.uploader = None
        if error is not None:
            steps.stop(job, steps.upload_failure_reason(), steps.pod_failed(pod, error))
        return Fetched(kept, "disk.img")
