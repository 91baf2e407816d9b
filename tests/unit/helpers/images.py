# -*- coding: utf-8 -*-
"""A Ready VirtualImage as the platform reports it: the summary and the image lists are tested on the same object."""

from __future__ import annotations

from typing import Any, Dict

READY_IMAGE: Dict[str, Any] = {
    "kind": "VirtualImage", "metadata": {"name": "b", "namespace": "ns"},
    "status": {"phase": "Ready", "progress": "100%", "format": "qcow2", "cdrom": False,
               "size": {"stored": "285.3Mi", "unpacked": "2Gi"}, "target": {"registryURL": "dvcr/vi/ns/b:u"},
               "conditions": [{"type": "Ready", "status": "True", "reason": "Ready", "message": ""}]}}
