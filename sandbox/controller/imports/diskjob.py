"""The in-memory state of one VirtualDisk's provisioning, and the status it implies.

A job belongs to one (uid, generation). Its task (..diskimport) moves it from stage to stage;
the disk reconciler turns `job.core()` into status, adding what every disk shows whatever its
stage (StorageClassReady, InUse, attachedToVirtualMachines). The wording is the platform's
(vd controller, `vd/internal/source/step/*`, v1.10.2 and main), see the constants below.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from ..model.status import condition, progress_text
from .diskinfo import download_speed
from .importers import Feed
from .uploader import Uploader

# Ready=False messages by step (the same on both lines unless said)
DVCR_CREATE = "DVCR Provisioner not found: create the new one."
DVCR_IMPORT = "Import is in the process of provisioning to DVCR."
PVC_IMPORT = "Import is in the process of provisioning to the PersistentVolumeClaim."
PVC_CREATED = "The PersistentVolumeClaim has been created; waiting for it to be Bound."
WFFC_NO_VM = "Awaiting the creation and scheduling of the VirtualMachine with the attached VirtualDisk."
WFFC_NOT_SCHEDULED = "Awaiting the scheduling of the VirtualMachine with the attached VirtualDisk."
UPLOAD_WAIT = {"dev": "Waiting for the image to be uploaded.", "v1.10": "Waiting for the user upload."}
UPLOAD_DEADLINE = ("The image was not uploaded within 10 minutes. "
                   "Recreate the VirtualDisk to upload the image again.")
PVC_POD_FAILED = "VirtualDisk importer Pod failed."


@dataclass
class DiskJob:
    key: tuple[str, str, str]
    uid: str
    generation: int
    # Ready=False (reason, message) of the current step; None once Ready
    ready: tuple[str, str] | None = ("", "")
    phase: str = "Pending"
    # DatasourceReady: (True|False, reason, message); None: not evaluated yet
    datasource: tuple[bool, str, str] | None = None
    progress: str | None = None
    span: tuple[float, float] | None = None   # while data flows: progress = feed fraction in this window
    speed: bool = False                       # show downloadSpeed (DVCR stage of HTTP/registry/upload)
    avg_bps: float = 0.0
    feed: Feed = field(default_factory=Feed)
    pvc: str = ""                             # status.target once the PVC exists
    source_uid: str | None = None
    upload_urls: dict[str, str] | None = None
    capacity: str | None = None
    terminal: bool = False                    # Failed: nothing more happens in this generation
    task: asyncio.Task | None = None
    uploader: Uploader | None = None

    def step(self, phase: str, reason: str, message: str, progress: str | None = None) -> None:
        self.phase, self.ready = phase, (reason, message)
        if progress is not None:
            self.progress = progress

    def fail(self, reason: str, message: str) -> None:
        self.phase, self.ready, self.span, self.terminal = "Failed", (reason, message), None, True

    def core(self, gen: int) -> dict[str, Any]:
        """Status fields of the current step (without StorageClassReady/InUse/observedGeneration)."""
        st: dict[str, Any] = {"phase": self.phase}
        conds: list[dict] = []
        if self.datasource is not None and self.ready is not None:
            ok, reason, msg = self.datasource
            conds.append(condition("DatasourceReady", ok, reason, msg, gen))
        if self.ready is None:
            conds.append(condition("Ready", True, "Ready", "", gen))
        else:
            conds.append(condition("Ready", False, self.ready[0], self.ready[1], gen))
        progress = self.progress
        if self.span is not None:
            lo, hi = self.span
            progress = progress_text(lo + (hi - lo) * self.feed.fraction)
            if self.speed:
                st["downloadSpeed"] = download_speed(self.feed.avg_bps, self.feed.current_bps)
        elif self.avg_bps and self.phase != "Pending":
            st["downloadSpeed"] = {k: v for k, v in download_speed(self.avg_bps, 0).items() if k.startswith("avg")}
        if self.phase == "Pending":
            progress = None              # normalizeProgress: no progress before provisioning starts
        elif self.phase == "WaitForUserUpload":
            progress = "0%"
        if progress:
            st["progress"] = progress
        if self.pvc:
            st["target"] = {"persistentVolumeClaimName": self.pvc}
        if self.source_uid:
            st["sourceUID"] = self.source_uid
        if self.upload_urls:
            st["imageUploadURLs"] = dict(self.upload_urls)
        if self.capacity:
            st["capacity"] = self.capacity
        st["conditions"] = conds
        return st
