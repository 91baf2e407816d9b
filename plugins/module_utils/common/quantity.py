# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Kubernetes quantities (``10Gi``, ``512M``, ``1e9``): parsed once, so sizes are compared by value.

A disk's ``spec.persistentVolumeClaim.size`` is stored as the user wrote it, and ``status.capacity`` as the
storage reports it: ``10Gi`` and ``10240Mi`` are the same size, and only a comparison by value can tell a grow
from a shrink or from nothing at all.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

# The API server's pattern for a quantity (the CRD's x-kubernetes-int-or-string size field).
_QUANTITY_RE = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$")
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def parse_quantity(value: Any) -> Decimal:
    """The value of a quantity in base units; ValueError for anything the API server would not accept."""
    if isinstance(value, bool) or value is None:
        raise ValueError("not a quantity: %r" % (value,))
    match = _QUANTITY_RE.match(str(value).strip())
    if not match:
        raise ValueError("not a quantity: %r" % (value,))
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise ValueError("not a quantity: %r" % (value,))
    suffix = match.group(2) or ""
    if suffix in _BINARY:
        return number * (1024 ** _BINARY[suffix])
    if suffix in _DECIMAL:
        return number.scaleb(_DECIMAL[suffix])
    if suffix:
        return number.scaleb(int(suffix[1:]))
    return number


def quantity_or_none(value: Any) -> Optional[Decimal]:
    """parse_quantity, or None for a missing or unreadable value (a status field the platform may not set)."""
    try:
        return parse_quantity(value)
    except ValueError:
        return None
