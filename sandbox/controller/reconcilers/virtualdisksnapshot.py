"""The VirtualDiskSnapshot reconciler: Pending -> InProgress -> Ready, or Failed, as the platform's
vdsnapshot controller does it (VirtualDiskReadyHandler, LifeCycleHandler, DeletionHandler; the same
code in v1.10.2 and main).

The VolumeSnapshot is a copy of the disk's volume file, taken when the snapshot starts (so images
and disks made from it hold the disk's bytes of that moment); it becomes ready to use after
`snapshot_step` seconds. A disk attached to a VM that is not Stopped is frozen first when the guest
agent can do it (the VM is Running with AgentReady True; ..power.Freezes) and thawed once the
snapshot is ready; then `status.consistent` is true. Otherwise `spec.requiredConsistency` (default
true) fails the snapshot as PotentiallyInconsistent; with false the snapshot is taken and
`consistent` stays unset.

Fault hook `sandbox.deckhouse.io/snapshot-error: <message>`: the VolumeSnapshot reports an error;
the snapshot fails with `VolumeSnapshot "<vs>" has an error: <message>.`.
"""
from __future__ import annotations

import shutil
import time

from ..model.kinds import PVC, VD, VDSNAP, VM
from ..model.names import FINALIZER_PREFIX, volume_snapshot
from ..model.power import Freezes
from ..model.status import condition, merge_conditions
from ..runtime.context import Context

CLEANUP = FINALIZER_PREFIX + "vdsnapshot-cleanup"
ERROR_ANNOTATION = "sandbox.deckhouse.io/snapshot-error"
STARTED = "The snapshotting process has started."


