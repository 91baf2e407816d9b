# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Reading an object's status: phase, current conditions, a one-line description."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional


def phase(obj: Optional[Mapping[str, Any]]) -> Optional[str]:
    """status.phase, None when absent."""
    return ((obj or {}).get("status") or {}).get("phase")


def progress(obj: Optional[Mapping[str, Any]]) -> Optional[str]:
    """status.progress, None when absent."""
    return ((obj or {}).get("status") or {}).get("progress")


def conditions(obj: Optional[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """status.conditions, [] when absent (failure results carry them)."""
    return list(((obj or {}).get("status") or {}).get("conditions") or [])


def generation(obj: Mapping[str, Any]) -> Any:
    """metadata.generation."""
    return (obj.get("metadata") or {}).get("generation")


def condition(obj: Optional[Mapping[str, Any]], ctype: str) -> Optional[Dict[str, Any]]:
    """The condition of that type, current or not."""
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return cond
    return None


def status_current(obj: Mapping[str, Any]) -> bool:
    """The controller has reconciled the object's current generation."""
    return ((obj.get("status") or {}).get("observedGeneration")) == generation(obj)


def current_condition(obj: Optional[Mapping[str, Any]], ctype: str) -> Optional[Dict[str, Any]]:
    """The condition only when it was set for the object's current generation."""
    cond = condition(obj, ctype)
    if cond is None or obj is None:
        return None
    observed = cond.get("observedGeneration")
    if observed is None:
        return cond if status_current(obj) else None
    return cond if observed == generation(obj) else None


def describe_condition(cond: Optional[Mapping[str, Any]]) -> str:
    """``Ready False/Provisioning: The image is being imported.``"""
    if not cond:
        return "none"
    text = "%s %s/%s" % (cond.get("type"), cond.get("status"), cond.get("reason") or "")
    if cond.get("message"):
        text += ": " + cond["message"]
    return text
