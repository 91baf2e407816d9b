# -*- coding: utf-8 -*-
"""A VirtualMachine as the platform reports it: capture and the power rules are tested on the same VMs."""

from __future__ import annotations

from typing import Any, Dict


def vm(name: str, phase: str, policy: str = "Manual", disk: str = "root") -> Dict[str, Any]:
    """VM ``name`` in ``phase`` with run policy ``policy``, its block devices the VirtualDisk ``disk``."""
    return {"metadata": {"name": name, "uid": name}, "spec": {"runPolicy": policy},
            "status": {"phase": phase, "blockDeviceRefs": [{"kind": "VirtualDisk", "name": disk}]}}
