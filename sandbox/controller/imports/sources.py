"""Is an image's data source readable yet, and how to read it.

`resolve` returns either a blocked (reason, message) pair, exactly as DatasourceReady
reports it, or a fetcher `(workdir, feed) -> Fetched` run in a worker thread.
"""
from __future__ import annotations

import base64
from functools import partial
from typing import Callable

from ... import dvcr
from ...platform import V1_10
from ..model.kinds import CVI, SECRET, VD, VDSNAP, VI, Kind
from ..model.names import dvcr_repo
from ..runtime.context import Context
from . import importers
from .imagejob import ImageJob

Blocked = tuple[str, str]
Fetcher = Callable[..., importers.Fetched]


class Sources:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def resolve(self, kind: Kind, obj: dict, job: ImageJob) -> tuple[Blocked | None, Fetcher | None]:
        spec = obj.get("spec") or {}
        ds = spec.get("dataSource") or {}
        ns = obj["metadata"].get("namespace")
        settings = self.ctx.settings.for_object(obj)
        typ = ds.get("type")
        if typ == "HTTP":
            http = ds.get("http") or {}
            return None, partial(_http, http.get("url", ""), http.get("caBundle"), http.get("checksum"),
                                 settings.retry_window, settings.platform == V1_10)
        if typ == "ContainerImage":
            return self._container_image(kind, ds.get("containerImage") or {}, ns)
        if typ == "ObjectRef":
            ref = ds.get("objectRef") or {}
            ref_ns = ns if kind is VI else ref.get("namespace")
            return self._object_ref(ref.get("kind", ""), ref_ns, ref.get("name", ""), job)
        return None, None  # Upload: the uploader is the source

    # -- ContainerImage -------------------------------------------------------------------------
    def _container_image(self, kind: Kind, ci: dict, ns: str | None):
        auth = None
        secret_ref = ci.get("imagePullSecret") or {}
        if secret_ref.get("name"):
            secret_ns = ns if kind.namespaced else secret_ref.get("namespace")  # VI, VD: their own
            secret = self.ctx.cache.get(SECRET, secret_ns, secret_ref["name"])
            if secret is None:
                return ("ContainerRegistrySecretNotFound", "Container registry secret not found."), None
            raw = (secret.get("data") or {}).get(".dockerconfigjson")
            if raw:
                try:
                    host = dvcr.ImageRef.parse(ci.get("image", "")).host
                    auth = dvcr.dockerconfig_auth(base64.b64decode(raw), host)
                except (ValueError, dvcr.RegistryError):
                    auth = None
        return None, partial(_registry, ci.get("image", ""), ci.get("caBundle"), auth)

    # -- ObjectRef ------------------------------------------------------------------------------
    def _object_ref(self, ref_kind: str, ns: str | None, name: str, job: ImageJob):
        cache, files = self.ctx.cache, self.ctx.files
        if ref_kind in ("VirtualImage", "ClusterVirtualImage"):
            src_kind = VI if ref_kind == "VirtualImage" else CVI
            src = cache.get(src_kind, ns if src_kind is VI else None, name)
            if src is None or (src.get("status") or {}).get("phase") != "Ready" or src["metadata"].get(
                    "deletionTimestamp"):
                if src_kind is VI:
                    return ("ImageNotReady", f"VirtualImage {name} not ready."), None
                return ("ClusterImageNotReady", f"ClusterVirtualImage {name} not ready."), None
            job.source_uid = src["metadata"]["uid"]
            job.source_ref = (ref_kind, ns or "", name)
            job.jumpy = True
            target = (src.get("status") or {}).get("target") or {}
            if target.get("persistentVolumeClaimName"):
                path = files.volume(ns or "", target["persistentVolumeClaimName"])
                return None, partial(importers.fetch_file, path, "disk.img")
            repo = dvcr_repo(src_kind, ns, name)
            return None, partial(importers.fetch_dvcr, self.ctx.dvcr, repo, src["metadata"]["uid"])
        if ref_kind == "VirtualDisk":
            vd = cache.get(VD, ns, name)
            if vd is None or (vd.get("status") or {}).get("phase") != "Ready":
                return ("VirtualDiskNotReady", f"VirtualDisk {name} not ready."), None
            # vi/cvi ObjectRefVirtualDisk.Validate: the disk's own InUse condition (current) must say the
            # image creation holds it; a VM holding it blocks the image until the VM stops
            in_use = next((c for c in vd["status"].get("conditions") or [] if c["type"] == "InUse"), {})
            if in_use.get("status") == "True" and in_use.get("reason") == "AttachedToVirtualMachine":
                return ("VirtualDiskAttachedToVirtualMachine",
                        f"The VirtualDisk {name} attached to VirtualMachine."), None
            if not (in_use.get("status") == "True" and in_use.get("reason") == "UsedForImageCreation"
                    and in_use.get("observedGeneration") == vd["metadata"].get("generation", 1)):
                return ("VirtualDiskNotReadyForUse", f"The VirtualDisk {name} not ready for use."), None
            job.source_uid = vd["metadata"]["uid"]
            job.source_ref = (ref_kind, ns or "", name)
            path = files.disk(vd)
            return None, partial(importers.fetch_file, path, "disk.img")
        if ref_kind == "VirtualDiskSnapshot":
            snap = cache.get(VDSNAP, ns, name)
            if snap is None or (snap.get("status") or {}).get("phase") != "Ready":
                return ("VirtualDiskSnapshotNotReady", f"VirtualDiskSnapshot {name} not ready."), None
            job.source_uid = snap["metadata"]["uid"]
            job.source_ref = (ref_kind, ns or "", name)
            return None, partial(importers.fetch_file, files.snapshot(snap), "disk.img")
        return (f"{ref_kind}NotReady", f"{ref_kind} {name} not ready."), None


def _http(url: str, ca: str | None, checksum: dict | None, retry_window: float, v110: bool, workdir, feed):
    return importers.fetch_http(url, ca, checksum, workdir, feed, retry_window, v110)


def _registry(image: str, ca: str | None, auth, workdir, feed):
    return importers.fetch_registry(image, ca, auth, workdir, feed)
