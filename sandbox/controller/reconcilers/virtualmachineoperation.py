"""The VirtualMachineOperation reconciler: Start, Stop and Restart with the platform's rules.

An operation is checked once (its VM exists, then run policy, then VM phase; reasons and messages as the platform's
vmop/service/service.go words them at v1.10.2 and main),
then changes what its VM wants (..power) and completes when the VM got there.
"""
from __future__ import annotations

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

        async def put(phase: str, status: bool, reason: str, message: str) -> None:
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

    def forget(self, op: dict) -> None:
        """Nothing to drop: what the operation asked stays asked (as on the platform)."""
