"""Where a fetched image ends up: pushed to DVCR and, for PVC storage, converted into the volume.

Runs in an import's worker thread (blocking), reporting progress through the job's feed.
"""
from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
from pathlib import Path

from ... import dvcr, tools
from ..model.kinds import Kind
from ..model.names import image_pvc, image_repo
from ..runtime.context import Context
from .diskinfo import DiskInfo, decompress_to, inspect_file
from .imagejob import ImageJob
from .importers import Fetched

log = logging.getLogger(__name__)


class ImageStore:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def store(self, kind: Kind, obj: dict, job: ImageJob, fetched: Fetched, workdir: Path) -> None:
        """Push to DVCR (and fill the volume); for PVC storage then create the PVC object."""
        await asyncio.to_thread(self._store, kind, obj, job, fetched, workdir)
        if job.pvc:
            await self.ctx.writer.create_pvc(obj, image_pvc(obj), job.storage_class or "", job.info.virtual_size)

    def _store(self, kind: Kind, obj: dict, job: ImageJob, fetched: Fetched, workdir: Path) -> None:
        """Inspect, push to DVCR, and for PVC storage fill the volume (blocking; in a thread)."""
        job.feed.check()
        info = inspect_file(fetched.path, workdir)
        md = obj["metadata"]
        delay = 0.2
        while True:  # DVCR down: the importer pod would crash-loop until it is back; so do we
            try:
                self.ctx.dvcr.push_disk(image_repo(kind, obj), md["uid"], fetched.path, fetched.name, workdir)
                break
            except dvcr.RegistryError as exc:
                log.warning("push %s: %s (retrying)", md["name"], exc)
                job.feed.cancel.wait(delay)
                job.feed.check()
                delay = min(delay * 2, 3.0)
        job.avg_bps = job.feed.avg_bps
        if job.pvc:
            job.span = (0.5, 1.0)
            job.feed.fraction = 0.0
            job.feed.notify()
            info = self._fill_volume(obj, job, fetched.path, info, workdir)
        job.info = info
        job.feed.check()

    def _fill_volume(self, obj: dict, job: ImageJob, src: Path, info: DiskInfo, workdir: Path) -> DiskInfo:
        """The PVC holds a raw disk (the importer converts); an ISO stays as it is."""
        md = obj["metadata"]
        vol = self.ctx.files.volume(md["namespace"], image_pvc(obj))
        vol.parent.mkdir(parents=True, exist_ok=True)
        plain = workdir / "plain"
        decompress_to(src, plain)
        job.feed.fraction = 0.5
        job.feed.notify()
        if info.format in ("iso", "raw"):
            shutil.move(str(plain), vol)
        else:
            subprocess.run([tools.command("qemu-img"), "convert", "-O", "raw", str(plain), str(vol)], check=True,
                           capture_output=True)
            info = DiskInfo("raw", info.virtual_size, info.stored_bytes)
        job.feed.fraction = 0.99
        return info