class VirtualDiskSnapshotReconciler:
    kind = VDSNAP

    def __init__(self, ctx: Context, freezes: Freezes) -> None:
        self.ctx = ctx
        self.freezes = freezes
        self.ready_at: dict[str, float] = {}    # snapshot uid -> when its VolumeSnapshot is ready to use

    async def reconcile(self, snap: dict) -> None:
        md, st = snap["metadata"], snap.get("status") or {}
        gen = md.get("generation", 1)
        key = (VDSNAP.kind, md["namespace"], md["name"])
        vd_name = (snap.get("spec") or {}).get("virtualDiskName", "")
        vd = self.ctx.cache.get(VD, md["namespace"], vd_name)
        new = {k: v for k, v in st.items() if k != "conditions"}
        if md.get("deletionTimestamp"):
            self._thaw(snap, vd)
            self.ctx.files.snapshot(snap).unlink(missing_ok=True)
            new["phase"] = "Terminating"
            conds = [condition("VirtualDiskReady", "Unknown", "Unknown", "", gen),
                     condition("VirtualDiskSnapshotReady", "Unknown", "Unknown", "", gen)]
            await self.ctx.writer.write_status(VDSNAP, snap, {**new, "conditions": merge_conditions(
                st.get("conditions"), conds), "observedGeneration": gen})
            await self.ctx.writer.set_finalizers(VDSNAP, snap, remove=[CLEANUP])
            return
        await self.ctx.writer.set_finalizers(VDSNAP, snap, add=[CLEANUP])
        disk_ready = self._disk_ready(st, vd, vd_name, gen)
        phase, (status, reason, msg), again = self._life_cycle(snap, new, vd, vd_name, disk_ready)
        new["phase"] = phase
        new["observedGeneration"] = gen
        new["conditions"] = merge_conditions(st.get("conditions"), [
            disk_ready, condition("VirtualDiskSnapshotReady", status, reason, msg, gen)])
        await self.ctx.writer.write_status(VDSNAP, snap, new)
        if again is not None:
            self.ctx.queue.poke_later(again, key)

    # -- VirtualDiskReady ---------------------------------------------------------------------------
    def _disk_ready(self, st: dict, vd: dict | None, name: str, gen: int) -> dict:
        def no(msg: str) -> dict:
            return condition("VirtualDiskReady", False, "VirtualDiskNotReadyForSnapshotting", msg, gen)

        if st.get("phase") == "Ready":
            return condition("VirtualDiskReady", True, "VirtualDiskReady", "", gen)
        if vd is None:
            return no(f'The virtual disk "{name}" was not found.')
        if vd["metadata"].get("deletionTimestamp"):
            return no(f'The virtual disk "{name}" is in the process of deletion.')
        vst = vd.get("status") or {}
        if vst.get("phase") != "Ready":
            return no(f'The virtual disk "{name}" is in the "{vst.get("phase", "")}" phase: waiting for it to reach '
                      "the Ready phase.")
        snapshotting = next((c for c in vst.get("conditions") or [] if c["type"] == "Snapshotting"), None)
        if snapshotting is not None and (snapshotting["status"] != "True" or snapshotting.get(
                "observedGeneration") != vd["metadata"].get("generation", 1)):
            return no(snapshotting.get("message", ""))
        return condition("VirtualDiskReady", True, "VirtualDiskReady", "", gen)

    # -- the life cycle -----------------------------------------------------------------------------
    def _life_cycle(self, snap: dict, new: dict, vd: dict | None, vd_name: str, disk_ready: dict):
        """(phase, VirtualDiskSnapshotReady (status, reason, message), poke again after s or None)."""
        md, st = snap["metadata"], snap.get("status") or {}
        uid, ns = md["uid"], md["namespace"]
        phase = st.get("phase") or "Pending"
        vs_name = st.get("volumeSnapshotName") or volume_snapshot(snap)
        data = self.ctx.files.snapshot(snap)
        required = (snap.get("spec") or {}).get("requiredConsistency", True)
        if phase == "Failed":
            self._thaw(snap, vd)
            ready = next((c for c in st.get("conditions") or [] if c["type"] == "VirtualDiskSnapshotReady"), {})
            return "Failed", (False, ready.get("reason") or "VirtualDiskSnapshotFailed", ready.get("message", "")), None
        if phase == "Ready":
            if not data.exists():
                return "Failed", (False, "Lost", f'The underlying VolumeSnapshot "{vs_name}" is no longer available.'), None
            return "Ready", (True, "VirtualDiskSnapshotReady", ""), None

        def failed(reason: str, msg: str):
            self._thaw(snap, vd)
            return "Failed", (False, reason, msg), None

        if vd is None:
            return failed("WaitingForTheVirtualDisk", f'Cannot take a snapshot: the virtual disk "{vd_name}" does not exist.')
        if disk_ready["status"] != "True":
            return failed("WaitingForTheVirtualDisk", f'Cannot take a snapshot: the virtual disk "{vd_name}" is not ready.')
        pvc_name = ((vd.get("status") or {}).get("target") or {}).get("persistentVolumeClaimName", "")
        pvc = self.ctx.cache.get(PVC, ns, pvc_name) if pvc_name else None
        if pvc is None:
            return failed("WaitingForTheVirtualDisk", "Cannot take a snapshot: the persistent volume claim for virtual "
                          f'disk "{vd_name}" does not exist.')
        if (pvc.get("status") or {}).get("phase") != "Bound":
            return failed("WaitingForTheVirtualDisk", f'Cannot take a snapshot: the persistent volume claim "{pvc_name}" '
                          f'for virtual disk "{vd_name}" is not in phase Bound.')
        attached = (vd.get("status") or {}).get("attachedToVirtualMachines") or []
        if len(attached) > 1:
            return failed("VirtualDiskSnapshotFailed", f'The virtual disk "{vd_name}" is attached to multiple virtual machines.')
        vm = self.ctx.cache.get(VM, ns, attached[0]["name"]) if attached else None
        vm_phase = ((vm or {}).get("status") or {}).get("phase")
        frozen = vm is not None and self.freezes.frozen(vm["metadata"]["uid"])

        if not data.exists():       # no VolumeSnapshot yet
            if vm is not None and vm_phase != "Stopped" and not frozen:
                agent = next((c for c in (vm.get("status") or {}).get("conditions") or []
                              if c["type"] == "AgentReady"), {})
                if vm_phase == "Running" and agent.get("status") == "True":      # CanFreeze
                    if phase == "Pending":
                        return "InProgress", (False, "Snapshotting", STARTED), 0.05
                    self.freezes.freeze(vm["metadata"]["uid"], uid)
                    self.ctx.queue.poke((VM.kind, ns, vm["metadata"]["name"]))
                    return "InProgress", (False, "FileSystemFreezing", (
                        f'The virtual machine "{vm["metadata"]["name"]}" with an attached virtual disk "{vd_name}" is '
                        "in the process of being frozen for taking a snapshot.")), 0.2
                if required:
                    tail = (": virtual machine agent is not ready and the virtual machine cannot be frozen"
                            if agent.get("status") != "True" else "")
                    return "Failed", (False, "PotentiallyInconsistent", (
                        f'Cannot take a consistent snapshot of virtual disk "{vd_name}" attached to virtual machine '
                        f'"{vm["metadata"]["name"]}"{tail}.')), None
            if phase == "Pending":
                return "InProgress", (False, "Snapshotting", STARTED), 0.05
            data.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.ctx.files.disk(vd), data)    # the disk's bytes of this moment
            step = self.ctx.settings.for_object(snap).snapshot_step
            self.ready_at[uid] = time.monotonic() + step
            new["volumeSnapshotName"] = vs_name
            return "InProgress", (False, "Snapshotting",
                                  f'The snapshotting process for virtual disk "{vd_name}" has started.'), step + 0.05
        new["volumeSnapshotName"] = vs_name
        error = (md.get("annotations") or {}).get(ERROR_ANNOTATION)
        if error:
            return failed("VirtualDiskSnapshotFailed", f'VolumeSnapshot "{vs_name}" has an error: {error}.')
        left = self.ready_at.get(uid, 0.0) - time.monotonic()
        if left > 0:
            return "InProgress", (False, "Snapshotting",
                                  f'Waiting for the snapshot of virtual disk "{vd_name}" to be ready to use.'), left + 0.05
        if st.get("consistent") is None:
            if vm is None or vm_phase == "Stopped" or frozen:
                new["consistent"] = True
                return "InProgress", (False, "Snapshotting", "The consistent snapshot has been taken."), 0.2
            if required:
                return failed("VirtualDiskSnapshotFailed", "Virtual disk snapshot is not consistent because the virtual "
                              f'machine {vm["metadata"]["name"]} has not been stopped or its filesystem has not been frozen.')
        self._thaw(snap, vd)
        self.ready_at.pop(uid, None)
        return "Ready", (True, "VirtualDiskSnapshotReady", ""), None

    def _thaw(self, snap: dict, vd: dict | None) -> None:
        """Let go of this snapshot's freeze of the disk's VM (the VM thaws when no other snapshot holds it)."""
        ns, uid = snap["metadata"]["namespace"], snap["metadata"]["uid"]
        for vm_uid in [u for u, holders in self.freezes.held.items() if uid in holders]:
            if self.freezes.thaw(vm_uid, uid):
                for vm in self.ctx.cache.items(VM, ns):
                    if vm["metadata"]["uid"] == vm_uid:
                        self.ctx.queue.poke((VM.kind, ns, vm["metadata"]["name"]))

    def forget(self, snap: dict) -> None:
        self.ready_at.pop(snap["metadata"]["uid"], None)
        self.ctx.files.snapshot(snap).unlink(missing_ok=True)
