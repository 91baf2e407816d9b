"""The import jobs of VirtualImages and ClusterVirtualImages: start one, run it, drop it.

A job runs in its own task: wait for the source (and the storage class), fetch or receive the
upload, store the result; each stage is reported through the job, which the image reconciler
turns into status. The job never writes status itself; it pokes its object instead.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import shutil
import time
from pathlib import Path
from typing import Callable

from ...platform import V1_10
from ..model.kinds import VI, Kind
from ..model.names import image_pvc, image_repo
from ..model.settings import Settings
from ..runtime.context import Context
from ..runtime.queries import storage_class_for
from .imagejob import READY_MSG_PREPARING, UPLOAD_DEADLINE_MSG, ImageJob, ImageJobs
from .imagestore import ImageStore
from .importers import Cancelled, Feed, Fetched, ImportFailed, pod_says
from .sources import Fetcher, Sources
from .uploader import Uploader, UploadHub, UploadNotStarted, random_path, serve_upload, stop_job

log = logging.getLogger(__name__)

PLATFORM_NS = "d8-virtualization"
QUOTA_ANNOTATION = "sandbox.deckhouse.io/quota-exceeded"
UNSCHEDULABLE_ANNOTATION = "sandbox.deckhouse.io/unschedulable"


def _age(obj: dict) -> float:
    """Seconds since the object was created."""
    raw = obj["metadata"].get("creationTimestamp")
    if not raw:
        return 0.0
    created = dt.datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    return time.time() - created.timestamp()
StatusTest = Callable[[dict], bool]


class ImageImports:
    def __init__(self, ctx: Context, jobs: ImageJobs, hub: UploadHub) -> None:
        self.ctx = ctx
        self.jobs = jobs
        self.hub = hub
        self.sources = Sources(ctx)
        self.store = ImageStore(ctx)

    def start(self, kind: Kind, obj: dict, st: dict) -> ImageJob:
        """A new job for the object's current generation (its task started unless it failed at once)."""
        md = obj["metadata"]
        key = (kind.kind, md.get("namespace", ""), md["name"])
        job = ImageJob(key=key, uid=md["uid"], generation=md.get("generation", 1), kind=kind.kind)
        settings = self.ctx.settings.for_object(obj)
        job.feed = Feed(notify=lambda: self.ctx.queue.poke_threadsafe(key), rate=settings.import_rate)
        ds = (obj.get("spec") or {}).get("dataSource") or {}
        is_upload = ds.get("type") == "Upload"
        pod_ns = md["namespace"] if kind is VI else PLATFORM_NS
        short = "vi" if kind is VI else "cvi"
        job.pod = f"{pod_ns}/d8v-{short}-{'uploader' if is_upload else 'importer'}-{md['uid']}"
        job.pod_says = pod_says(self.ctx.settings.platform)
        job.pvc = kind is VI and obj["spec"].get("storage") == "PersistentVolumeClaim"
        ext = (st.get("imageUploadURLs") or {}).get("external", "")
        if is_upload and ext:
            job.upload_token = ext.rsplit("/", 1)[-1]
            if st.get("phase") == "Provisioning" and any(
                    c.get("reason") == "Provisioning" and c.get("type") == "Ready" for c in st.get("conditions", [])):
                # The uploader died mid-upload (controller restart): uploads cannot be resumed.
                job.fail("ProvisioningFailedTerminally", "unexpected EOF")
                self.jobs[job.uid] = job
                return job
        self.jobs[job.uid] = job
        job.task = asyncio.create_task(self._run(kind, obj, job, settings))
        return job

    async def drop(self, uid: str) -> None:
        """Stop the object's job, if any: cancel its fetch and close its upload URL."""
        job = self.jobs.pop(uid, None)
        if job is not None:
            await stop_job(self.hub, job)

    async def _run(self, kind: Kind, obj: dict, job: ImageJob, settings: Settings) -> None:
        workdir = self.ctx.files.work_dir(job.uid)
        try:
            source = await self._wait_source(kind, obj, job)
            if job.pvc:
                await self._wait_storage_class(obj, job)
            await self._wait_importer_starts(kind, obj, job)
            if source is None:
                await self._upload(kind, obj, job, workdir, settings)
            else:
                job.stage = "preparing"
                self.ctx.queue.poke(job.key)
                await self._until_written(kind, job, lambda st: any(
                    c.get("type") == "Ready" and c.get("message") == READY_MSG_PREPARING
                    for c in st.get("conditions") or []))
                job.stage = "importing"
                job.span = (0.0, 0.5) if job.pvc else (0.0, 1.0)
                self._set_target(kind, obj, job)
                self.ctx.queue.poke(job.key)
                fetched = await asyncio.to_thread(source, workdir, job.feed)
                await self.store.store(kind, obj, job, fetched, workdir)
                job.stage = "ready"
        except asyncio.CancelledError:
            job.feed.cancel.set()
            raise
        except Cancelled:
            return
        except ImportFailed as exc:
            job.fail("ProvisioningFailed", str(exc))
        except Exception as exc:  # an internal error still ends as the platform would show it
            log.exception("import %s", job.key)
            job.fail("ProvisioningFailed", f"error: {exc.__class__.__name__}: {exc}")
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        if job.stage == "failed":
            await self.ctx.writer.event(kind, obj, "Warning", job.failure[0], job.failure[1])
        self.ctx.queue.poke(job.key)

    async def _until_written(self, kind: Kind, job: ImageJob, pred: StatusTest, timeout: float = 5.0) -> None:
        """Let a client see this stage: wait until the stored status shows it (bounded)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        _, ns, name = job.key
        while loop.time() < deadline:
            obj = self.ctx.cache.get(kind, ns, name)
            if obj is None or pred(obj.get("status") or {}):
                return
            await self.ctx.queue.wait_world(0.1)

    def _set_target(self, kind: Kind, obj: dict, job: ImageJob) -> None:
        if job.pvc:
            job.target = {"persistentVolumeClaimName": image_pvc(obj)}
        else:
            job.target = {"registryURL": f"{self.ctx.dvcr.host}/{image_repo(kind, obj)}:{obj['metadata']['uid']}"}

    async def _wait_source(self, kind: Kind, obj: dict, job: ImageJob) -> Fetcher | None:
        """Block (Pending + DatasourceReady reason) until the source can be read; return its fetcher
        (None for an upload: the uploader is the source)."""
        while True:
            blocked, fetcher = self.sources.resolve(kind, obj, job)
            if not blocked:
                return fetcher
            if job.stage != "blocked" or job.block != blocked:
                job.stage, job.block = "blocked", blocked
                self.ctx.queue.poke(job.key)
            await self.ctx.queue.wait_world(2.0)

    async def _wait_storage_class(self, obj: dict, job: ImageJob) -> None:
        while True:
            name, problem = storage_class_for(self.ctx.cache, obj)
            if name:
                job.storage_class = name
                return
            if job.stage != "sc-blocked" or job.block != problem:
                job.stage, job.block = "sc-blocked", problem
                self.ctx.queue.poke(job.key)
            await self.ctx.queue.wait_world(2.0)

    # -- the importer (or uploader) Pod cannot start: fault hooks -------------------------------------
    async def _wait_importer_starts(self, kind: Kind, obj: dict, job: ImageJob) -> None:
        """Hold while a fault annotation says the provisioning Pod cannot start, as the platform
        reports it (vi/cvi source handlers, v1.10.2 and main alike):

        - `sandbox.deckhouse.io/quota-exceeded: <quota>`: the namespace's ResourceQuota refuses the
          Pod. Failed, Ready ProvisioningFailed `Quota exceeded: <error>; Please configure quotas or
          try recreating the resource later.` while the image is younger than quota-grace (1800 s),
          then `...; Retry in 1 minute.`, retried every quota-retry seconds; event Warning
          DataSourceQuotaExceed `DataSource quota exceed` at each attempt.
        - `sandbox.deckhouse.io/unschedulable: <scheduler message>`: the Pod is not scheduled.
          Failed, Ready ProvisioningNotStarted `Provisioning Pod <ns>/<pod> is not scheduled: <msg>.`

        Either way the import goes on by itself once the annotation is removed."""
        _, ns, name = job.key
        while True:
            current = self.ctx.cache.get(kind, ns, name) or obj
            ann = current["metadata"].get("annotations") or {}
            settings = self.ctx.settings.for_object(current)
            quota = ann.get(QUOTA_ANNOTATION)
            unschedulable = ann.get(UNSCHEDULABLE_ANNOTATION)
            if quota:
                pod_ns, pod = job.pod.split("/", 1)
                quota_name = "sandbox-quota" if quota == "true" else quota
                error = (f'pods "{pod}" is forbidden: exceeded quota: {quota_name}, requested: pods=1, '
                         f"used: pods=0, limited: pods=0")
                young = _age(current) < settings.quota_grace
                tail = ("Please configure quotas or try recreating the resource later." if young
                        else "Retry in 1 minute.")
                hold = ("ProvisioningFailed", f"Quota exceeded: {error}; {tail}")
                await self.ctx.writer.event(kind, current, "Warning", "DataSourceQuotaExceed", "DataSource quota exceed")
                wait = max(0.5, settings.quota_grace - _age(current)) if young else settings.quota_retry
            elif unschedulable:
                why = (unschedulable if unschedulable != "true" else
                       "0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: "
                       "1 No preemption victims found for incoming pod.")
                hold = ("ProvisioningNotStarted", f"Provisioning Pod {job.pod} is not scheduled: {why}.")
                wait = 2.0
            else:
                return
            if job.stage != "held" or job.hold != hold:
                job.stage, job.hold = "held", hold
                self.ctx.queue.poke(job.key)
            await self._annotations_change(kind, job, ann, wait)

    async def _annotations_change(self, kind: Kind, job: ImageJob, ann: dict, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        _, ns, name = job.key
        while loop.time() < deadline:
            await self.ctx.queue.wait_world(min(1.0, max(0.05, deadline - loop.time())))
            current = self.ctx.cache.get(kind, ns, name)
            if current is None or (current["metadata"].get("annotations") or {}) != ann:
                return

    # -- uploads ----------------------------------------------------------------------------------
    async def _upload(self, kind: Kind, obj: dict, job: ImageJob, workdir: Path, settings: Settings) -> None:
        queue = self.ctx.queue
        job.stage = "uploader"
        queue.poke(job.key)
        await self._until_written(kind, job, lambda st: st.get("phase") == "Provisioning")
        checksum = ((obj["spec"]["dataSource"].get("upload") or {}).get("checksum"))

        def on_ready(slot: Uploader, urls: dict[str, str]) -> None:
            job.uploader, job.upload_urls = slot, urls
            job.stage = "waiting-upload"
            queue.poke(job.key)

        def on_start(length: int) -> None:
            job.stage = "importing"
            job.span = (0.0, 0.5) if job.pvc else (0.0, 1.0)
            self._set_target(kind, obj, job)
            queue.poke(job.key)

        def on_bytes(got: int, total: int) -> None:
            job.feed.fraction = min(got / total, 0.999)
            job.feed.advance(0, None)
            job.feed.done_bytes = got

        async def store(path: Path) -> str | None:
            try:
                await self.store.store(kind, obj, job, Fetched(path, "disk.img"), workdir)
            except ImportFailed as exc:
                return str(exc)
            except Cancelled:
                return "upload cancelled"
            job.stage = "ready"
            queue.poke(job.key)
            # answer only once a client can see it: stored in DVCR and Ready in status
            await self._until_written(kind, job, lambda st: st.get("phase") == "Ready")
            return None

        # v1.10.2 has no deadline for an upload that never starts
        deadline = None if settings.platform == V1_10 else settings.upload_deadline
        try:
            error = await serve_upload(self.hub, job.upload_token or random_path(), workdir / "source", checksum,
                                       deadline, on_ready, on_start, on_bytes, store)
        except UploadNotStarted:
            job.upload_urls = None
            job.fail("WaitForUserUploadTimeout", UPLOAD_DEADLINE_MSG, plain=True)
            return
        finally:
            job.uploader = None
        if error is not None:
            job.upload_urls = None
            job.fail("ProvisioningFailedTerminally", error)
        queue.poke(job.key)
