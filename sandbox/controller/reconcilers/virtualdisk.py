"""The VirtualDisk reconciler: disks backed by raw files that qemu-img makes.

A disk is blank (of its size) or filled from a VirtualImage, ClusterVirtualImage or
VirtualDiskSnapshot; filling runs in a task that writes its statuses directly. The reconcile
itself keeps InUse and attachedToVirtualMachines current.
"""
from __future__ import annotations

import asyncio
import logging
import re
import shutil
import subprocess
from pathlib import Path
from typing import Union

from ... import dvcr
from ..context import Context
from ..diskinfo import decompress_to, human_size, qemu_info
from ..imagejob import ImageJobs
from ..kinds import CVI, PVC, VD, VDSNAP, VI
from ..names import disk_pvc, dvcr_repo
from ..queries import disk_users
from ..status import condition, merge_conditions

log = logging.getLogger(__name__)

_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)([KMGTPE]i?|[kmgtpe])?$")
_MULT = {None: 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
         "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
# What a disk is filled from: ("file", path) or ("dvcr", repo, tag).
DiskSource = Union[tuple[str, Path], tuple[str, str, str]]


def parse_quantity(text: str | int | None) -> int:
    if text is None:
        return 0
    if isinstance(text, int):
        return text
    m = _QUANTITY.match(str(text).strip())
    if not m:
        return 0
    return int(float(m.group(1)) * _MULT.get(m.group(2), 1))


class VirtualDiskReconciler:
    kind = VD

    def __init__(self, ctx: Context, image_jobs: ImageJobs) -> None:
        self.ctx = ctx
        self.image_jobs = image_jobs             # a disk an image is made from is InUse
        self.tasks: dict[str, asyncio.Task] = {}  # VD uid -> the task filling its file

    async def reconcile(self, vd: dict) -> None:
        md, st = vd["metadata"], vd.get("status") or {}
        if md.get("deletionTimestamp"):
            return
        gen = md.get("generation", 1)
        ns, name = md["namespace"], md["name"]
        users = disk_users(self.ctx.cache, ns, name)
        new = {k: v for k, v in st.items() if k not in ("attachedToVirtualMachines",)}
        if not st.get("phase"):
            new.update(phase="Pending", conditions=[])
        if md["uid"] not in self.tasks and st.get("phase") not in ("Ready", "Failed"):
            self.tasks[md["uid"]] = asyncio.create_task(self._provision(vd))
        if users:
            new["attachedToVirtualMachines"] = [{"name": n, "mounted": m} for n, m in users]
        if any(m for _, m in users):
            in_use = condition("InUse", True, "AttachedToVirtualMachine", "", gen)
        elif self.image_jobs.importing_from("VirtualDisk", ns, name):
            in_use = condition("InUse", True, "UsedForImageCreation", "", gen)
        else:
            in_use = condition("InUse", False, "NotInUse", "", gen)
        conds = [c for c in new.get("conditions", []) if c["type"] != "InUse"] + [in_use]
        new["conditions"] = merge_conditions(st.get("conditions"), conds)
        new["observedGeneration"] = gen
        await self.ctx.writer.write_status(VD, vd, new)

    async def _provision(self, vd: dict) -> None:
        """Fill the disk's file from its source, then Ready (statuses written directly)."""
        md = vd["metadata"]
        gen = md.get("generation", 1)
        spec = vd.get("spec") or {}
        ds = spec.get("dataSource") or {}
        want = parse_quantity((spec.get("persistentVolumeClaim") or {}).get("size"))
        path = self.ctx.files.disk(vd)
        path.parent.mkdir(parents=True, exist_ok=True)
        pvc = disk_pvc(vd)
        try:
            src = None
            while ds.get("type") == "ObjectRef":
                src, blocked = self._source(md["namespace"], ds.get("objectRef") or {})
                if src is not None:
                    break
                await self._status(vd, "Pending", None, [
                    condition("DatasourceReady", False, blocked[0], blocked[1], gen),
                    condition("Ready", False, "DatasourceNotReady", "Datasource is not ready.", gen)])
                await self.ctx.queue.wait_world(2.0)
                vd = self.ctx.cache.get(VD, md["namespace"], md["name"]) or vd
            await self._status(vd, "Provisioning", "0%", [
                condition("DatasourceReady", True, "DatasourceReady", "", gen),
                condition("Ready", False, "Provisioning", "Import is in the process of provisioning to PVC.", gen)],
                target={"persistentVolumeClaimName": pvc})
            storage_class = (spec.get("persistentVolumeClaim") or {}).get("storageClassName", "")
            await self.ctx.writer.create_pvc(vd, pvc, storage_class, want or 0)
            size = await asyncio.to_thread(self._fill, src, path, want, md["uid"])
            await self._status(vd, "Ready", "100%", [
                condition("DatasourceReady", True, "DatasourceReady", "", gen),
                condition("Ready", True, "Ready", "", gen)],
                target={"persistentVolumeClaimName": pvc}, capacity=human_size(size))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("disk %s", md["name"])
            await self._status(vd, "Failed", None, [
                condition("Ready", False, "ProvisioningFailed", f"Provisioning failed: {exc}.", gen)])
        finally:
            self.tasks.pop(md["uid"], None)

    def _source(self, ns: str, ref: dict) -> tuple[DiskSource | None, tuple[str, str] | None]:
        kind, name = ref.get("kind"), ref.get("name", "")
        if kind in ("VirtualImage", "ClusterVirtualImage"):
            k = VI if kind == "VirtualImage" else CVI
            obj = self.ctx.cache.get(k, ns if k is VI else None, name)
            if obj is None or (obj.get("status") or {}).get("phase") != "Ready":
                reason = "ImageNotReady" if k is VI else "ClusterImageNotReady"
                return None, (reason, f"{kind} {name} not ready.")
            target = obj["status"].get("target") or {}
            if target.get("persistentVolumeClaimName"):
                return ("file", self.ctx.files.volume(ns, target["persistentVolumeClaimName"])), None
            return ("dvcr", dvcr_repo(k, ns, name), obj["metadata"]["uid"]), None
        if kind == "VirtualDiskSnapshot":
            snap = self.ctx.cache.get(VDSNAP, ns, name)
            if snap is None or (snap.get("status") or {}).get("phase") != "Ready":
                return None, ("VirtualDiskSnapshotNotReady", f"VirtualDiskSnapshot {name} not ready.")
            return ("file", self.ctx.files.snapshot(snap)), None
        return None, ("DatasourceNotReady", f"{kind} {name} not ready.")

    def _fill(self, src: DiskSource | None, path: Path, want: int, uid: str) -> int:
        """Make the disk file: blank raw of the wanted size, or the source converted to raw."""
        if src is None:
            subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(path), str(max(want, 1 << 20))],
                           check=True, capture_output=True)
            return path.stat().st_size
        work = self.ctx.files.work_dir("vd-" + uid)
        try:
            if src[0] == "dvcr":
                data, _ = self.ctx.dvcr.extract_disk(src[1], src[2], work)
            else:
                data = src[1]
            plain = work / "plain"
            decompress_to(data, plain)
            fmt, vsize = qemu_info(plain)
            subprocess.run(["qemu-img", "convert", "-q", "-f", fmt, "-O", "raw", str(plain), str(path)],
                           check=True, capture_output=True)
            if want > vsize:
                subprocess.run(["qemu-img", "resize", "-q", "-f", "raw", str(path), str(want)], check=True,
                               capture_output=True)
            return path.stat().st_size
        except dvcr.RegistryError as exc:
            raise RuntimeError(str(exc)) from None
        finally:
            shutil.rmtree(work, ignore_errors=True)

    async def _status(self, vd: dict, phase: str, progress: str | None, conds: list[dict], **extra) -> None:
        md = vd["metadata"]
        live = self.ctx.cache.get(VD, md["namespace"], md["name"]) or vd
        st = live.get("status") or {}
        new = {k: v for k, v in st.items() if k in ("attachedToVirtualMachines",)}
        new.update(phase=phase, observedGeneration=md.get("generation", 1), **extra)
        if progress:
            new["progress"] = progress
        in_use = [c for c in st.get("conditions", []) if c["type"] == "InUse"]
        new["conditions"] = merge_conditions(st.get("conditions"), conds + in_use)
        await self.ctx.writer.write_status(VD, live, new)

    def forget(self, vd: dict) -> None:
        """Stop filling it, remove its file and its PVC."""
        md = vd["metadata"]
        task = self.tasks.pop(md["uid"], None)
        if task:
            task.cancel()
        self.ctx.files.disk(vd).unlink(missing_ok=True)
        asyncio.ensure_future(self.ctx.writer.delete_quietly(PVC, md.get("namespace"), disk_pvc(vd)))
