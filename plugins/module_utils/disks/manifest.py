# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Typed disk and snapshot options -> the VirtualDisk and VirtualDiskSnapshot manifests.

A disk's ``source`` has the blocks of an image's, so its ``spec.dataSource`` (and its pull Secret) come from the
images' builders: one translation of every source block for all kinds.
"""

from __future__ import annotations

from typing import Any, Dict

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    API_VERSION, VIRTUAL_DISK, VIRTUAL_DISK_SNAPSHOT,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.manifest import (
    data_source, object_metadata,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.disk import DiskOptions, SnapshotOptions


def has_source(options: DiskOptions) -> bool:
    """A source block is given (else the disk is blank)."""
    return any(value is not None for value in (options.source or {}).values())


def build_disk_manifest(options: DiskOptions) -> Dict[str, Any]:
    """The VirtualDisk the options describe: only the fields the user controls."""
    spec: Dict[str, Any] = {}
    if has_source(options):
        spec["dataSource"] = data_source(options, VIRTUAL_DISK)
    claim = {key: value for key, value in (("size", options.size), ("storageClassName", options.storage_class))
             if value is not None}
    if claim:
        spec["persistentVolumeClaim"] = claim
    return {"apiVersion": API_VERSION, "kind": VIRTUAL_DISK.kind,
            "metadata": object_metadata(options, VIRTUAL_DISK), "spec": spec}


def build_snapshot_manifest(options: SnapshotOptions) -> Dict[str, Any]:
    """The VirtualDiskSnapshot of ``options.disk``; ``requiredConsistency`` always set (the server default is true,
    so a re-run compares like with like)."""
    return {"apiVersion": API_VERSION, "kind": VIRTUAL_DISK_SNAPSHOT.kind,
            "metadata": object_metadata(options, VIRTUAL_DISK_SNAPSHOT),
            "spec": {"virtualDiskName": options.disk, "requiredConsistency": options.required_consistency}}
