"""A VirtualDisk from an ObjectRef: a VirtualDiskSnapshot's data, or a VirtualImage's / ClusterVirtualImage's
(from its PVC or its DVCR image), straight into the disk's PVC (no DVCR stage).
"""
from __future__ import annotations

from pathlib import Path

from ... import dvcr
from ...api.admission.quantity import Quantity
from ..model.kinds import CVI, VDSNAP, VI
from ..model.names import dvcr_repo
from .diskjob import PVC_CREATED, PVC_IMPORT, DiskJob
from .disksteps import ISO_NOT_SUPPORTED, DiskSteps
from .diskvolume import pvc_size, spec_size
from .importers import ImportFailed


class ObjectRefDisk:
    def __init__(self, steps: DiskSteps) -> None:
        self.steps = steps

    async def provision(self, vd: dict, job: DiskJob, workdir: Path, storage_class: str, src: dict) -> None:
        job.source_uid = src["metadata"]["uid"]
        if src["kind"] == VDSNAP.kind:
            await self._from_snapshot(vd, job, workdir, storage_class, src)
        else:
            await self._from_image(vd, job, workdir, storage_class, src)

    async def _from_snapshot(self, vd: dict, job: DiskJob, workdir: Path, storage_class: str, snap: dict) -> None:
        """The PVC is made first, at least the snapshot's size; the data lands once it may bind."""
        steps = self.steps
        wanted = spec_size(vd)
        data = steps.ctx.files.snapshot(snap)
        required = data.stat().st_size
        if wanted and not Quantity(str(wanted)) < Quantity(str(required)):
            size, capacity = int(Quantity(str(wanted)).value), str(Quantity(str(wanted)))
        else:   # the VolumeSnapshot's restore size is the floor
            size, capacity = required, str(Quantity(str(required)))
        await steps.create_pvc(vd, job, storage_class, capacity)
        job.step("Provisioning", "Provisioning", PVC_CREATED, "0%")
        steps.poke(job)
        steps.fault(vd, job, None)
        await steps.wait_consumer(job, storage_class, imported=False)
        await steps.fill(vd, job, lambda: data, size, workdir)
        steps.finish(job, capacity)

    async def _from_image(self, vd: dict, job: DiskJob, workdir: Path, storage_class: str, image: dict) -> None:
        """An image sized from its unpacked bytes; the PVC is made once a consumer is scheduled (late binding)."""
        steps = self.steps
        ns = vd["metadata"]["namespace"]
        st = image.get("status") or {}
        if st.get("format") == "iso":
            steps.stop(job, "ProvisioningFailed", ISO_NOT_SUPPORTED)
        required = int((st.get("size") or {}).get("unpackedBytes") or 0) or 1
        size, capacity = pvc_size(spec_size(vd), required)
        steps.fault(vd, job, None)
        await steps.wait_consumer(job, storage_class, imported=True)
        await steps.create_pvc(vd, job, storage_class, capacity)
        job.step("Provisioning", "Provisioning", PVC_IMPORT, "0%")
        job.span = (0.0, 1.0)
        steps.poke(job)
        target = st.get("target") or {}
        kind = VI if image["kind"] == VI.kind else CVI
        if target.get("persistentVolumeClaimName"):
            def source() -> Path:
                return steps.ctx.files.volume(ns, target["persistentVolumeClaimName"])
        else:
            def source() -> Path:
                try:
                    return steps.ctx.dvcr.extract_disk(dvcr_repo(kind, ns, image["metadata"]["name"]),
                                                       image["metadata"]["uid"], workdir)[0]
                except dvcr.RegistryError as exc:
                    raise ImportFailed(str(exc)) from None
        await steps.fill(vd, job, source, size, workdir)
        steps.finish(job, capacity)
