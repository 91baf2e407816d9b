"""The in-memory state of one image's import, and the status it implies.

A job belongs to one (uid, generation). The reconciler turns `job.core()` into the
object's status (adding InUse and observedGeneration); the job itself never talks to
the API. This is the one place that knows which phase/condition/message goes with
which stage.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from ..model.status import condition, progress_text
from .diskinfo import DiskInfo, download_speed
from .importers import Feed
from .uploader import Uploader

READY_MSG_PREPARING = "Preparing to import the image."
READY_MSG_IMPORTING = "The image is being imported."
UPLOAD_WAIT_MSG = "Waiting for the image to be uploaded."
UPLOAD_DEADLINE_MSG = ("The image was not uploaded within 10 minutes. "
                       "Recreate the VirtualImage to upload the image again.")


@dataclass
class ImageJob:
    key: tuple[str, str, str]
    uid: str
    generation: int
    kind: str
    # pending|blocked|sc-blocked|held|preparing|uploader|waiting-upload|importing|ready|failed
    stage: str = "pending"
    block: tuple[str, str] = ("", "")
    storage_class: str | None = None
    pvc: bool = False
    pod: str = ""
    # how the Pod's report is introduced: v1.10.2's stat service says "termination message", main's "reported"
    pod_says: str = "reported"
    feed: Feed = field(default_factory=Feed)
    span: tuple[float, float] = (0.0, 1.0)   # the progress window the current stage maps into
    jumpy: bool = False                      # copies go 0% -> 100% with nothing between
    target: dict[str, str] = field(default_factory=dict)
    source_uid: str | None = None
    source_ref: tuple[str, str, str] | None = None   # (kind, ns, name) read by this import
    upload_urls: dict[str, str] | None = None
    upload_token: str | None = None
    info: DiskInfo | None = None
    avg_bps: float = 0.0
    failure: tuple[str, str] = ("", "")
    hold: tuple[str, str] = ("", "")         # stage "held": Ready reason and message while a fault holds it
    task: asyncio.Task | None = None
    uploader: Uploader | None = None

    def fraction(self) -> float:
        if self.jumpy:
            return 0.0
        lo, hi = self.span
        return lo + (hi - lo) * self.feed.fraction

    def fail(self, reason: str, error: str, plain: bool = False) -> None:
        """Failed with the platform's wording; plain=True when the message is not a pod report."""
        self.stage = "failed"
        msg = error if plain else f"Provisioning failed: Pod {self.pod} {self.pod_says}: {error}."
        self.failure = (reason, msg)

    def core(self, gen: int) -> dict[str, Any]:
        """Status fields for the current stage (without InUse/observedGeneration)."""
        st: dict[str, Any] = {}
        conds: list[dict] = []
        ds_ok = condition("DatasourceReady", True, "DatasourceReady", "", gen)
        sc_ok = condition("StorageClassReady", True, "StorageClassReady", "", gen) if self.pvc else None
        if self.storage_class:
            st["storageClassName"] = self.storage_class
        s = self.stage
        if s == "pending":
            st["phase"] = "Pending"
        elif s == "blocked":
            st["phase"] = "Pending"
            conds += [condition("DatasourceReady", False, self.block[0], self.block[1], gen),
                      condition("Ready", False, "DatasourceNotReady", "Datasource is not ready.", gen)]
        elif s == "sc-blocked":
            st["phase"] = "Pending"
            conds += [ds_ok, condition("Ready", False, "StorageClassNotReady", "Storage class is not ready.", gen),
                      condition("StorageClassReady", False, self.block[0], self.block[1], gen)]
            sc_ok = None
        elif s == "held":   # the importer cannot start (quota, unschedulable): Failed but not final
            st["phase"] = "Failed"
            conds += [ds_ok, condition("Ready", False, self.hold[0], self.hold[1], gen)]
        elif s == "preparing":
            st.update(phase="Provisioning", progress="0%")
            conds += [ds_ok, condition("Ready", False, "Provisioning", READY_MSG_PREPARING, gen)]
        elif s == "uploader":
            st["phase"] = "Provisioning"
            msg = f'Waiting for the uploader "{self.pod.split("/")[-1]}" to be ready to process the user\'s upload.'
            conds += [ds_ok, condition("Ready", False, "Provisioning", msg, gen)]
        elif s == "waiting-upload":
            st.update(phase="WaitForUserUpload", progress="0%")
            conds += [ds_ok, condition("Ready", False, "WaitForUserUpload", UPLOAD_WAIT_MSG, gen)]
        elif s == "importing":
            st.update(phase="Provisioning", progress=progress_text(self.fraction()))
            conds += [ds_ok, condition("Ready", False, "Provisioning", READY_MSG_IMPORTING, gen)]
            if not self.jumpy:
                st["downloadSpeed"] = download_speed(self.feed.avg_bps, self.feed.current_bps)
        elif s == "ready":
            st.update(phase="Ready", progress="100%")
            conds += [ds_ok, condition("Ready", True, "Ready", "", gen)]
            st["downloadSpeed"] = {k: v for k, v in download_speed(self.avg_bps, 0).items() if k.startswith("avg")}
            if self.info:
                st.update(size=self.info.size_status(), format=self.info.format, cdrom=self.info.cdrom)
        elif s == "failed":
            st["phase"] = "Failed"
            conds += [ds_ok, condition("Ready", False, self.failure[0], self.failure[1], gen)]
        if sc_ok and s not in ("pending", "blocked"):
            conds.append(sc_ok)
        if self.target and s in ("importing", "ready", "failed"):
            st["target"] = dict(self.target)
        if self.source_uid and s in ("importing", "ready"):
            st["sourceUID"] = self.source_uid
        if self.upload_urls and s in ("waiting-upload", "importing", "ready"):
            st["imageUploadURLs"] = dict(self.upload_urls)
        st["conditions"] = conds
        return st


class ImageJobs(dict[str, ImageJob]):
    """The imports in flight by object uid (owned by the image reconcilers; the disk and VM
    reconcilers ask whether one of them is reading their object)."""

    def importing_from(self, kind: str, ns: str, name: str) -> bool:
        """True while a VI/CVI import reads from this object (VD InUse: UsedForImageCreation)."""
        for job in self.values():
            if job.stage in ("preparing", "importing") and job.source_ref == (kind, ns, name):
                return True
        return False
