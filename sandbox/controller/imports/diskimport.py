"""The provisioning of VirtualDisks: one job per disk generation, run in its own task.

The steps and their wording follow the platform's vd controller (`vd/internal/source/*.go` and
`step/*.go`, v1.10.2 and main): the data source is validated first (DatasourceReady, ..diskpreconditions),
then the storage class; HTTP, registry and upload sources go through "DVCR" (0-50%, the download) and
then the PVC (50-100%, the conversion to raw; ..diskdvcr, ..diskupload); images and snapshots go to the PVC
directly (..diskobjectref); a blank disk is an empty volume (..diskblank). On a storage class with
`volumeBindingMode: WaitForFirstConsumer` the data lands only once a VM using the disk is scheduled (phase
WaitForFirstConsumer until then). The job never writes status: it pokes its disk and the reconciler turns
`job.core()` into status. What the sources share (the fault hook among it) is in ..disksteps.
"""
from __future__ import annotations

import asyncio
import logging
import shutil

from ..model.kinds import VD
from ..runtime.context import Context
from .diskblank import BlankDisk
from .diskdvcr import DvcrDisk
from .diskjob import DiskJob
from .diskobjectref import ObjectRefDisk
from .diskpreconditions import DiskPreconditions
from .disksteps import DiskSteps, Stop
from .diskupload import DiskUpload
from .importers import Cancelled, Feed, ImportFailed
from .uploader import UploadHub, stop_job

log = logging.getLogger(__name__)


class DiskImports:
    """The disks' provisioning jobs in flight, by disk uid: started and dropped by the disk reconciler."""

    def __init__(self, ctx: Context, hub: UploadHub) -> None:
        self.ctx = ctx
        self.hub = hub
        self.jobs: dict[str, DiskJob] = {}
        steps = DiskSteps(ctx)
        self.preconditions = DiskPreconditions(ctx, steps)
        self.blank = BlankDisk(steps)
        self.object_ref = ObjectRefDisk(steps)
        self.dvcr = DvcrDisk(steps, DiskUpload(steps, hub))

    def start(self, vd: dict) -> DiskJob:
        md = vd["metadata"]
        key = (VD.kind, md["namespace"], md["name"])
        job = DiskJob(key=key, uid=md["uid"], generation=md.get("generation", 1))
        settings = self.ctx.settings.for_object(vd)
        job.feed = Feed(notify=lambda: self.ctx.queue.poke_threadsafe(key), rate=settings.import_rate)
        self.jobs[job.uid] = job
        job.task = asyncio.create_task(self._run(vd, job))
        return job

    async def drop(self, uid: str) -> None:
        job = self.jobs.pop(uid, None)
        if job is not None:
            await stop_job(self.hub, job)

    async def _run(self, vd: dict, job: DiskJob) -> None:
        md = vd["metadata"]
        workdir = self.ctx.files.work_dir("vd-" + job.uid)
        ds = (vd.get("spec") or {}).get("dataSource") or {}
        typ = ds.get("type") if ds else "Blank"
        try:
            src = await self.preconditions.wait_datasource(vd, job, typ)
            storage_class = await self.preconditions.wait_storage_class(vd, job)
            if typ in ("HTTP", "ContainerImage"):
                await self.dvcr.provision(vd, job, workdir, storage_class, fetch=src)
            elif typ == "Upload":
                await self.dvcr.provision(vd, job, workdir, storage_class, fetch=None)
            elif typ == "ObjectRef":
                await self.object_ref.provision(vd, job, workdir, storage_class, src)
            else:
                await self.blank.provision(vd, job, storage_class)
        except (Stop, Cancelled):
            pass
        except asyncio.CancelledError:
            job.feed.cancel.set()
            raise
        except ImportFailed as exc:
            job.fail("ProvisioningFailed", str(exc))
        except Exception as exc:  # an internal error still ends as the platform would show it
            log.exception("disk %s", md["name"])
            job.fail("ProvisioningFailed", f"Unexpected error: {exc.__class__.__name__}: {exc}.")
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        self.ctx.queue.poke(job.key)
