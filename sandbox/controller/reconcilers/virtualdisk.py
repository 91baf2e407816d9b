"""The VirtualDisk reconciler: provisioning (..diskimport), InUse, protection, resize, PVCLost, deletion.

Follows the platform's vd controller handlers (v1.10.2 and main): StorageClassReady, DatasourceReady
and Ready as the provisioning job reports them; InUse and `attachedToVirtualMachines` from the VMs'
`status.blockDeviceRefs` (mounted unless the VM is Stopped; at most one VM at a time, model/attachees.py)
and the images being made from the disk;
finalizers `vd-cleanup` always and `vd-protection` while a VM mounts the disk (a deleted disk stays
Terminating until the VM lets go); Resizing when `spec.persistentVolumeClaim.size` grows on a Ready
disk (NotAvailable when the API server refuses the larger PVC, e.g. its StorageClass does not allow
expansion); Snapshotting while a snapshot of it is taken; PVCLost when its PVC is gone; InUse
UsedForDataExport and Exporting under a data-export request on its PVC (model/export.py).

Fault hook `sandbox.deckhouse.io/pvc-lost` (any value): the controller deletes the disk's PVC once it
is Ready, as if the volume were lost (the disk turns PVCLost).
"""
from __future__ import annotations

import asyncio
import logging

from ... import tools
from ...api.admission.quantity import Quantity
from ...platform import V1_10
from ..imports.diskimport import DiskImports
from ..imports.imagejob import ImageJobs
from ..model.attachees import one_mounted
from ..model.export import EXPORTING, EXPORTING_MESSAGE, USED_FOR_DATA_EXPORT, export_requested, in_use_message
from ..model.kinds import PVC, VD
from ..model.names import FINALIZER_PREFIX, disk_pvc
from ..model.status import condition, merge_conditions
from ..runtime.context import Context
from ..runtime.kube import ApiError
from ..runtime.queries import disk_storage_class, disk_users, images_from_disk, snapshots_of

log = logging.getLogger(__name__)

CLEANUP, PROTECTION = FINALIZER_PREFIX + "vd-cleanup", FINALIZER_PREFIX + "vd-protection"
PVC_LOST_ANNOTATION = "sandbox.deckhouse.io/pvc-lost"
RESIZE_STARTED = "The virtual disk resizing has started."
RESIZE_WHILE_SNAPSHOTTING = "The virtual disk cannot be selected for resizing as it is currently snapshotting."
SNAPSHOT_WHILE_RESIZING = "The virtual disk cannot be selected for snapshotting as it is currently resizing."
RESIZE_CLASS_NOT_READY = "Disk resizing is not allowed: the StorageClass is not ready."
_PROVISIONED = ("Ready", "PVCLost", EXPORTING)      # Ready condition reasons once provisioning finished
_TRANSIENT = ("DatasourceReady", "StorageClassReady", "InUse", "Resizing", "Snapshotting", "Terminating")


