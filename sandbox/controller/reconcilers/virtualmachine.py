"""The VirtualMachine reconciler: Pending -> Starting -> Running, Stopping -> Stopped by runPolicy.

No VM really runs: the phases follow what the VM wants (its run policy and the last VMOP,
see ..power), each Starting/Stopping step lasting `vm_step` seconds; a VM starts only once all
its block devices are Ready (a disk on a late-binding storage class may still be
WaitForFirstConsumer: the starting VM is its consumer, and the VM runs once the disk is Ready) and
none of its disks is used for image creation (the disk's InUse condition, as the platform's
BlockDeviceHandler reads it).

The guest agent: a running VM has AgentReady True (reason AgentReady), unless the annotation
`sandbox.deckhouse.io/guest-agent: "false"` says the guest has none (AgentReady False AgentNotReady);
the condition is absent while Pending, Starting or Stopped (vm AgentHandler). While a snapshot holds
its filesystem frozen (..power.Freezes) the VM shows FilesystemFrozen True `Frozen`.
"""
from __future__ import annotations

import asyncio

from ..model.kinds import CVI, VD, VI, VM
from ..model.power import RUNNING_LIKE, Freezes, Power
from ..model.status import condition, merge_conditions
from ..runtime.context import Context


GUEST_AGENT_ANNOTATION = "sandbox.deckhouse.io/guest-agent"
AGENT_NOT_RESPONDING = ("The guest agent is not responding. Make sure the guest agent is installed and running in "
                        "the guest OS.")


class VirtualMachineReconciler:
    kind = VM

    def __init__(self, ctx: Context, power: Power, freezes: Freezes) -> None:
        self.ctx = ctx
        self.power = power
        self.freezes = freezes                    # filesystems frozen by disk snapshots
        self.step_due: dict[str, float] = {}      # VM uid -> when its Starting/Stopping step may finish

    def _disks_ready(self, vm: dict, starting: bool = True) -> bool:
        """Every block device can be used: Ready (or, to start, a disk waiting for its first consumer)."""
        ns = vm["metadata"]["namespace"]
        for ref in (vm.get("spec") or {}).get("blockDeviceRefs") or []:
            kind = {"VirtualDisk": VD, "VirtualImage": VI, "ClusterVirtualImage": CVI}.get(ref.get("kind"))
            if kind is None:
                return False
            obj = self.ctx.cache.get(kind, None if kind is CVI else ns, ref.get("name", ""))
            st = (obj or {}).get("status") or {}
            ok = ("Ready", "WaitForFirstConsumer") if kind is VD and starting else ("Ready",)
            if obj is None or st.get("phase") not in ok:
                return False
            in_use = next((c for c in st.get("conditions") or [] if c["type"] == "InUse"), {})
            if kind is VD and in_use.get("status") == "True" and in_use.get("reason") == "UsedForImageCreation":
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
                nxt = "Running" if self._disks_ready(vm, starting=False) and due() else phase
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
        if nxt not in RUNNING_LIKE:
            self.freezes.drop_vm(uid)
        conds = [condition("Running", nxt == "Running", "VirtualMachineRunning" if nxt == "Running"
                           else "VirtualMachineNotRunning", "", gen)]
        conds += self._agent(vm, nxt, gen)
        new["conditions"] = merge_conditions(st.get("conditions"), [
            c for c in st.get("conditions") or [] if c["type"] not in ("Running", "AgentReady", "FilesystemFrozen")
        ] + conds)
        await self.ctx.writer.write_status(VM, vm, new)
        if nxt != phase:
            self.ctx.queue.poke((VM.kind, md["namespace"], md["name"]))

    def _agent(self, vm: dict, phase: str, gen: int) -> list[dict]:
        """AgentReady (vm AgentHandler) and FilesystemFrozen (vm FilesystemHandler)."""
        if phase in ("Pending", "Starting", "Stopped"):
            return []
        ann = vm["metadata"].get("annotations") or {}
        if ann.get(GUEST_AGENT_ANNOTATION, "true").lower() == "false" or phase != "Running":
            return [condition("AgentReady", False, "AgentNotReady", AGENT_NOT_RESPONDING, gen)]
        out = [condition("AgentReady", True, "AgentReady", "", gen)]
        if self.freezes.frozen(vm["metadata"]["uid"]):
            out.append(condition("FilesystemFrozen", True, "Frozen", "File system of the Virtual Machine is frozen.",
                                 gen))
        return out

    def forget(self, vm: dict) -> None:
        """The VM is gone: nothing of it stays frozen."""
        self.freezes.drop_vm(vm["metadata"]["uid"])
