"""VirtualImage / ClusterVirtualImage reconciler: lifecycle, finalizers, InUse, jobs.

Level-triggered: every call looks at the object, the caches and the job and writes the
status that follows. Long work (downloads, uploads, pushes) runs in the job's task.
"""
from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from .. import dvcr
from . import importers
from .diskinfo import decompress_to, inspect_file
from .imagejob import READY_MSG_PREPARING, UPLOAD_DEADLINE_MSG, ImageJob
from .importers import Cancelled, Feed, ImportFailed
from .kube import PVC, VI, Kind
from .status import condition, merge_conditions, progress_value
from .uploader import Uploader, random_path

if TYPE_CHECKING:
    from .app import Controller

log = logging.getLogger(__name__)

FIN = "virtualization.deckhouse.io/"
PLATFORM_NS = "d8-virtualization"


def finalizers(kind: Kind) -> tuple[str, str]:
    short = "vi" if kind is VI else "cvi"
    return FIN + f"{short}-cleanup", FIN + f"{short}-protection"


def dvcr_repo(kind: Kind, obj: dict) -> str:
    md = obj["metadata"]
    return f"vi/{md['namespace']}/{md['name']}" if kind is VI else f"cvi/{md['name']}"


def pvc_name(obj: dict) -> str:
    md = obj["metadata"]
    return f"d8v-vi-{md['name']}-{md['uid']}"


