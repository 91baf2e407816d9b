"""Status plumbing shared by every reconciler: conditions, progress text, status patches."""
from __future__ import annotations

import datetime as dt
from typing import Any


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(type_: str, status: bool | str, reason: str, message: str, generation: int) -> dict[str, Any]:
    st = status if isinstance(status, str) else ("True" if status else "False")
    return {"type": type_, "status": st, "reason": reason, "message": message, "observedGeneration": generation}


def merge_conditions(old: list[dict] | None, new: list[dict]) -> list[dict]:
    """New conditions, keeping lastTransitionTime when status did not change."""
    prev = {c.get("type"): c for c in (old or [])}
    out = []
    for cond in new:
        before = prev.get(cond["type"])
        ltt = before.get("lastTransitionTime") if before and before.get("status") == cond["status"] else None
        out.append({**cond, "lastTransitionTime": ltt or now()})
    return out


def progress_text(fraction: float) -> str:
    """One decimal, clamped to 99.9% (100% is only ever written at Ready)."""
    pct = int(max(0.0, min(99.9, fraction * 100)) * 10) / 10
    return "0%" if pct == 0 else f"{pct:.1f}%"


def progress_value(text: str | None) -> float:
    if not text:
        return -1.0
    try:
        return float(text.rstrip("%"))
    except ValueError:
        return -1.0


def status_patch(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any] | None:
    """A merge patch turning old status into new (None when equal, ignoring transition times)."""
    def strip(s: dict[str, Any]) -> dict[str, Any]:
        s = dict(s)
        if "conditions" in s:
            s["conditions"] = [{k: v for k, v in c.items() if k != "lastTransitionTime"} for c in s["conditions"]]
        return s

    if strip(old) == strip(new):
        return None
    return _merge_patch(old, new)


def _merge_patch(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """RFC 7386: nulls for removed keys, recursing into objects present on both sides."""
    patch: dict[str, Any] = {k: None for k in old if k not in new}
    for k, v in new.items():
        if isinstance(v, dict) and isinstance(old.get(k), dict):
            patch[k] = _merge_patch(old[k], v)
        else:
            patch[k] = v
    return patch