class VirtualDiskReconciler:
    kind = VD

    def __init__(self, ctx: Context, imports: DiskImports, image_jobs: ImageJobs) -> None:
        self.ctx = ctx
        self.imports = imports
        self.image_jobs = image_jobs              # a disk an image is read from keeps its data until then
        self.resizing: dict[str, asyncio.Task] = {}   # disk uid -> the volume growing

    # -- the reconcile ------------------------------------------------------------------------------
    async def reconcile(self, vd: dict) -> None:
        md, st = vd["metadata"], vd.get("status") or {}
        uid, gen = md["uid"], md.get("generation", 1)
        ns, name = md["namespace"], md["name"]
        users = one_mounted(disk_users(self.ctx.cache, ns, name), st.get("attachedToVirtualMachines"))
        mounted = sorted(n for n, m in users if m)
        in_use = self._in_use(st, ns, name, mounted, gen)
        extra = {"attachedToVirtualMachines": [{"name": n, "mounted": m} for n, m in users]} if users else {}

        if md.get("deletionTimestamp"):
            await self.imports.drop(uid)
            new = {k: v for k, v in st.items() if k not in ("conditions", "attachedToVirtualMachines")}
            conds = [c for c in st.get("conditions", []) if c["type"] not in _TRANSIENT]
            new.update(phase="Terminating", conditions=merge_conditions(st.get("conditions"), conds + [in_use]),
                       **extra)
            await self.ctx.writer.write_status(VD, vd, new)
            if mounted:     # vd-protection: the InUse condition says which VM holds it
                return
            await self._cleanup(vd)
            await self.ctx.writer.set_finalizers(VD, vd, remove=[CLEANUP, PROTECTION])
            return

        held = bool(mounted) and st.get("phase") not in (None, "Pending")
        await self.ctx.writer.set_finalizers(VD, vd, add=[CLEANUP] + ([PROTECTION] if held else []),
                                             remove=[] if held else [PROTECTION])
        ready = next((c for c in st.get("conditions", []) if c["type"] == "Ready"), {})
        provisioned = ready.get("reason") in _PROVISIONED
        job = self.imports.jobs.get(uid)
        if provisioned and job is not None and job.ready is None:
            self.imports.jobs.pop(uid, None)      # its result is in status now: from here on status is the truth
            job = None
        changed = not provisioned and (
            (job is not None and job.generation != gen)
            or (job is None and gen != 1 and st.get("observedGeneration") not in (None, gen)))
        if changed:       # vd LifeCycleHandler: restart the import from scratch
            await self.imports.drop(uid)
            job, st = None, {}
            await self.ctx.writer.event(VD, vd, "Normal", "VirtualDiskSpecHasBeenChanged",
                                        "Spec changes are detected: import process is restarted by controller")
        if job is None and not provisioned and not (st.get("phase") == "Failed"
                                                     and st.get("observedGeneration") == gen):
            job = self.imports.start(vd)

        if job is not None and job.generation == gen:
            core = job.core(gen)
        else:
            core = {k: v for k, v in st.items() if k not in ("observedGeneration", "attachedToVirtualMachines")}
            core["conditions"] = [c for c in st.get("conditions", []) if c["type"] not in _TRANSIENT]
            if provisioned:
                await self._provisioned(vd, core, gen)
        pvc_name = (core.get("target") or {}).get("persistentVolumeClaimName", "")
        sc_name, (sc_ok, sc_reason, sc_msg) = disk_storage_class(self.ctx.cache, vd, pvc_name)
        if sc_name:
            core["storageClassName"] = sc_name
        conds = [c for c in core["conditions"] if c["type"] not in _TRANSIENT]
        conds.append(condition("StorageClassReady", sc_ok, sc_reason, sc_msg, gen))
        if job is not None and job.datasource is not None and job.ready is not None:
            conds.insert(0, condition("DatasourceReady", *job.datasource, gen))
        conds.append(in_use)
        conds += await self._resize_and_snapshot(vd, core, sc_ok, gen)
        core.pop("attachedToVirtualMachines", None)
        new = {**core, **extra, "conditions": merge_conditions(st.get("conditions"), conds),
               "observedGeneration": gen}
        await self.ctx.writer.write_status(VD, vd, new, reset=changed)

    def _in_use(self, st: dict, ns: str, name: str, mounted: list[str], gen: int) -> dict:
        """vd InUseHandler: a VM first, then an image being made from the Ready disk. v1.10.2 gives no
        message."""
        v110 = self.ctx.settings.platform == V1_10
        if mounted:
            if len(mounted) == 1:
                msg = (f'The VirtualDisk is in use by the VirtualMachine "{mounted[0]}"; detach it or stop the '
                       "VirtualMachine to release the VirtualDisk.")
            else:
                names = ", ".join(f'"{n}"' for n in mounted)
                msg = (f"The VirtualDisk is in use by {len(mounted)} VirtualMachines; detach it or stop them to "
                       f"release the VirtualDisk. In use by: {names}.")
            return condition("InUse", True, "AttachedToVirtualMachine", "" if v110 else msg, gen)
        images = images_from_disk(self.ctx.cache, ns, name) if st.get("phase") == "Ready" else []
        if images:
            msg = f"The VirtualDisk is in use for creating the {images[0]}; the creation must finish to release the disk."
            return condition("InUse", True, "UsedForImageCreation", "" if v110 else msg, gen)
        pvc_name = (st.get("target") or {}).get("persistentVolumeClaimName")
        if pvc_name and export_requested(self.ctx.cache.get(PVC, ns, pvc_name), self.ctx.settings.platform):
            return condition("InUse", True, USED_FOR_DATA_EXPORT, in_use_message(self.ctx.settings.platform), gen)
        return condition("InUse", False, "NotInUse", "", gen)

    # -- a provisioned disk: PVCLost, resize ------------------------------------------------------------
    async def _provisioned(self, vd: dict, core: dict, gen: int) -> None:
        md = vd["metadata"]
        ns = md["namespace"]
        pvc_name = (core.get("target") or {}).get("persistentVolumeClaimName") or disk_pvc(vd)
        pvc = self.ctx.cache.get(PVC, ns, pvc_name)
        if pvc is not None and (md.get("annotations") or {}).get(PVC_LOST_ANNOTATION) \
                and not pvc["metadata"].get("deletionTimestamp"):
            await self.ctx.writer.delete_quietly(PVC, ns, pvc_name)
            self.ctx.files.disk(vd).unlink(missing_ok=True)
        others = [c for c in core["conditions"] if c["type"] != "Ready"]
        if pvc is None and self.ctx.cache.synced(PVC):
            core["phase"] = "PVCLost"
            core["conditions"] = others + [condition(
                "Ready", False, "PVCLost", f'The PersistentVolumeClaim "{pvc_name}" not found.', gen)]
            return
        if ((pvc or {}).get("status") or {}).get("phase") == "Lost":     # vd ReadyStep: its volume is gone
            if export_requested(pvc, self.ctx.settings.platform):
                core["phase"] = EXPORTING
                core["conditions"] = others + [condition("Ready", False, EXPORTING, EXPORTING_MESSAGE, gen)]
            else:
                volume = ((pvc or {}).get("spec") or {}).get("volumeName", "")
                core["phase"] = "PVCLost"
                core["conditions"] = others + [condition(
                    "Ready", False, "PVCLost", f'The PersistentVolume "{volume}" not found.', gen)]
            return
        core["conditions"] = others + [condition("Ready", True, "Ready", "", gen)]
        core["phase"] = "Ready"
        capacity = ((pvc or {}).get("status") or {}).get("capacity", {}).get("storage")
        if capacity:
            core["capacity"] = str(Quantity(str(capacity)))

    async def _resize_and_snapshot(self, vd: dict, core: dict, sc_ok: bool, gen: int) -> list[dict]:
        """The Resizing and Snapshotting conditions of a Ready disk (vd ResizingHandler, SnapshottingHandler).

        A resize asks for the larger PVC here, as the handler does: a refusal (the StorageClass does not allow
        expansion) leaves the disk Ready at its old capacity with Resizing False NotAvailable quoting the API
        server, and a later reconcile (the class changed, say) asks again."""
        md = vd["metadata"]
        uid, ns = md["uid"], md["namespace"]
        if core.get("phase") not in ("Ready", "Resizing"):
            return []
        pending_snaps = [s for s in snapshots_of(self.ctx.cache, ns, md["name"])
                         if (s.get("status") or {}).get("phase") not in ("Ready", "Terminating", "Failed")]
        pvc = self.ctx.cache.get(PVC, ns, (core.get("target") or {}).get("persistentVolumeClaimName", ""))
        want = ((vd.get("spec") or {}).get("persistentVolumeClaim") or {}).get("size")
        have = (((pvc or {}).get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage")
        out: list[dict] = []
        if uid in self.resizing:
            core["phase"] = "Resizing"
            out.append(condition("Resizing", True, "InProgress", RESIZE_STARTED, gen))
        elif pvc is not None and want is not None and have is not None and Quantity(str(have)) < Quantity(str(want)):
            if pending_snaps:
                out.append(condition("Resizing", False, "NotAvailable", RESIZE_WHILE_SNAPSHOTTING, gen))
                asyncio.ensure_future(self.ctx.writer.event(VD, vd, "Normal", "VirtualDiskResizingNotAvailable",
                                                            RESIZE_WHILE_SNAPSHOTTING))
            elif not sc_ok:
                out.append(condition("Resizing", False, "NotAvailable", RESIZE_CLASS_NOT_READY, gen))
            else:
                refused = await self._request_resize(ns, pvc["metadata"]["name"], str(want))
                if refused:
                    out.append(condition("Resizing", False, "NotAvailable",
                                         f"Disk resizing is not allowed: {refused}.", gen))
                else:
                    self.resizing[uid] = asyncio.create_task(self._resize(vd, pvc["metadata"]["name"], str(want)))
                    core["phase"] = "Resizing"
                    out.append(condition("Resizing", True, "InProgress", RESIZE_STARTED, gen))
        if pending_snaps:
            if uid in self.resizing:
                out.append(condition("Snapshotting", False, "NotAvailable", SNAPSHOT_WHILE_RESIZING, gen))
            else:
                out.append(condition("Snapshotting", True, "Snapshotting",
                                     "The virtual disk is selected for taking a snapshot.", gen))
        return out

    async def _request_resize(self, ns: str, pvc: str, size: str) -> str:
        """Ask for the larger PVC; "" when the API server took it, else its Forbidden message."""
        try:
            await self.ctx.writer.resize_pvc(ns, pvc, size, done=False)
        except ApiError as exc:
            if exc.status != 403:
                raise
            return str((exc.body or {}).get("message") if isinstance(exc.body, dict) else exc.body)
        return ""

    async def _resize(self, vd: dict, pvc: str, size: str) -> None:
        """Grow the volume once the PVC asks for more; the disk stays Resizing for `resize_step` seconds."""
        md = vd["metadata"]
        key = (VD.kind, md["namespace"], md["name"])
        try:
            await self.ctx.writer.event(VD, vd, "Normal", "VirtualDiskResizingStarted",
                                        "The virtual disk resizing has started")
            await asyncio.sleep(self.ctx.settings.for_object(vd).resize_step)
            path = self.ctx.files.disk(vd)
            if path.exists():
                proc = await asyncio.create_subprocess_exec(
                    tools.command("qemu-img"), "resize", "-q", "-f", "raw", str(path), str(int(Quantity(size).value)))
                await proc.wait()
            await self.ctx.writer.resize_pvc(md["namespace"], pvc, size, done=True)
            await self.ctx.writer.event(VD, vd, "Normal", "VirtualDiskResizingCompleted",
                                        "The virtual disk resizing has completed")
        except Exception:
            log.exception("resize %s", md["name"])
        finally:
            self.resizing.pop(md["uid"], None)
            self.ctx.queue.poke(key)

    # -- deletion ---------------------------------------------------------------------------------
    async def _cleanup(self, vd: dict) -> None:
        """Delete the PVC; its data goes once no image import reads it (the PVC's own protection)."""
        md = vd["metadata"]
        await self.ctx.writer.delete_quietly(PVC, md["namespace"], disk_pvc(vd))
        path = self.ctx.files.disk(vd)

        async def drop_data() -> None:
            while self.image_jobs.importing_from("VirtualDisk", md["namespace"], md["name"]):
                await self.ctx.queue.wait_world(1.0)
            path.unlink(missing_ok=True)

        asyncio.ensure_future(drop_data())

    def forget(self, vd: dict) -> None:
        """Stop provisioning and resizing it."""
        uid = vd["metadata"]["uid"]
        asyncio.ensure_future(self.imports.drop(uid))
        task = self.resizing.pop(uid, None)
        if task:
            task.cancel()
