"""Calls the admission library for writes to the virtualization kinds.

Nothing here hides a failure: the library is imported plainly (a broken library stops the server
at start), a rejection answers with the library's own Status, and any other exception raised
while admitting answers 500 InternalError, so a bug in admission can never let a write through
unchecked.
"""
from __future__ import annotations

import copy
import logging
from typing import Any, Callable, Protocol

from . import errors
from .admission import AdmissionError, AdmissionRequest
from .admission import admit as _admit
from .admission import check_apply as _check_apply
from .admission import warm_up as _warm_up
from .resources import ResourceType

log = logging.getLogger(__name__)


class AdmissionContext(Protocol):
    """What admission reads from a write's context (ops.WriteContext has it) and adds warnings to."""
    user: str
    dry_run: bool
    field_validation: str
    warnings: list[str]
    platform: str
    write: str
    decode_errors: list[str]


def warm_up() -> None:
    """Compile admission's rules before the first request (keeps the first write fast)."""
    _warm_up()


def admit(r: ResourceType, operation: str, obj: dict[str, Any] | None,
          old: dict[str, Any] | None, subresource: str | None, ctx: AdmissionContext,
          lookup: Callable[[str, str, str], dict[str, Any] | None] | None = None,
          lister: Callable[[str, str], list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """The admitted object (defaulted, pruned); warnings go to ctx; rejections and admission's own
    failures raise ApiError (the latter as 500 InternalError)."""
    req = AdmissionRequest(operation=operation, kind=r.kind, group=r.group, version=r.version,
                           obj=copy.deepcopy(obj) if obj is not None else None,
                           old_obj=copy.deepcopy(old) if old is not None else None,
                           subresource=subresource, field_validation=ctx.field_validation,
                           dry_run=ctx.dry_run, user=ctx.user, lookup=lookup, lister=lister,
                           platform=ctx.platform,
                           write=ctx.write, decode_errors=list(ctx.decode_errors))
    try:
        result = _admit(req)
    except AdmissionError as exc:
        raise errors.ApiError(exc.status, warnings=list(getattr(exc, "warnings", []) or [])) from None
    except Exception as exc:
        log.exception("admission failed for %s %s", operation, r.kind)
        raise errors.internal(f"admission of {r.kind} failed: {type(exc).__name__}: {exc}") from exc
    ctx.warnings.extend(result.warnings)
    return result.obj


def check_apply(r: ResourceType, config: dict[str, Any], ctx: AdmissionContext) -> None:
    """Server-side apply of a custom kind: a field its schema lacks fails before anything else."""
    if not r.custom:
        return
    try:
        _check_apply(r.kind, ctx.platform, config)
    except AdmissionError as exc:
        raise errors.ApiError(exc.status) from None
