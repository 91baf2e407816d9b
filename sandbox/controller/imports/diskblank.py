"""A blank VirtualDisk: an empty raw volume of the spec's size, once its PVC may bind."""
from __future__ import annotations

import asyncio
import subprocess

from ... import tools
from ...api.admission.quantity import Quantity
from .diskjob import DiskJob
from .disksteps import DiskSteps
from .diskvolume import spec_size


class BlankDisk:
    def __init__(self, steps: DiskSteps) -> None:
        self.steps = steps

    async def provision(self, vd: dict, job: DiskJob, storage_class: str) -> None:
        steps = self.steps
        size = Quantity(str(spec_size(vd)))
        await steps.create_pvc(vd, job, storage_class, str(size))
        job.step("Provisioning", "Provisioning", f'Waiting for the PersistentVolumeClaim "{job.pvc}" to be Bound.',
                 "0%")
        steps.poke(job)
        steps.fault(vd, job, None)
        await steps.wait_consumer(job, storage_class, imported=False)
        path = steps.ctx.files.disk(vd)
        path.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(subprocess.run, [tools.command("qemu-img"), "create", "-q", "-f", "raw", str(path),
                                                 str(int(size.value))], check=True, capture_output=True)
        steps.finish(job, str(size))
