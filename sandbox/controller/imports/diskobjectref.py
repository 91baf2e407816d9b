"""A VirtualDisk from an ObjectRef: a VirtualDiskSnapshot's data, or a VirtualImage's / ClusterVirtualImage's
(from its PVC or its DVCR image), straight into the disk's PVC (no DVCR stage).
"""
from __future__ import annotations

from pathlib import Path

from ... import dvcr
from ...api.admission.quantity import Quantity
from ...platform import V1_10
from ..model.kinds import CVI, VD, VDSNAP, VI
from ..model.names import dvcr_repo
from .diskjob import PVC_CREATED, PVC_IMPORT, DiskJob
from .disksteps import ISO_NOT_SUPPORTED, DiskSteps
from .diskvolume import InsufficientSize, pvc_size, spec_size
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
        data = steps.ctx.files.snapshot(snap)
        size, capacity = await self._size_from_snapshot(vd, data.stat().st_size)
        await steps.create_pvc(vd, job, storage_class, capacity)
        job.step("Provisioning", "Provisioning", PVC_CREATED, "0%")
        steps.poke(job)
        steps.fault(vd, job, None)
        await steps.wait_consumer(job, storage_class, imported=False)
        await steps.fill(vd, job, lambda: data, size, workdir)
        steps.finish(job, capacity)

    async def _size_from_snapshot(self, vd: dict, restore_size: int) -> tuple[int, str]:
        """(bytes, capacity text) of the PVC restored from a VolumeSnapshot of `restore_size` bytes.

        main grows a smaller spec size to the restore size (the CSI driver's floor); v1.10.2 validates it as
        an image's size (GetValidatedPVCSize) and fails the disk before the PVC is made, with a Warning event."""
        wanted = spec_size(vd)
        if self.steps.ctx.settings.platform == V1_10:
            try:
                return pvc_size(wanted, restore_size)
            except InsufficientSize as exc:
                await self.steps.ctx.writer.event(VD, self.steps.live(vd), "Warning", "DataSourceSyncFailed",
                                                  exc.error)
                raise
        if wanted and not Quantity(str(wanted)) < Quantity(str(restore_size)):
            return int(Quantity(str(wanted)).value), str(Quantity(str(wanted)))
        return restore_size, str(Quantity(str(restore_size)))

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
