# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The typed requests the disk and snapshot runners take: options checked, manifests built, once, before any
request is sent (at the glue layer from module parameters, or by capture from its own options)."""

from __future__ import annotations

from typing import Any, Dict, NamedTuple, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    VIRTUAL_DISK, VIRTUAL_DISK_SNAPSHOT, Kind,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.manifest import (
    build_disk_manifest, build_snapshot_manifest,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.manifest import build_pull_secret
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.disk import (
    DEFAULT_WAIT_FOR, DiskOptions, SnapshotOptions,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.upload import UploadOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.validation import (
    validate_disk, validate_snapshot,
)


class DiskRequest(NamedTuple):
    """Ensure one disk present (``manifest`` set) or absent (``manifest`` None)."""

    name: str
    namespace: str
    manifest: Optional[Dict[str, Any]]
    pull_secret: Optional[Dict[str, Any]] = None
    upload: Optional[UploadOptions] = None
    recreate: bool = False
    force: bool = False
    wait: bool = True
    wait_for: str = DEFAULT_WAIT_FOR
    wait_timeout: float = 1800.0
    kind: Kind = VIRTUAL_DISK
    how_to_recreate: str = "recreate: true"
    option_style: str = "module"

    @property
    def ref(self) -> str:
        """``VirtualDisk ns/name``, as messages name it."""
        return self.kind.ref(self.name, self.namespace)


def disk_request(options: DiskOptions) -> DiskRequest:
    """Check every option (``source.upload``'s transfer options included), then build what the runner writes."""
    validate_disk(options)
    upload = None
    block = (options.source or {}).get("upload") if options.present else None
    if block is not None:
        upload = UploadOptions.from_source_upload(block, options.recreate, options.wait, options.wait_timeout)
    return DiskRequest(
        name=str(options.name), namespace=str(options.namespace),
        manifest=build_disk_manifest(options) if options.present else None,
        pull_secret=build_pull_secret(options, VIRTUAL_DISK) if options.present else None,
        upload=upload, recreate=options.recreate, force=options.force, wait=options.wait, wait_for=options.wait_for,
        wait_timeout=float(options.wait_timeout or 0))


class SnapshotRequest(NamedTuple):
    """Ensure one VirtualDiskSnapshot present (``manifest`` set) or absent."""

    name: str
    namespace: str
    manifest: Optional[Dict[str, Any]]
    wait: bool = True
    wait_timeout: float = 1800.0
    kind: Kind = VIRTUAL_DISK_SNAPSHOT
    recreate: bool = False   # the platform never changes a snapshot: a different one is refused, never recreated
    how_to_recreate: str = ""
    # A Failed snapshot is terminal (the platform never retries it): delete it and take it anew, rather than fail.
    retake_failed: bool = False

    @property
    def ref(self) -> str:
        """``VirtualDiskSnapshot ns/name``."""
        return self.kind.ref(self.name, self.namespace)


def snapshot_request(options: SnapshotOptions) -> SnapshotRequest:
    """Check the options, then build the snapshot to write."""
    validate_snapshot(options)
    return SnapshotRequest(name=options.name, namespace=options.namespace,
                           manifest=build_snapshot_manifest(options) if options.present else None,
                           wait=options.wait, wait_timeout=float(options.wait_timeout or 0),
                           retake_failed=options.recreate)
