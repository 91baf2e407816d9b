"""Calls helper "admission"'s library for writes to the virtualization kinds.

Guarded so the server still runs (pass-through) while that library is missing or broken at import.
"""
from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING, Any, Callable

from . import errors

if TYPE_CHECKING:
    from .ops import WriteContext
    from .resources import ResourceType

log = logging.getLogger(__name__)

try:
    from .admission import AdmissionError, AdmissionRequest
    from .admission import admit as _admit
except Exception as exc:  # pragma: no cover - only while the library is absent
    log.warning("admission library unavailable, passing writes through: %s", exc)
    _admit = None


def warm_up() -> None:
    """Compile admission's rules before the first request (keeps the first write fast)."""
    try:
        from .admission import warm_up as _warm
    except Exception:
        return
    _warm()


def admit(r: "ResourceType", operation: str, obj: dict[str, Any] | None,
          old: dict[str, Any] | None, subresource: str | None, ctx: "WriteContext",
          lookup: Callable[[str, str, str], dict[str, Any] | None] | None = None) -> dict[str, Any]:
    """The admitted object (defaulted, pruned); warnings go to ctx; rejections raise ApiError."""
    if _admit is None:
        return copy.deepcopy(obj) if obj is not None else {}
    req = AdmissionRequest(operation=operation, kind=r.kind, group=r.group, version=r.version,
                           obj=copy.deepcopy(obj) if obj is not None else None,
                           old_obj=copy.deepcopy(old) if old is not None else None,
                           subresource=subresource, field_validation=ctx.field_validation,
                           dry_run=ctx.dry_run, user=ctx.user, lookup=lookup)
    try:
        result = _admit(req)
    except AdmissionError as exc:
        raise errors.ApiError(exc.status, warnings=list(getattr(exc, "warnings", []) or [])) from None
    ctx.warnings.extend(result.warnings)
    return result.obj
