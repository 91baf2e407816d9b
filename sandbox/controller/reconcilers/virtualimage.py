"""The VirtualImage / ClusterVirtualImage reconciler: lifecycle, finalizers, InUse, ImageLost.

One class serves both kinds (one instance each): they differ only in scope, names and
finalizers. Level-triggered: every call looks at the object, the caches and the import job and
writes the status that follows. The long work (downloads, uploads, pushes) runs in the job's
task (..imageimport).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

from ... import dvcr
from ...platform import V1_10
from ..imports.imageimport import ImageImports
from ..model.kinds import PVC, VI, Kind
from ..model.names import image_finalizers, image_pvc, image_repo
from ..model.status import condition, in_use_message, merge_conditions, progress_value
from ..runtime.context import Context
from ..runtime.queries import image_users

log = logging.getLogger(__name__)


class VirtualImageReconciler:
    def __init__(self, ctx: Context, kind: Kind, imports: ImageImports) -> None:
        self.ctx = ctx
        self.kind = kind
        self.imports = imports
        self.lost: set[str] = set()    # uids of Ready images DVCR no longer has

    # -- the reconcile ------------------------------------------------------------------------
    async def reconcile(self, obj: dict) -> None:
        kind = self.kind
        md, st = obj["metadata"], obj.get("status") or {}
        uid, gen = md["uid"], md.get("generation", 1)
        ns = md.get("namespace")
        cleanup_fin, protect_fin = image_finalizers(kind)
        users = image_users(self.ctx.cache, kind, ns, md["name"])
        v110 = self.ctx.settings.platform == V1_10
        in_use = [] if v110 else [self._in_use(kind, users, gen)]   # v1.10.2's images have no InUse condition

        if md.get("deletionTimestamp"):
            await self.imports.drop(uid)
            # The protection finalizer (added while a VM mounts it) holds it until the VM lets go. main leaves
            # everything in place meanwhile (InUse explains the wait, no Terminating condition); v1.10.2 cleans up
            # at once and drops the cleanup finalizer, so only the protection finalizer is left.
            cleaned = cleanup_fin not in (md.get("finalizers") or [])
            pending = "" if cleaned or (users and not v110) else await self._cleanup(kind, obj)
            new = {k: v for k, v in st.items() if k not in ("conditions", "downloadSpeed")}
            conds = [c for c in st.get("conditions", []) if c["type"] not in ("InUse", "Terminating")]
            if pending and not v110:   # v1.10.2 has no Terminating condition
                conds.append(condition("Terminating", True, "CleanupPending", pending, gen))
            new.update(phase="Terminating", conditions=merge_conditions(st.get("conditions"), conds + in_use))
            await self.ctx.writer.write_status(kind, obj, new)
            if users and v110 and not pending:
                await self.ctx.writer.set_finalizers(kind, obj, remove=[cleanup_fin])
            if users or pending:
                return
            await self.ctx.writer.set_finalizers(kind, obj, remove=[cleanup_fin, protect_fin])
            self.imports.jobs.pop(uid, None)
            return

        await self.ctx.writer.set_finalizers(kind, obj, add=[cleanup_fin] + ([protect_fin] if users else []),
                                              remove=[] if users else [protect_fin])

        phase = st.get("phase")
        job = self.imports.jobs.get(uid)
        provisioned = phase in ("Ready", "ImageLost", "PVCLost") and (job is None or job.stage == "ready")
        if provisioned and job is not None:
            self.imports.jobs.pop(uid, None)  # its result is in status now; from here on status is the truth
            job = None
        spec_changed = bool(phase) and not provisioned and (
            (job is not None and job.generation != gen)
            or (job is None and st.get("observedGeneration") not in (None, gen)))
        if spec_changed:
            await self.imports.drop(uid)
            job = None
            st = {}
            await self.ctx.writer.event(kind, obj, "Normal", "VirtualImageSpecHasBeenChanged",
                                        "Spec changes are detected: import process is restarted by controller")
        if job is None and not provisioned and not (phase == "Failed" and st.get("observedGeneration") == gen):
            job = self.imports.start(kind, obj, st)

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
        core["conditions"] = merge_conditions(st.get("conditions"), core["conditions"] + in_use)
        core["observedGeneration"] = gen
        await self.ctx.writer.write_status(kind, obj, core, reset=spec_changed)

    def _in_use(self, kind: Kind, users: list[str], gen: int) -> dict:
        """main's InUse: the VMs mounting the image, or NotInUse (set on every reconcile, also while deleting)."""
        if not users:
            return condition("InUse", False, "NotInUse", "", gen)
        return condition("InUse", True, "AttachedToVirtualMachine", in_use_message(kind.kind, users), gen)

    def _provisioned_phase(self, kind: Kind, obj: dict) -> str:
        uid = obj["metadata"]["uid"]
        if kind is VI and (obj.get("spec") or {}).get("storage") == "PersistentVolumeClaim":
            name = (obj.get("status") or {}).get("target", {}).get("persistentVolumeClaimName")
            cache = self.ctx.cache
            if name and cache.synced(PVC) and not cache.get(PVC, obj["metadata"]["namespace"], name):
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

    async def _cleanup(self, kind: Kind, obj: dict) -> str:
        """Delete the auxiliary resources: the PVC (PVC storage) and the DVCR image (standing in for
        registry GC). Returns what the deletion still waits for, in the platform's words (the
        Terminating condition's CleanupPending message, main's service.CleanUpReason), or "".

        Fault hook `sandbox.deckhouse.io/cleanup-delay: <s>`: the importer (uploader) Pod takes that
        long to go after the delete; a finalizer a test puts on the image's PVC holds it likewise."""
        md = obj["metadata"]
        key = (kind.kind, md.get("namespace", ""), md["name"])
        delay = _float((md.get("annotations") or {}).get("sandbox.deckhouse.io/cleanup-delay"))
        left = _since(md["deletionTimestamp"]) if delay else 0.0
        if delay and left < delay:
            self.ctx.queue.poke_later(delay - left + 0.1, key)
            upload = ((obj.get("spec") or {}).get("dataSource") or {}).get("type") == "Upload"
            short = "vi" if kind is VI else "cvi"
            role = "uploader" if upload else "importer"
            pod_ns = md["namespace"] if kind is VI else "d8-virtualization"
            return f'Waiting for the {role} Pod "{pod_ns}/d8v-{short}-{role}-{md["uid"]}" to be deleted.'
        if kind is VI and (obj.get("spec") or {}).get("storage") == "PersistentVolumeClaim":
            name = image_pvc(obj)
            if not await self.ctx.writer.delete(PVC, md["namespace"], name):
                return f'Waiting for the PersistentVolumeClaim "{md["namespace"]}/{name}" to be deleted.'
            self.ctx.files.volume(md["namespace"], name).unlink(missing_ok=True)
        try:
            await asyncio.to_thread(self.ctx.dvcr.delete, image_repo(kind, obj), md["uid"])
        except dvcr.RegistryError as exc:
            log.warning("dvcr cleanup %s: %s", md["name"], exc)
        self.lost.discard(md["uid"])
        return ""

    def forget(self, obj: dict) -> None:
        asyncio.ensure_future(self.imports.drop(obj["metadata"]["uid"]))

    # -- ImageLost --------------------------------------------------------------------------------
    async def check_registry(self, obj: dict) -> None:
        """Mark/unmark a Ready DVCR image as lost by asking DVCR whether its manifest exists."""
        kind, md = self.kind, obj["metadata"]
        if kind is VI and (obj.get("spec") or {}).get("storage") == "PersistentVolumeClaim":
            return
        try:
            present = await asyncio.to_thread(self.ctx.dvcr.exists, image_repo(kind, obj), md["uid"])
        except dvcr.RegistryError:
            return  # DVCR down: cannot tell; the platform does not flip on an outage either
        was_lost = md["uid"] in self.lost
        if present and was_lost:
            self.lost.discard(md["uid"])
        elif not present and not was_lost:
            self.lost.add(md["uid"])
        else:
            return
        self.ctx.queue.poke((kind.kind, md.get("namespace", ""), md["name"]))


def _float(raw: str | None) -> float:
    try:
        return float(raw) if raw else 0.0
    except ValueError:
        return 0.0


def _since(timestamp: str) -> float:
    """Seconds since an RFC 3339 timestamp of the API."""
    at = dt.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    return time.time() - at.timestamp()
