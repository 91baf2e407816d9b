"""Validation ratcheting (CRDValidationRatcheting, on by default since Kubernetes 1.30).

On UPDATE an error is dropped when the value it is about did not change: an object stored
under older or looser rules can still be updated elsewhere (labels, status, other fields).
Lists are compared whole (no list-map correlation is needed for these kinds).
"""
from __future__ import annotations

import re
from typing import Any

from .errors import REQUIRED, FieldError

_MISSING = object()
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _lookup(root: Any, segments: list[str | int], other: Any) -> tuple[Any, Any]:
    """The values at ``segments`` in ``root`` and ``other``; lists correlate only when equal as a whole."""
    a, b = root, other
    for seg in segments:
        if isinstance(seg, int):
            if not (isinstance(a, list) and isinstance(b, list) and a == b and seg < len(a)):
                return _MISSING, _MISSING
            a, b = a[seg], b[seg]
        else:
            a = a.get(seg, _MISSING) if isinstance(a, dict) else _MISSING
            b = b.get(seg, _MISSING) if isinstance(b, dict) else _MISSING
        if a is _MISSING or b is _MISSING:
            return a, b
    return a, b


def _segments(path: str) -> list[str | int] | None:
    if not path or path.startswith("<"):
        return None
    return [int(m.group(2)) if m.group(2) is not None else m.group(1) for m in _SEGMENT.finditer(path)]


def unchanged(err: FieldError, new: dict, old: dict) -> bool:
    """True when the value the error is about is the same in the stored object."""
    segments = _segments(err.field)
    if segments is None:
        return False
    if err.type == REQUIRED:  # about the parent object: ratchet when the parent did not change
        segments = segments[:-1]
    a, b = _lookup(new, segments, old)
    return a is not _MISSING and b is not _MISSING and a == b


def ratchet(errs: list[FieldError], new: dict, old: dict | None) -> list[FieldError]:
    """Drop the errors about unchanged values (no-op without an old object)."""
    if old is None:
        return errs
    return [e for e in errs if not unchanged(e, new, old)]
