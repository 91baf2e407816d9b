"""The provisioning of VirtualDisks: one job per disk generation, run in its own task.

The steps and their wording follow the platform's vd controller (`vd/internal/source/*.go` and
`step/*.go`, v1.10.2 and main): the data source is validated first (DatasourceReady), then the
storage class; HTTP, registry and upload sources go through "DVCR" (0-50%, the download) and
then the PVC (50-100%, the conversion to raw); images and snapshots go to the PVC directly. On a
storage class with `volumeBindingMode: WaitForFirstConsumer` the data lands only once a VM using
the disk is scheduled (phase WaitForFirstConsumer until then). The job never writes status: it
pokes its disk and the reconciler turns `job.core()` into status.

Fault hook `sandbox.deckhouse.io/disk-error: <error>`: the provisioning Pod reports <error>
(Failed; see `_fault`).
"""
from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
from pathlib import Path
from typing import Callable

from ... import dvcr, tools
from ...api.admission.quantity import Quantity
from ...platform import V1_10
from ..model.kinds import CVI, VD, VDSNAP, VI
from ..model.names import disk_pvc, dvcr_repo
from ..runtime.context import Context
from ..runtime.queries import disk_scheduled, disk_storage_class, disk_users, late_binding
from .diskinfo import decompress_to, inspect_file, qemu_info
from .diskjob import (DVCR_CREATE, DVCR_IMPORT, PVC_CREATED, PVC_IMPORT, PVC_POD_FAILED, UPLOAD_DEADLINE,
                      UPLOAD_WAIT, WFFC_NO_VM, WFFC_NOT_SCHEDULED, DiskJob)
from .imagejob import ImageJob
from .importers import Cancelled, Feed, Fetched, ImportFailed, pod_says
from .sources import Sources
from .uploader import Uploader, UploadHub, UploadNotStarted, random_path, serve_upload, stop_job

log = logging.getLogger(__name__)

FAULT_ANNOTATION = "sandbox.deckhouse.io/disk-error"
ALIGN = 1 << 20     # image-derived volume sizes are aligned up to 1 MiB (service.GetValidatedPVCSize)
ISO_NOT_SUPPORTED = ("Creating a virtual disk from an ISO image is not supported: please use a virtual image or a "
                     "cluster virtual image instead.")


class _Stop(Exception):
    """The job ended in a terminal state (already recorded in the job)."""


