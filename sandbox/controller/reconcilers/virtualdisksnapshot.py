"""The VirtualDiskSnapshot reconciler: a snapshot is a copy of its Ready disk's file."""
from __future__ import annotations

import asyncio
import shutil

from ..context import Context
from ..kinds import VD, VDSNAP
from ..status import condition, merge_conditions


class VirtualDiskSnapshotReconciler:
    kind = VDSNAP

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def reconcile(self, snap: dict) -> None:
        md, st = snap["metadata"], snap.get("status") or {}
        if md.get("deletionTimestamp") or st.get("phase") in ("Ready", "Failed"):
            return
        gen = md.get("generation", 1)
        vd_name = (snap.get("spec") or {}).get("virtualDiskName", "")
        vd = self.ctx.cache.get(VD, md["namespace"], vd_name)
        if vd is None or (vd.get("status") or {}).get("phase") != "Ready":
            new = {"phase": "Pending", "observedGeneration": gen, "conditions": merge_conditions(
                st.get("conditions"), [condition("VirtualDiskReady", False, "VirtualDiskNotReadyForSnapshotting",
                                                 f"VirtualDisk {vd_name} not ready.", gen)])}
            await self.ctx.writer.write_status(VDSNAP, snap, new)
            return
        dest = self.ctx.files.snapshot(snap)
        dest.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(shutil.copyfile, self.ctx.files.disk(vd), dest)
        new = {"phase": "Ready", "observedGeneration": gen, "consistent": True,
               "volumeSnapshotName": f"vds-{md['uid']}",
               "conditions": merge_conditions(st.get("conditions"), [
                   condition("VirtualDiskReady", True, "VirtualDiskReady", "", gen),
                   condition("Ready", True, "VirtualDiskSnapshotReady", "", gen)])}
        await self.ctx.writer.write_status(VDSNAP, snap, new)

    def forget(self, snap: dict) -> None:
        self.ctx.files.snapshot(snap).unlink(missing_ok=True)
