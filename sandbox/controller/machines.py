"""VirtualDisk, VirtualDiskSnapshot, VirtualMachine and VirtualMachineOperation emulation.

Just enough of the platform for disk capture: disks backed by files (made by qemu-img),
VMs that move through Pending/Starting/Running/Stopping/Stopped by runPolicy, and
VMOPs Start/Stop/Restart with the platform's runPolicy rules and messages.
"""
from __future__ import annotations

import asyncio
import logging
import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from .. import dvcr
from .diskinfo import decompress_to, human_size, qemu_info
from .kube import CVI, VD, VDSNAP, VI, VM, VMOP
from .status import condition, merge_conditions

if TYPE_CHECKING:
    from .app import Controller

log = logging.getLogger(__name__)

_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)([KMGTPE]i?|[kmgtpe])?$")
_MULT = {None: 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
         "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
STOP_LIKE = ("Stopped",)
# The platform's applicability rules for VMOPs (run policy, then VM phase).
RUN_POLICIES_OK = {"Start": ("Manual", "AlwaysOnUnlessStoppedManually"),
                   "Stop": ("Manual", "AlwaysOnUnlessStoppedManually"),
                   "Restart": ("Manual", "AlwaysOnUnlessStoppedManually", "AlwaysOn")}
VM_PHASES_OK = {"Start": ("Stopped", "Stopping"),
                "Stop": ("Running", "Degraded", "Starting", "Pause", "Pending"),
                "Restart": ("Running", "Degraded", "Starting", "Pause")}


def parse_quantity(text: str | int | None) -> int:
    if text is None:
        return 0
    if isinstance(text, int):
        return text
    m = _QUANTITY.match(str(text).strip())
    if not m:
        return 0
    return int(float(m.group(1)) * _MULT.get(m.group(2), 1))


class Machines:
    def __init__(self, ctl: "Controller") -> None:
        self.ctl = ctl
        self.disk_tasks: dict[str, asyncio.Task] = {}
        self.power: dict[str, bool] = {}        # VM uid -> wants to run (Manual / AlwaysOnUnlessStoppedManually)
        self.restarting: set[str] = set()       # VM uids in a Restart VMOP's stop half
        self.step_due: dict[str, float] = {}    # VM uid -> when its Starting/Stopping step may finish

    # -- facts other reconcilers ask for ----------------------------------------------------------
    def vms(self, ns: str | None = None) -> list[dict]:
        return self.ctl.inf[VM.kind].items(ns)

    def disk_users(self, ns: str, name: str) -> list[tuple[str, bool]]:
        """(vm name, mounted) for every VM listing the disk in status.blockDeviceRefs."""
        out = []
        for vm in self.vms(ns):
            refs = (vm.get("status") or {}).get("blockDeviceRefs") or []
            if any(r.get("kind") == "VirtualDisk" and r.get("name") == name for r in refs):
                phase = (vm.get("status") or {}).get("phase") or "Pending"
                out.append((vm["metadata"]["name"], phase not in STOP_LIKE))
        return out

    def disk_mounted(self, ns: str, name: str) -> bool:
        return any(mounted for _, mounted in self.disk_users(ns, name))

    def disk_file(self, vd: dict) -> Path:
        md = vd["metadata"]
        return self.ctl.volume_path(md["namespace"], f"vd-{md['name']}-{md['uid']}")

    def snapshot_file(self, snap: dict) -> Path:
        md = snap["metadata"]
        return self.ctl.state_dir / "controller" / "snapshots" / md["namespace"] / f"{md['name']}-{md['uid']}.img"

    # -- VirtualDisk ------------------------------------------------------------------------------
    async def reconcile_disk(self, vd: dict) -> None:
        md, st = vd["metadata"], vd.get("status") or {}
        if md.get("deletionTimestamp"):
            return
        gen = md.get("generation", 1)
        ns, name = md["namespace"], md["name"]
        users = self.disk_users(ns, name)
        new = {k: v for k, v in st.items() if k not in ("attachedToVirtualMachines",)}
        if not st.get("phase"):
            new.update(phase="Pending", conditions=[])
        if md["uid"] not in self.disk_tasks and st.get("phase") not in ("Ready", "Failed"):
            self.disk_tasks[md["uid"]] = asyncio.create_task(self._provision_disk(vd))
        if users:
            new["attachedToVirtualMachines"] = [{"name": n, "mounted": m} for n, m in users]
        if any(m for _, m in users):
            in_use = condition("InUse", True, "AttachedToVirtualMachine", "", gen)
        elif self.ctl.images.importing_from("VirtualDisk", ns, name):
            in_use = condition("InUse", True, "UsedForImageCreation", "", gen)
        else:
            in_use = condition("InUse", False, "NotInUse", "", gen)
        conds = [c for c in new.get("conditions", []) if c["type"] != "InUse"] + [in_use]
        new["conditions"] = merge_conditions(st.get("conditions"), conds)
        new["observedGeneration"] = gen
        await self.ctl.write_status(VD, vd, new)

    async def _provision_disk(self, vd: dict) -> None:
        """Fill the disk's file from its source, then Ready (statuses written directly)."""
        md = vd["metadata"]
        gen = md.get("generation", 1)
        spec = vd.get("spec") or {}
        ds = spec.get("dataSource") or {}
        want = parse_quantity((spec.get("persistentVolumeClaim") or {}).get("size"))
        path = self.disk_file(vd)
        path.parent.mkdir(parents=True, exist_ok=True)
        pvc = f"vd-{md['name']}-{md['uid']}"
        try:
            src = None
            while ds.get("type") == "ObjectRef":
                src, blocked = self._disk_source(md["namespace"], ds.get("objectRef") or {})
                if src is not None:
                    break
                await self._disk_status(vd, "Pending", None, [
                    condition("DatasourceReady", False, blocked[0], blocked[1], gen),
                    condition("Ready", False, "DatasourceNotReady", "Datasource is not ready.", gen)])
                await self.ctl.wait_world(2.0)
                vd = self.ctl.inf[VD.kind].get(md["namespace"], md["name"]) or vd
            await self._disk_status(vd, "Provisioning", "0%", [
                condition("DatasourceReady", True, "DatasourceReady", "", gen),
                condition("Ready", False, "Provisioning", "Import is in the process of provisioning to PVC.", gen)],
                target={"persistentVolumeClaimName": pvc})
            await self.ctl.create_pvc(vd, pvc, (spec.get("persistentVolumeClaim") or {}).get("storageClassName", ""),
                                      want or 0, kind_prefix="vd")
            size = await asyncio.to_thread(self._fill_disk, src, path, want, md["uid"])
            await self._disk_status(vd, "Ready", "100%", [
                condition("DatasourceReady", True, "DatasourceReady", "", gen),
                condition("Ready", True, "Ready", "", gen)],
                target={"persistentVolumeClaimName": pvc}, capacity=human_size(size))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("disk %s", md["name"])
            await self._disk_status(vd, "Failed", None, [
                condition("Ready", False, "ProvisioningFailed", f"Provisioning failed: {exc}.", gen)])
        finally:
            self.disk_tasks.pop(md["uid"], None)

    def _disk_source(self, ns: str, ref: dict):
        kind, name = ref.get("kind"), ref.get("name", "")
        if kind in ("VirtualImage", "ClusterVirtualImage"):
            k = VI if kind == "VirtualImage" else CVI
            obj = self.ctl.inf[k.kind].get(ns if k is VI else None, name)
            if obj is None or (obj.get("status") or {}).get("phase") != "Ready":
                reason = "ImageNotReady" if k is VI else "ClusterImageNotReady"
                return None, (reason, f"{kind} {name} not ready.")
            target = obj["status"].get("target") or {}
            if target.get("persistentVolumeClaimName"):
                return ("file", self.ctl.volume_path(ns, target["persistentVolumeClaimName"])), None
            repo = f"vi/{ns}/{name}" if k is VI else f"cvi/{name}"
            return ("dvcr", repo, obj["metadata"]["uid"]), None
        if kind == "VirtualDiskSnapshot":
            snap = self.ctl.inf[VDSNAP.kind].get(ns, name)
            if snap is None or (snap.get("status") or {}).get("phase") != "Ready":
                return None, ("VirtualDiskSnapshotNotReady", f"VirtualDiskSnapshot {name} not ready.")
            return ("file", self.snapshot_file(snap)), None
        return None, ("DatasourceNotReady", f"{kind} {name} not ready.")

    def _fill_disk(self, src, path: Path, want: int, uid: str) -> int:
        """Make the disk file: blank raw of the wanted size, or the source converted to raw."""
        if src is None:
            subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(path), str(max(want, 1 << 20))],
                           check=True, capture_output=True)
            return path.stat().st_size
        work = self.ctl.work_dir("vd-" + uid)
        try:
            if src[0] == "dvcr":
                data, _ = self.ctl.dvcr.extract_disk(src[1], src[2], work)
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

    async def _disk_status(self, vd: dict, phase: str, progress: str | None, conds: list[dict], **extra) -> None:
        md = vd["metadata"]
        live = self.ctl.inf[VD.kind].get(md["namespace"], md["name"]) or vd
        st = live.get("status") or {}
        new = {k: v for k, v in st.items() if k in ("attachedToVirtualMachines",)}
        new.update(phase=phase, observedGeneration=md.get("generation", 1), **extra)
        if progress:
            new["progress"] = progress
        in_use = [c for c in st.get("conditions", []) if c["type"] == "InUse"]
        new["conditions"] = merge_conditions(st.get("conditions"), conds + in_use)
        await self.ctl.write_status(VD, live, new)

    def forget_disk(self, vd: dict) -> None:
        task = self.disk_tasks.pop(vd["metadata"]["uid"], None)
        if task:
            task.cancel()
        self.disk_file(vd).unlink(missing_ok=True)

    # -- VirtualDiskSnapshot ----------------------------------------------------------------------
    async def reconcile_snapshot(self, snap: dict) -> None:
        md, st = snap["metadata"], snap.get("status") or {}
        if md.get("deletionTimestamp") or st.get("phase") in ("Ready", "Failed"):
            return
        gen = md.get("generation", 1)
        vd_name = (snap.get("spec") or {}).get("virtualDiskName", "")
        vd = self.ctl.inf[VD.kind].get(md["namespace"], vd_name)
        if vd is None or (vd.get("status") or {}).get("phase") != "Ready":
            new = {"phase": "Pending", "observedGeneration": gen, "conditions": merge_conditions(
                st.get("conditions"), [condition("VirtualDiskReady", False, "VirtualDiskNotReadyForSnapshotting",
                                                 f"VirtualDisk {vd_name} not ready.", gen)])}
            await self.ctl.write_status(VDSNAP, snap, new)
            return
        dest = self.snapshot_file(snap)
        dest.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(shutil.copyfile, self.disk_file(vd), dest)
        new = {"phase": "Ready", "observedGeneration": gen, "consistent": True,
               "volumeSnapshotName": f"vds-{md['uid']}",
               "conditions": merge_conditions(st.get("conditions"), [
                   condition("VirtualDiskReady", True, "VirtualDiskReady", "", gen),
                   condition("Ready", True, "VirtualDiskSnapshotReady", "", gen)])}
        await self.ctl.write_status(VDSNAP, snap, new)

    def forget_snapshot(self, snap: dict) -> None:
        self.snapshot_file(snap).unlink(missing_ok=True)

    # -- VirtualMachine ---------------------------------------------------------------------------
    def wants_running(self, vm: dict) -> bool:
        uid = vm["metadata"]["uid"]
        policy = (vm.get("spec") or {}).get("runPolicy") or "AlwaysOnUnlessStoppedManually"
        if policy == "AlwaysOn":
            return True
        if policy == "AlwaysOff":
            return False
        if uid not in self.power:
            phase = (vm.get("status") or {}).get("phase")
            if phase in ("Running", "Starting", "Migrating", "Pause", "Degraded"):
                self.power[uid] = True
            elif phase in ("Stopped", "Stopping"):
                self.power[uid] = False
            else:
                self.power[uid] = policy == "AlwaysOnUnlessStoppedManually"
        return self.power[uid]

    def _disks_ready(self, vm: dict) -> bool:
        ns = vm["metadata"]["namespace"]
        for ref in (vm.get("spec") or {}).get("blockDeviceRefs") or []:
            kind = {"VirtualDisk": VD, "VirtualImage": VI, "ClusterVirtualImage": CVI}.get(ref.get("kind"))
            if kind is None:
                return False
            obj = self.ctl.inf[kind.kind].get(None if kind is CVI else ns, ref.get("name", ""))
            if obj is None or (obj.get("status") or {}).get("phase") != "Ready":
                return False
            if kind is VD and self.ctl.images.importing_from("VirtualDisk", ns, ref.get("name", "")):
                return False  # while an image is being made from the disk the VM cannot start
        return True

    async def reconcile_vm(self, vm: dict) -> None:
        md, st = vm["metadata"], vm.get("status") or {}
        if md.get("deletionTimestamp"):
            return
        uid, gen = md["uid"], md.get("generation", 1)
        phase = st.get("phase") or "Pending"
        run = self.wants_running(vm) and uid not in self.restarting
        loop = asyncio.get_running_loop()
        step = self.ctl.settings.for_object(vm).vm_step

        def due() -> bool:
            t = self.step_due.get(uid)
            if t is None:
                self.step_due[uid] = loop.time() + step
                loop.call_later(step + 0.01, self.ctl.poke, (VM.kind, md["namespace"], md["name"]))
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
            if phase in ("Running", "Starting", "Migrating", "Pause", "Degraded"):
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
        await self.ctl.write_status(VM, vm, new)
        if nxt != phase:
            self.ctl.poke((VM.kind, md["namespace"], md["name"]))

    # -- VirtualMachineOperation --------------------------------------------------------------------
    async def reconcile_vmop(self, op: dict) -> None:
        md, st = op["metadata"], op.get("status") or {}
        if md.get("deletionTimestamp") or st.get("phase") in ("Completed", "Failed", "Superseded"):
            return
        gen = md.get("generation", 1)
        spec = op.get("spec") or {}
        typ, vm_name = spec.get("type"), spec.get("virtualMachineName", "")
        vm = self.ctl.inf[VM.kind].get(md["namespace"], vm_name)

        async def put(phase: str, status: bool, reason: str, message: str) -> None:
            new = {"phase": phase, "observedGeneration": gen, "conditions": merge_conditions(
                st.get("conditions"), [condition("Completed", status, reason, message, gen)])}
            await self.ctl.write_status(VMOP, op, new)

        if vm is None:
            await put("Pending", False, "VirtualMachineNotFound", f'VirtualMachine "{vm_name}" not found')
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
                await put("Failed", False, "NotApplicableForRunPolicy", msg)
                await self.ctl.event(VMOP, op, "Warning", "VirtualMachineOperationFailed", msg)
                return
            if vm_phase not in VM_PHASES_OK[typ]:
                msg = f"Operation type {typ} is not applicable for VirtualMachine in phase {vm_phase}"
                await put("Failed", False, "NotApplicableForVMPhase", msg)
                await self.ctl.event(VMOP, op, "Warning", "VirtualMachineOperationFailed", msg)
                return
            if typ == "Start":
                self.power[uid] = True
            elif typ == "Stop":
                self.power[uid] = False
            else:
                self.restarting.add(uid)
            await put("InProgress", False, f"{typ}InProgress", "")
            self.ctl.poke((VM.kind, md["namespace"], vm_name))
            return
        # InProgress: done when the VM reached the wanted state
        if typ == "Start" and vm_phase == "Running":
            await put("Completed", True, "OperationCompleted", "")
        elif typ == "Stop" and vm_phase == "Stopped":
            await put("Completed", True, "OperationCompleted", "")
        elif typ == "Restart":
            if uid in self.restarting and vm_phase == "Stopped":
                self.restarting.discard(uid)
                self.ctl.poke((VM.kind, md["namespace"], vm_name))
            elif uid not in self.restarting and vm_phase == "Running":
                await put("Completed", True, "OperationCompleted", "")
