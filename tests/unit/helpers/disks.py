# -*- coding: utf-8 -*-
"""A provisioned VirtualDisk as the platform reports it and the spec a task wants for it: the disk rules, the
runner, the waits and capture by snapshot are each tested on the same disk."""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence


def live_disk(size: str = "10Gi", phase: str = "Ready", source: Optional[Dict[str, Any]] = None,
              attached: Sequence[str] = ()) -> Dict[str, Any]:
    """Disk ns/d in ``phase`` holding ``size``, made from ``source``, attached to the VMs ``attached``."""
    spec: Dict[str, Any] = {"persistentVolumeClaim": {"size": size}}
    if source:
        spec["dataSource"] = source
    return {"apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualDisk",
            "metadata": {"name": "d", "namespace": "ns", "generation": 1, "resourceVersion": "3", "uid": "u1"},
            "spec": spec,
            "status": {"phase": phase, "observedGeneration": 1, "capacity": size,
                       "attachedToVirtualMachines": [{"name": vm, "mounted": True} for vm in attached],
                       "conditions": [{"type": "Ready", "status": "True", "reason": "Ready", "observedGeneration": 1}]}}


def wanted_disk(size: str = "10Gi", source: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """What a task wants of disk ns/d: ``size``, made from ``source``."""
    return {"metadata": {"name": "d", "namespace": "ns"},
            "spec": dict({"persistentVolumeClaim": {"size": size}}, **({"dataSource": source} if source else {}))}
