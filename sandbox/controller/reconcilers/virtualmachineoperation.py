"""The VirtualMachineOperation reconciler: Start, Stop and Restart with the platform's rules.

An operation is checked once (its VM exists, then the older unfinished operations of the VM: each one it may
supersede is marked Superseded, any other fails it NotReadyToBeExecuted; then run policy, then VM phase; reasons
and messages as the platform's vmop/service/service.go words them at v1.10.2 and main),
then changes what its VM wants (..power) and completes when the VM got there.

The fault `sandbox.deckhouse.io/hold-operations: "true"` on a VM keeps its new operations Pending (after they
superseded what they may, before the run policy and phase checks) until the annotation goes: a test makes an
operation stay unfinished for as long as it needs, with no timing involved.
"""
from __future__ import annotations

from ...vmop_rules import NOT_READY_MESSAGE, NOT_READY_REASON, can_supersede, older_unfinished
from ..model.kinds import VM, VMOP
from ..model.power import Power
from ..model.status import condition, merge_conditions
from ..runtime.context import Context

# The platform's applicability rules for VMOPs (run policy, then VM phase).
RUN_POLICIES_OK = {"Start": ("Manual", "AlwaysOnUnlessStoppedManually"),
                   "Stop": ("Manual", "AlwaysOnUnlessStoppedManually"),
                   "Restart": ("Manual", "AlwaysOnUnlessStoppedManually", "AlwaysOn")}
VM_PHASES_OK = {"Start": ("Stopped", "Stopping"),
                "Stop": ("Running", "Degraded", "Starting", "Pause", "Pending"),
                "Restart": ("Running", "Degraded", "Starting", "Pause")}
HOLD_ANNOTATION = "sandbox.deckhouse.io/hold-operations"


class VirtualMachineOperationReconciler:
    kind = VMOP

    def __init__(self, ctx: Context, power: Power) -> None:
        self.ctx = ctx
        self.power = power

    async def reconcile(self, op: dict) -> None:
        md, st = op["metadata"], op.get("status") or {}
        if md.get("deletionTimestamp") or st.get("phase") in ("Completed", "Failed", "Superseded"):
            return
        gen = md.get("generation", 1)
        spec = op.get("spec") or {}
        typ, vm_name = spec.get("type"), spec.get("virtualMachineName", "")
        vm = self.ctx.cache.get(VM, md["namespace"], vm_name)

        async def put(phase: str, status: bool | str, reason: str, message: str) -> None:
            new = {"phase": phase, "observedGeneration": gen, "conditions": merge_conditions(
                st.get("conditions"), [condition("Completed", status, reason, message, gen)])}
            await self.ctx.writer.write_status(VMOP, op, new)

        if vm is None:     # vmop/service/service.go FetchVirtualMachineOrSetFailedPhase (v1.10.2 and main)
            await put("Failed", False, "VirtualMachineNotFound", "VirtualMachine not found")
            await self.ctx.writer.event(VMOP, op, "Warning", "VirtualMachineOperationFailed", "VirtualMachine not found")
            return
        if typ not in ("Start", "Stop", "Restart"):
            await put("Failed", False, "NotSupported", f"Operation type {typ} is not supported by the sandbox")
            return
        policy = (vm.get("spec") or {}).get("runPolicy") or "AlwaysOnUnlessStoppedManually"
        vm_phase = (vm.get("status") or {}).get("phase") or "Pending"
        uid = vm["metadata"]["uid"]
        if not st.get("phase") or st.get("phase") == "Pending":
            older = older_unfinished(op, self.ctx.cache.items(VMOP, md["namespace"]))
            if any(not can_supersede(old, op) for old in older):
                await put("Failed", False, NOT_READY_REASON, NOT_READY_MESSAGE)
                return
            for old in older:
                await self._supersede(old, op, uid)
            if ((vm["metadata"].get("annotations") or {}).get(HOLD_ANNOTATION)) == "true":
                if st.get("phase") != "Pending":
                    await put("Pending", "Unknown", "Unknown", "")
                return
            allowed = policy in RUN_POLICIES_OK[typ]
            if not allowed:
                msg = f"Operation type {typ} is not applicable for VirtualMachine with runPolicy {policy}"
                await put("Failed", False, "NotApplicableForVirtualMachineRunPolicy", msg)
                await self.ctx.writer.event(VMOP, op, "Warning", "VirtualMachineOperationFailed", msg)
                return
            if vm_phase not in VM_PHASES_OK[typ]:
                msg = f"Operation type {typ} is not applicable for VirtualMachine in phase {vm_phase}"
                await put("Failed", False, "NotApplicableForVirtualMachinePhase", msg)
                await self.ctx.writer.event(VMOP, op, "Warning", "VirtualMachineOperationFailed", msg)
                return
            if typ == "Start":
                self.power.wanted[uid] = True
            elif typ == "Stop":
                self.power.wanted[uid] = False
            else:
                self.power.restarting.add(uid)
            await put("InProgress", False, f"{typ}InProgress", "")
            self.ctx.queue.poke((VM.kind, md["namespace"], vm_name))
            return
        # InProgress: done when the VM reached the wanted state
        if typ == "Start" and vm_phase == "Running":
            await put("Completed", True, "OperationCompleted", "")
        elif typ == "Stop" and vm_phase == "Stopped":
            await put("Completed", True, "OperationCompleted", "")
        elif typ == "Restart":
            if uid in self.power.restarting and vm_phase == "Stopped":
                self.power.restarting.discard(uid)
                self.ctx.queue.poke((VM.kind, md["namespace"], vm_name))
            elif uid not in self.power.restarting and vm_phase == "Running":
                await put("Completed", True, "OperationCompleted", "")

    async def _supersede(self, old: dict, new: dict, vm_uid: str) -> None:
        """Mark ``old`` Superseded by ``new`` and drop what it asked of the VM (service.go markSuperseded and
        cleanupSupersededOperation): a Start's or Restart's wish to run goes, the new operation's wish replaces it."""
        if (old.get("spec") or {}).get("type") == "Restart":
            self.power.restarting.discard(vm_uid)
        gen = old["metadata"].get("generation", 1)
        spec = new.get("spec") or {}
        message = f"Superseded by {new['metadata']['name']} with type {spec.get('type')}"
        st = old.get("status") or {}
        await self.ctx.writer.write_status(VMOP, old, {
            "phase": "Superseded", "observedGeneration": st.get("observedGeneration", gen),
            "conditions": merge_conditions(st.get("conditions"),
                                           [condition("Completed", True, "Superseded", message, gen)])})

    def forget(self, op: dict) -> None:
        """Nothing to drop: what the operation asked stays asked (as on the platform)."""
