"""Admission for virtualization.deckhouse.io/v1alpha2 kinds (pure library, no I/O).

The API server calls :func:`admit` for every write; the result is the object to
store (defaulted and pruned) plus warnings, or an :class:`AdmissionError` whose
``status`` is the complete ``kind: Status`` body the real apiserver would send.
"""
from __future__ import annotations

from ...platform import LINES
from .cel import compile_all
from .pipeline import admit, check_apply
from .schemas import KINDS, compiled, schema_for
from .types import AdmissionError, AdmissionRequest, AdmissionResult

__all__ = ["KINDS", "AdmissionError", "AdmissionRequest", "AdmissionResult", "admit", "check_apply", "schema_for",
           "warm_up"]


def warm_up() -> None:
    """Build every schema and compile every CEL rule now, so the first write is not slow (~0.5 s)."""
    for line in LINES:
        for kind in KINDS:
            compile_all(compiled(kind, line))