def pvc_size(spec_size: str | None, required: int) -> tuple[int, str]:
    """(bytes, capacity text) of the PVC for data of `required` bytes (GetValidatedPVCSize); raises
    ImportFailed with the platform's text when the spec asks for less."""
    aligned = -(-required // ALIGN) * ALIGN
    need = Quantity(str(required)) if aligned == required else Quantity(f"{aligned // ALIGN}Mi")
    if spec_size is None:
        return int(need.value), str(need)
    want = Quantity(str(spec_size))
    if want < need:
        spec_part = str(int(want.value)) + ("" if str(int(want.value)) == str(want) else f" ({want})")
        raise ImportFailed(f"The specified pvc size is insufficient: {spec_part} < {int(need.value)}.")
    return int(want.value), str(want)


class DiskImports:
    def __init__(self, ctx: Context, hub: UploadHub) -> None:
        self.ctx = ctx
        self.hub = hub
        self.sources = Sources(ctx)
        self.jobs: dict[str, DiskJob] = {}

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

    # -- the run ----------------------------------------------------------------------------------
    async def _run(self, vd: dict, job: DiskJob) -> None:
        md = vd["metadata"]
        workdir = self.ctx.files.work_dir("vd-" + job.uid)
        ds = (vd.get("spec") or {}).get("dataSource") or {}
        typ = ds.get("type") if ds else "Blank"
        try:
            src = await self._wait_datasource(vd, job, typ)
            storage_class = await self._wait_storage_class(vd, job)
            if typ in ("HTTP", "ContainerImage"):
                await self._from_dvcr(vd, job, workdir, storage_class, fetch=src)
            elif typ == "Upload":
                await self._from_dvcr(vd, job, workdir, storage_class, fetch=None)
            elif typ == "ObjectRef":
                await self._from_object(vd, job, workdir, storage_class, src)
            else:
                await self._blank(vd, job, storage_class)
        except (_Stop, Cancelled):
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

    def _poke(self, job: DiskJob) -> None:
        self.ctx.queue.poke(job.key)

    def _live(self, vd: dict) -> dict:
        md = vd["metadata"]
        return self.ctx.cache.get(VD, md["namespace"], md["name"]) or vd

    async def _until_shown(self, job: DiskJob, timeout: float = 5.0) -> None:
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

    # -- what must hold before anything is made ---------------------------------------------------
    async def _wait_datasource(self, vd: dict, job: DiskJob, typ: str):
        """DatasourceReady (vd DatasourceReadyHandler): Pending, Ready DatasourceIsNotReady / DatasourceIsNotFound
        with the datasource's message until the source can be read. Returns what to read."""
        while True:
            live = self._live(vd)
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
                self._poke(job)
            await self.ctx.queue.wait_world(2.0)

    def _resolve(self, vd: dict, typ: str):
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

    async def _wait_storage_class(self, vd: dict, job: DiskJob) -> str:
        """Ready StorageClassIsNotReady `The StorageClass is not ready.` until StorageClassReady holds."""
        while True:
            name, (ok, _, _) = disk_storage_class(self.ctx.cache, self._live(vd), "")
            if ok:
                return name
            if job.ready != ("StorageClassIsNotReady", "The StorageClass is not ready."):
                job.step("Pending", "StorageClassIsNotReady", "The StorageClass is not ready.")
                self._poke(job)
            await self.ctx.queue.wait_world(2.0)

    def _fault(self, vd: dict, job: DiskJob, pod: str | None, upload: bool = False) -> None:
        """`sandbox.deckhouse.io/disk-error: <error>`: the provisioning Pod fails. With a DVCR importer/uploader
        Pod (HTTP, registry, upload): `Provisioning failed: Pod <ns>/<pod> reported: <error>.`, reason
        ProvisioningFailed (an upload on dev: ProvisioningFailedTerminally); otherwise the PVC importer's
        `VirtualDisk importer Pod failed.` (ProvisioningFailed)."""
        error = (self._live(vd)["metadata"].get("annotations") or {}).get(FAULT_ANNOTATION)
        if not error:
            return
        if pod is None:
            job.fail("ProvisioningFailed", PVC_POD_FAILED)
        else:
            job.fail(self._upload_failure_reason() if upload else "ProvisioningFailed",
                     self._pod_failed(pod, error))
        raise _Stop()

    def _pod_failed(self, pod: str, error: object) -> str:
        """A provisioning Pod's report as the stat service words it on the line served."""
        return f"Provisioning failed: Pod {pod} {pod_says(self.ctx.settings.platform)}: {error}."

    def _upload_failure_reason(self) -> str:
        return "ProvisioningFailed" if self.ctx.settings.platform == V1_10 else "ProvisioningFailedTerminally"

    # -- the PVC and its first consumer -------------------------------------------------------------
    async def _create_pvc(self, vd: dict, job: DiskJob, storage_class: str, size: str) -> None:
        job.pvc = disk_pvc(vd)
        await self.ctx.writer.create_pvc(vd, job.pvc, storage_class, size, bound=not late_binding(
            self.ctx.cache, storage_class))

    async def _wait_consumer(self, vd: dict, job: DiskJob, storage_class: str, imported: bool) -> None:
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
                self._poke(job)
            await self.ctx.queue.wait_world(2.0)
        if job.pvc:
            await self.ctx.writer.bind_pvc(ns, job.pvc)

    async def _finish(self, vd: dict, job: DiskJob, capacity: str) -> None:
        job.span, job.speed = None, False
        job.capacity = capacity
        job.ready, job.phase, job.progress = None, "Ready", "100%"
        self._poke(job)

    # -- blank ------------------------------------------------------------------------------------
    async def _blank(self, vd: dict, job: DiskJob, storage_class: str) -> None:
        size_text = str(((vd.get("spec") or {}).get("persistentVolumeClaim") or {}).get("size"))
        size = Quantity(size_text)
        await self._create_pvc(vd, job, storage_class, str(size))
        job.step("Provisioning", "Provisioning", f'Waiting for the PersistentVolumeClaim "{job.pvc}" to be Bound.',
                 "0%")
        self._poke(job)
        self._fault(vd, job, None)
        await self._wait_consumer(vd, job, storage_class, imported=False)
        path = self.ctx.files.disk(vd)
        path.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(subprocess.run, [tools.command("qemu-img"), "create", "-q", "-f", "raw", str(path),
                                                 str(int(size.value))], check=True, capture_output=True)
        await self._finish(vd, job, str(size))

    # -- VirtualImage, ClusterVirtualImage, VirtualDiskSnapshot -------------------------------------
    async def _from_object(self, vd: dict, job: DiskJob, workdir: Path, storage_class: str, src: dict) -> None:
        ns = vd["metadata"]["namespace"]
        spec_size = ((vd.get("spec") or {}).get("persistentVolumeClaim") or {}).get("size")
        job.source_uid = src["metadata"]["uid"]
        if src["kind"] == VDSNAP.kind:
            data = self.ctx.files.snapshot(src)
            required = data.stat().st_size
            if spec_size and not Quantity(str(spec_size)) < Quantity(str(required)):
                size, capacity = int(Quantity(str(spec_size)).value), str(Quantity(str(spec_size)))
            else:   # the VolumeSnapshot's restore size is the floor
                size, capacity = required, str(Quantity(str(required)))
            await self._create_pvc(vd, job, storage_class, capacity)
            job.step("Provisioning", "Provisioning", PVC_CREATED, "0%")
            self._poke(job)
            self._fault(vd, job, None)
            await self._wait_consumer(vd, job, storage_class, imported=False)
            await asyncio.to_thread(self._fill, lambda: data, self.ctx.files.disk(vd), size, job.feed, workdir)
            await self._finish(vd, job, capacity)
            return
        st = src.get("status") or {}
        if st.get("format") == "iso":
            job.fail("ProvisioningFailed", ISO_NOT_SUPPORTED)
            raise _Stop()
        required = int((st.get("size") or {}).get("unpackedBytes") or 0) or 1
        size, capacity = pvc_size(spec_size, required)
        self._fault(vd, job, None)
        await self._wait_consumer(vd, job, storage_class, imported=True)
        await self._create_pvc(vd, job, storage_class, capacity)
        job.step("Provisioning", "Provisioning", PVC_IMPORT, "0%")
        job.span = (0.0, 1.0)
        self._poke(job)
        target = st.get("target") or {}
        kind = VI if src["kind"] == VI.kind else CVI
        if target.get("persistentVolumeClaimName"):
            def source() -> Path:
                return self.ctx.files.volume(ns, target["persistentVolumeClaimName"])
        else:
            def source() -> Path:
                try:
                    return self.ctx.dvcr.extract_disk(dvcr_repo(kind, ns, src["metadata"]["name"]),
                                                      src["metadata"]["uid"], workdir)[0]
                except dvcr.RegistryError as exc:
                    raise ImportFailed(str(exc)) from None
        await asyncio.to_thread(self._fill, source, self.ctx.files.disk(vd), size, job.feed, workdir)
        await self._finish(vd, job, capacity)

    # -- HTTP, registry, upload: DVCR first, then the PVC -----------------------------------------
    async def _from_dvcr(self, vd: dict, job: DiskJob, workdir: Path, storage_class: str, fetch) -> None:
        md = vd["metadata"]
        upload = fetch is None
        pod = (f"{md['namespace']}/d8v-vd-uploader-{md['name']}-{md['uid']}" if upload
               else f"{md['namespace']}/d8v-vd-importer-{md['uid']}")
        job.step("Provisioning", "Provisioning", DVCR_CREATE, "0%")
        self._poke(job)
        await self._until_shown(job)
        self._fault(vd, job, pod, upload)
        if upload:
            fetched = await self._receive(vd, job, workdir, pod)
        else:
            job.step("Provisioning", "Provisioning", DVCR_IMPORT)
            job.span, job.speed = (0.0, 0.5), True
            self._poke(job)
            try:
                fetched = await asyncio.to_thread(fetch, workdir, job.feed)
            except ImportFailed as exc:
                job.fail("ProvisioningFailed", self._pod_failed(pod, exc))
                raise _Stop() from None
        job.avg_bps = job.feed.avg_bps
        job.span, job.speed, job.progress = None, False, "50.0%"
        info = await asyncio.to_thread(inspect_file, fetched.path, workdir)
        if info.format == "iso":
            job.fail("ProvisioningFailed", ISO_NOT_SUPPORTED)
            raise _Stop()
        spec_size = ((vd.get("spec") or {}).get("persistentVolumeClaim") or {}).get("size")
        size, capacity = pvc_size(spec_size, info.virtual_size)
        await self._wait_consumer(vd, job, storage_class, imported=True)
        await self._create_pvc(vd, job, storage_class, capacity)
        job.step("Provisioning", "Provisioning", PVC_IMPORT)
        job.feed.fraction = 0.0
        job.span = (0.5, 1.0)
        self._poke(job)
        await asyncio.to_thread(self._fill, lambda: fetched.path, self.ctx.files.disk(vd), size, job.feed, workdir)
        await self._finish(vd, job, capacity)

    async def _receive(self, vd: dict, job: DiskJob, workdir: Path, pod: str) -> Fetched:
        """The uploader: Provisioning until it listens, WaitForUserUpload with the URLs, then the DVCR stage."""
        settings = self.ctx.settings.for_object(vd)
        line = V1_10 if settings.platform == V1_10 else "dev"
        job.step("Provisioning", "Provisioning",
                 f'Waiting for the uploader "{pod.split("/")[-1]}" to be ready to process the user\'s upload.')
        self._poke(job)
        await self._until_shown(job)
        checksum = (((vd.get("spec") or {}).get("dataSource") or {}).get("upload") or {}).get("checksum")
        kept = workdir / "uploaded"

        def on_ready(slot: Uploader, urls: dict[str, str]) -> None:
            job.uploader, job.upload_urls = slot, urls
            job.step("WaitForUserUpload", "WaitForUserUpload", UPLOAD_WAIT[line], "0%")
            self._poke(job)

        def on_start(length: int) -> None:
            job.step("Provisioning", "Provisioning", DVCR_IMPORT)
            job.span, job.speed = (0.0, 0.5), True
            self._poke(job)

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
            await self.ctx.writer.event(VD, self._live(vd), "Warning", "DataSourceImportFailed", UPLOAD_DEADLINE)
            raise _Stop() from None
        finally:
            job.uploader = None
        if error is not None:
            job.fail(self._upload_failure_reason(), self._pod_failed(pod, error))
            raise _Stop()
        return Fetched(kept, "disk.img")

    # -- the volume -------------------------------------------------------------------------------
    @staticmethod
    def _fill(source: Callable[[], Path], path: Path, size: int, feed: Feed, workdir: Path) -> None:
        """The PVC's volume: the source converted to raw, grown to the PVC size (blocking; in a thread)."""
        feed.check()
        data = source()
        plain = workdir / "plain"
        decompress_to(data, plain)
        feed.fraction = 0.5
        feed.notify()
        fmt, vsize = qemu_info(plain)
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([tools.command("qemu-img"), "convert", "-q", "-f", fmt, "-O", "raw", str(plain), str(path)],
                       check=True, capture_output=True)
        if size > vsize:
            subprocess.run([tools.command("qemu-img"), "resize", "-q", "-f", "raw", str(path), str(size)], check=True,
                           capture_output=True)
        feed.fraction = 0.999
        feed.check()
