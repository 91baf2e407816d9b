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


MAX_MESSAGE = 256              # main's bound on the condition messages it builds (service/cleanup.go)
TRUNCATED = " (truncated)."


def in_use_message(what: str, vms: list[str]) -> str:
    """main's InUse message for a resource (`VirtualImage`, ...) held by VMs (sorted names; a CVI's as
    "<ns>/<name>"): one VM named with how to release it, several counted and listed last."""
    if not vms:
        return f"The {what} is in use by a VirtualMachine."
    if len(vms) == 1:
        return bounded(f'The {what} is in use by the VirtualMachine "{vms[0]}"; detach it or stop the '
                       f"VirtualMachine to release the {what}.")
    names = ", ".join(f'"{n}"' for n in vms)
    return bounded(f"The {what} is in use by {len(vms)} VirtualMachines; detach it or stop them to release "
                   f"the {what}. In use by: {names}.")


def bounded(text: str) -> str:
    """At most MAX_MESSAGE characters: the tail past the bound is dropped whole (the last clause or list item,
    else the last word, never half a quoted name) and replaced by " (truncated).", as main does."""
    if len(text) <= MAX_MESSAGE:
        return text
    head = text[:MAX_MESSAGE - len(TRUNCATED)]
    kept = head
    cut = max(kept.rfind("; "), kept.rfind(", "))
    if cut < 0:
        cut = kept.rfind(" ")
    if cut > 0:
        kept = kept[:cut]
    if kept.count('"') % 2:
        kept = kept[:kept.rfind('"')]
    kept = kept.rstrip(" ,;") or head
    return kept + TRUNCATED
