"""The VirtualMachine reconciler: Pending -> Starting -> Running, Stopping -> Stopped by runPolicy.

No VM really runs: the phases follow what the VM wants (its run policy and the last VMOP,
see ..power), each Starting/Stopping step lasting `vm_step` seconds; a VM starts only once all
its block devices are Ready and none of its disks is being read into an image.
"""
from __future__ import annotations

import asyncio

from ..context import Context
from ..imagejob import ImageJobs
from ..kinds import CVI, VD, VI, VM
from ..power import RUNNING_LIKE, Power
from ..status import condition, merge_conditions


class VirtualMachineReconciler:
    kind = VM

    def __init__(self, ctx: Context, power: Power, image_jobs: ImageJobs) -> None:
        self.ctx = ctx
        self.power = power
        self.image_jobs = image_jobs              # a disk being read into an image holds its VM back
        self.step_due: dict[str, float] = {}      # VM uid -> when its Starting/Stopping step may finish

    def _disks_ready(self, vm: dict) -> bool:
        ns = vm["metadata"]["namespace"]
        for ref in (vm.get("spec") or {}).get("blockDeviceRefs") or []:
            kind = {"VirtualDisk": VD, "VirtualImage": VI, "ClusterVirtualImage": CVI}.get(ref.get("kind"))
            if kind is None:
                return False
            obj = self.ctx.cache.get(kind, None if kind is CVI else ns, ref.get("name", ""))
            if obj is None or (obj.get("status") or {}).get("phase") != "Ready":
                return False
            if kind is VD and self.image_jobs.importing_from("VirtualDisk", ns, ref.get("name", "")):
                return False  # while an image is being made from the disk the VM cannot start
        return True

    async def reconcile(self, vm: dict) -> None:
        md, st = vm["metadata"], vm.get("status") or {}
        if md.get("deletionTimestamp"):
            return
        uid, gen = md["uid"], md.get("generation", 1)
        phase = st.get("phase") or "Pending"
        run = self.power.wants_running(vm) and uid not in self.power.restarting
        loop = asyncio.get_running_loop()
        step = self.ctx.settings.for_object(vm).vm_step

        def due() -> bool:
            t = self.step_due.get(uid)
            if t is None:
                self.step_due[uid] = loop.time() + step
                self.ctx.queue.poke_later(step + 0.01, (VM.kind, md["namespace"], md["name"]))
                return False
            if loop.time() >= t:
                del self.step_due[uid]
                return True
            return False

        nxt = phase
        if run:
            if phase in ("Pending", "Stopped"):
                nxt = "Starting" if self._disks_ready(vm) else phase
            elif phase == "Stopping":
                nxt = "Stopped" if due() else phase
            elif phase == "Starting":
                nxt = "Running" if due() else phase
        else:
            if phase in RUNNING_LIKE:
                nxt = "Stopping"
            elif phase == "Pending":
                nxt = "Stopped"
            elif phase == "Stopping":
                nxt = "Stopped" if due() else phase
        refs = []
        for ref in (vm.get("spec") or {}).get("blockDeviceRefs") or []:
            item = {"kind": ref.get("kind"), "name": ref.get("name"), "attached": nxt == "Running"}
            if ref.get("bootOrder") is not None:
                item["bootOrder"] = ref["bootOrder"]
            refs.append(item)
        new = {k: v for k, v in st.items()}
        new.update(phase=nxt, blockDeviceRefs=refs, observedGeneration=gen)
        new["conditions"] = merge_conditions(st.get("conditions"), [
            condition("Running", nxt == "Running", "VirtualMachineRunning" if nxt == "Running"
                      else "VirtualMachineNotRunning", "", gen)])
        await self.ctx.writer.write_status(VM, vm, new)
        if nxt != phase:
            self.ctx.queue.poke((VM.kind, md["namespace"], md["name"]))

    def forget(self, vm: dict) -> None:
        """Nothing to drop: a VM holds no task or file."""
