# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""One flat dict per disk, for reports and templates (virtual_disk_info, virtual_disk)."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.summary import (
    common_summary, ready_summary,
)

# The InUse reason of a disk an image is being made from (the platform's wording, both lines).
IMAGE_CREATION_REASON = "UsedForImageCreation"


def attached_vms(disk: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """status.attachedToVirtualMachines: the VMs whose block devices name the disk (``mounted`` while running)."""
    return [dict(vm) for vm in ((disk.get("status") or {}).get("attachedToVirtualMachines") or []) if vm.get("name")]


def describe_vms(vms: List[Dict[str, Any]]) -> str:
    """``VirtualMachine "web" (mounted), VirtualMachine "db"``."""
    return ", ".join('VirtualMachine "%s"%s' % (vm["name"], " (mounted)" if vm.get("mounted") else "") for vm in vms)


def describe_source(spec: Mapping[str, Any]) -> Optional[str]:
    """``blank``, ``http <url>``, ``registry <image>``, ``upload`` or ``<Kind> <name>``."""
    source = spec.get("dataSource") or {}
    kind = source.get("type")
    if not kind:
        return "blank"
    if kind == "HTTP":
        return "http %s" % (source.get("http") or {}).get("url")
    if kind == "ContainerImage":
        return "registry %s" % (source.get("containerImage") or {}).get("image")
    if kind == "ObjectRef":
        ref = source.get("objectRef") or {}
        return "%s %s" % (ref.get("kind"), ref.get("name"))
    return kind.lower()


def summarize_disk(obj: Mapping[str, Any]) -> Dict[str, Any]:
    """Flatten the fields people ask about; missing ones are None."""
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    claim = spec.get("persistentVolumeClaim") or {}
    in_use = cond.condition(obj, "InUse") or {}
    summary = common_summary(obj)
    summary.update(
        size=claim.get("size"),
        capacity=status.get("capacity"),
        storage_class=status.get("storageClassName") or claim.get("storageClassName"),
        source=describe_source(spec),
        attached_to=[vm["name"] for vm in attached_vms(obj)],
        mounted_by=[vm["name"] for vm in attached_vms(obj) if vm.get("mounted")],
        image_being_made=in_use.get("status") == "True" and in_use.get("reason") == IMAGE_CREATION_REASON,
        pvc_name=(status.get("target") or {}).get("persistentVolumeClaimName"),
    )
    summary.update(ready_summary(obj))
    return summary