class Images:
    def __init__(self, ctl: "Controller") -> None:
        self.ctl = ctl
        self.jobs: dict[str, ImageJob] = {}
        self.lost: set[str] = set()

    # -- the reconcile ------------------------------------------------------------------------
    async def reconcile(self, kind: Kind, obj: dict) -> None:
        md, st = obj["metadata"], obj.get("status") or {}
        uid, gen = md["uid"], md.get("generation", 1)
        ns = md.get("namespace")
        cleanup_fin, protect_fin = finalizers(kind)
        users = self.ctl.image_users(kind, ns, md["name"])
        in_use = self._in_use(kind, users, gen)

        if md.get("deletionTimestamp"):
            await self._drop_job(uid)
            new = {k: v for k, v in st.items() if k not in ("conditions", "downloadSpeed")}
            conds = [c for c in st.get("conditions", []) if c["type"] not in ("InUse", "Terminating")]
            new.update(phase="Terminating", conditions=merge_conditions(st.get("conditions"), conds + [in_use] + [
                condition("Terminating", True, "Terminating", "", gen)]))
            await self.ctl.write_status(kind, obj, new)
            if users:
                return  # vi-protection (added while it was in use) holds it until the VM lets go
            await self._cleanup(kind, obj)
            await self.ctl.set_finalizers(kind, obj, remove=[cleanup_fin, protect_fin])
            self.jobs.pop(uid, None)
            return

        await self.ctl.set_finalizers(kind, obj, add=[cleanup_fin] + ([protect_fin] if users else []),
                                      remove=[] if users else [protect_fin])

        phase = st.get("phase")
        job = self.jobs.get(uid)
        provisioned = phase in ("Ready", "ImageLost", "PVCLost") and (job is None or job.stage == "ready")
        if provisioned and job is not None:
            self.jobs.pop(uid, None)  # its result is in status now; from here on status is the truth
            job = None
        spec_changed = bool(phase) and not provisioned and (
            (job is not None and job.generation != gen)
            or (job is None and st.get("observedGeneration") not in (None, gen)))
        if spec_changed:
            await self._drop_job(uid)
            job = None
            st = {}
            await self.ctl.event(kind, obj, "Normal", "VirtualImageSpecHasBeenChanged",
                                 "Spec changes are detected: import process is restarted by controller")
        if job is None and not provisioned and not (phase == "Failed" and st.get("observedGeneration") == gen):
            job = self._start(kind, obj, st)

        if job is not None and job.generation == gen:
            core = job.core(gen)
        else:
            core = {k: v for k, v in st.items() if k != "observedGeneration"}
            core["conditions"] = [{**c, "observedGeneration": gen} for c in st.get("conditions", [])
                                  if c["type"] not in ("InUse", "Terminating")]
            if provisioned:
                core["phase"] = self._provisioned_phase(kind, obj)
                core["conditions"] = self._lost_conditions(core, gen)
        # progress never goes down within one generation (a restarted import keeps its mark)
        if core.get("progress") and st.get("progress") and core.get("phase") != "Ready":
            if progress_value(st["progress"]) > progress_value(core["progress"]):
                core["progress"] = st["progress"]
        core["conditions"] = merge_conditions(st.get("conditions"), core["conditions"] + [in_use])
        core["observedGeneration"] = gen
        await self.ctl.write_status(kind, obj, core, reset=spec_changed)

    def _in_use(self, kind: Kind, users: list[str], gen: int) -> dict:
        if not users:
            return condition("InUse", False, "NotInUse", "", gen)
        what = "VirtualImage" if kind is VI else "ClusterVirtualImage"
        msg = (f'The {what} is in use by the VirtualMachine "{users[0]}"; detach it or stop the '
               f"VirtualMachine to release the {what}.")
        return condition("InUse", True, "AttachedToVirtualMachine", msg, gen)

    def _provisioned_phase(self, kind: Kind, obj: dict) -> str:
        uid = obj["metadata"]["uid"]
        if kind is VI and (obj.get("spec") or {}).get("storage") == "PersistentVolumeClaim":
            name = (obj.get("status") or {}).get("target", {}).get("persistentVolumeClaimName")
            if name and self.ctl.inf[PVC.kind].synced.is_set() and not self.ctl.inf[PVC.kind].get(
                    obj["metadata"]["namespace"], name):
                return "PVCLost"
            return "Ready"
        return "ImageLost" if uid in self.lost else "Ready"

    def _lost_conditions(self, core: dict, gen: int) -> list[dict]:
        conds = [c for c in core["conditions"] if c["type"] != "Ready"]
        if core["phase"] == "ImageLost":
            conds.append(condition("Ready", False, "ImageLost", "The image is missing in DVCR.", gen))
        elif core["phase"] == "PVCLost":
            conds.append(condition("Ready", False, "PVCLost", "The PersistentVolumeClaim is lost.", gen))
        else:
            conds.append(condition("Ready", True, "Ready", "", gen))
        return conds

    async def _drop_job(self, uid: str) -> None:
        job = self.jobs.pop(uid, None)
        if job is None:
            return
        job.feed.cancel.set()
        if job.uploader is not None:
            await self.ctl.hub.remove(job.uploader)
        if job.task and not job.task.done():
            job.task.cancel()

    async def _cleanup(self, kind: Kind, obj: dict) -> None:
        """Delete the PVC (PVC storage) and the DVCR image (standing in for registry GC)."""
        md = obj["metadata"]
        if kind is VI and (obj.get("spec") or {}).get("storage") == "PersistentVolumeClaim":
            name = pvc_name(obj)
            await self.ctl.kube.delete(PVC, md["namespace"], name)
            self.ctl.volume_path(md["namespace"], name).unlink(missing_ok=True)
        try:
            await asyncio.to_thread(self.ctl.dvcr.delete, dvcr_repo(kind, obj), md["uid"])
        except dvcr.RegistryError as exc:
            log.warning("dvcr cleanup %s: %s", md["name"], exc)
        self.lost.discard(md["uid"])

    # -- jobs -----------------------------------------------------------------------------------
    def _start(self, kind: Kind, obj: dict, st: dict) -> ImageJob:
        md = obj["metadata"]
        key = (kind.kind, md.get("namespace", ""), md["name"])
        job = ImageJob(key=key, uid=md["uid"], generation=md.get("generation", 1), kind=kind.kind)
        settings = self.ctl.settings.for_object(obj)
        job.feed = Feed(notify=lambda: self.ctl.poke_threadsafe(key), rate=settings.import_rate)
        ds = (obj.get("spec") or {}).get("dataSource") or {}
        is_upload = ds.get("type") == "Upload"
        pod_ns = md["namespace"] if kind is VI else PLATFORM_NS
        short = "vi" if kind is VI else "cvi"
        job.pod = f"{pod_ns}/d8v-{short}-{'uploader' if is_upload else 'importer'}-{md['uid']}"
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

    async def _run(self, kind: Kind, obj: dict, job: ImageJob, settings) -> None:
        workdir = self.ctl.work_dir(job.uid)
        try:
            source = await self._wait_source(kind, obj, job)
            if job.pvc:
                await self._wait_storage_class(obj, job)
            if source is None:
                await self._upload(kind, obj, job, workdir, settings)
            else:
                job.stage = "preparing"
                self.ctl.poke(job.key)
                await self._until_written(job, lambda st: any(
                    c.get("type") == "Ready" and c.get("message") == READY_MSG_PREPARING
                    for c in st.get("conditions") or []))
                job.stage = "importing"
                job.span = (0.0, 0.5) if job.pvc else (0.0, 1.0)
                self._set_target(kind, obj, job)
                self.ctl.poke(job.key)
                fetched = await asyncio.to_thread(source, workdir, job.feed)
                await self._store_all(kind, obj, job, fetched, workdir)
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
            await self.ctl.event(kind, obj, "Warning", job.failure[0], job.failure[1])
        self.ctl.poke(job.key)

    async def _until_written(self, job: ImageJob, pred, timeout: float = 5.0) -> None:
        """Let a client see this stage: wait until the stored status shows it (bounded)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        kind_name, ns, name = job.key
        while loop.time() < deadline:
            obj = self.ctl.inf[kind_name].get(ns, name)
            if obj is None or pred(obj.get("status") or {}):
                return
            await self.ctl.wait_world(0.1)

    def _set_target(self, kind: Kind, obj: dict, job: ImageJob) -> None:
        if job.pvc:
            job.target = {"persistentVolumeClaimName": pvc_name(obj)}
        else:
            job.target = {"registryURL": f"{self.ctl.dvcr_host}/{dvcr_repo(kind, obj)}:{obj['metadata']['uid']}"}

    async def _wait_source(self, kind: Kind, obj: dict, job: ImageJob):
        """Block (Pending + DatasourceReady reason) until the source can be read; return its fetcher."""
        while True:
            blocked, fetcher = self.ctl.sources.resolve(kind, obj, job)
            if not blocked:
                return fetcher
            if job.stage != "blocked" or job.block != blocked:
                job.stage, job.block = "blocked", blocked
                self.ctl.poke(job.key)
            await self.ctl.wait_world(2.0)

    async def _wait_storage_class(self, obj: dict, job: ImageJob) -> None:
        while True:
            name, problem = self.ctl.storage_class_for(obj)
            if name:
                job.storage_class = name
                return
            if job.stage != "sc-blocked" or job.block != problem:
                job.stage, job.block = "sc-blocked", problem
                self.ctl.poke(job.key)
            await self.ctl.wait_world(2.0)

    # -- storing ----------------------------------------------------------------------------------
    async def _store_all(self, kind: Kind, obj: dict, job: ImageJob, fetched: importers.Fetched,
                         workdir: Path) -> None:
        await asyncio.to_thread(self._store, kind, obj, job, fetched, workdir)
        if job.pvc:
            await self.ctl.create_pvc(obj, pvc_name(obj), job.storage_class or "", job.info.virtual_size)

    def _store(self, kind: Kind, obj: dict, job: ImageJob, fetched: importers.Fetched, workdir: Path) -> None:
        """Inspect, push to DVCR, and for PVC storage fill the volume (blocking; in a thread)."""
        job.feed.check()
        info = inspect_file(fetched.path, workdir)
        md = obj["metadata"]
        delay = 0.2
        while True:  # DVCR down: the importer pod would crash-loop until it is back; so do we
            try:
                self.ctl.dvcr.push_disk(dvcr_repo(kind, obj), md["uid"], fetched.path, fetched.name, workdir)
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

    def _fill_volume(self, obj: dict, job: ImageJob, src: Path, info, workdir: Path):
        """The PVC holds a raw disk (the importer converts); an ISO stays as it is."""
        md = obj["metadata"]
        vol = self.ctl.volume_path(md["namespace"], pvc_name(obj))
        vol.parent.mkdir(parents=True, exist_ok=True)
        plain = workdir / "plain"
        decompress_to(src, plain)
        job.feed.fraction = 0.5
        job.feed.notify()
        if info.format in ("iso", "raw"):
            shutil.move(str(plain), vol)
        else:
            subprocess.run(["qemu-img", "convert", "-O", "raw", str(plain), str(vol)], check=True,
                           capture_output=True)
            info = type(info)("raw", info.virtual_size, info.stored_bytes)
        job.feed.fraction = 0.99
        return info

    # -- uploads ----------------------------------------------------------------------------------
    async def _upload(self, kind: Kind, obj: dict, job: ImageJob, workdir: Path, settings) -> None:
        job.stage = "uploader"
        self.ctl.poke(job.key)
        await self._until_written(job, lambda st: st.get("phase") == "Provisioning")
        done = asyncio.Event()
        started = asyncio.Event()
        checksum = ((obj["spec"]["dataSource"].get("upload") or {}).get("checksum"))

        def on_start(length: int) -> None:
            started.set()
            job.stage = "importing"
            job.span = (0.0, 0.5) if job.pvc else (0.0, 1.0)
            self._set_target(kind, obj, job)
            self.ctl.poke(job.key)

        def on_bytes(got: int, total: int) -> None:
            job.feed.fraction = min(got / total, 0.999)
            job.feed.advance(0, None)
            job.feed.done_bytes = got

        async def finish(path: Path | None, error: str | None) -> str | None:
            try:
                if error is None and path is not None:
                    fetched = importers.Fetched(path, "disk.img")
                    try:
                        await self._store_all(kind, obj, job, fetched, workdir)
                        job.stage = "ready"
                        self.ctl.poke(job.key)
                        # answer only once a client can see it: stored in DVCR and Ready in status
                        await self._until_written(job, lambda st: st.get("phase") == "Ready")
                        return None
                    except ImportFailed as exc:
                        error = str(exc)
                    except Cancelled:
                        return "upload cancelled"
                job.upload_urls = None
                job.fail("ProvisioningFailedTerminally", error or "unknown error")
                return error
            finally:
                done.set()
                self.ctl.poke(job.key)

        slot = Uploader(job.upload_token or random_path(), workdir / "source", checksum, on_start, on_bytes, finish)
        job.uploader = slot
        await slot.start_in_cluster()
        self.ctl.hub.add(slot)
        job.upload_urls = {"external": self.ctl.hub.external_url(slot.token), "inCluster": slot.in_cluster_url}
        job.stage = "waiting-upload"
        self.ctl.poke(job.key)
        try:
            try:
                await asyncio.wait_for(started.wait(), timeout=settings.upload_deadline)
            except asyncio.TimeoutError:
                job.upload_urls = None
                job.fail("WaitForUserUploadTimeout", UPLOAD_DEADLINE_MSG, plain=True)
                return
            await done.wait()
            # keep the workdir until the handler answered
            await asyncio.sleep(0)
        finally:
            await self.ctl.hub.remove(slot)
            job.uploader = None

    # -- ImageLost --------------------------------------------------------------------------------
    async def check_registry(self, kind: Kind, obj: dict) -> None:
        """Mark/unmark a Ready DVCR image as lost by asking DVCR whether its manifest exists."""
        md = obj["metadata"]
        if kind is VI and (obj.get("spec") or {}).get("storage") == "PersistentVolumeClaim":
            return
        try:
            present = await asyncio.to_thread(self.ctl.dvcr.exists, dvcr_repo(kind, obj), md["uid"])
        except dvcr.RegistryError:
            return  # DVCR down: cannot tell; the platform does not flip on an outage either
        was_lost = md["uid"] in self.lost
        if present and was_lost:
            self.lost.discard(md["uid"])
        elif not present and not was_lost:
            self.lost.add(md["uid"])
        else:
            return
        self.ctl.poke((kind.kind, md.get("namespace", ""), md["name"]))

    def importing_from(self, kind: str, ns: str, name: str) -> bool:
        """True while a VI/CVI import reads from this object (VD InUse: UsedForImageCreation)."""
        for job in self.jobs.values():
            if job.stage in ("preparing", "importing") and job.source_ref == (kind, ns, name):
                return True
        return False
