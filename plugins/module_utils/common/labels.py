# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The labels and annotations the collection puts on images, in one place: catalogs write them, info reads them."""

from __future__ import annotations

from typing import Any, Mapping, Optional

CATALOG_LABEL = "virtualization.deckhouse.io/ansible-catalog"
FANOUT_LABEL = "virtualization.deckhouse.io/ansible-catalog-fanout"
# A track (a catalog entry with ``keep``): every version carries the track's name and its version; the newest Ready
# one also carries NEWEST_LABEL=NEWEST_VALUE; SEQUENCE_ANNOTATION orders versions by when the catalog created them.
TRACK_LABEL = "virtualization.deckhouse.io/ansible-catalog-track"
VERSION_LABEL = "virtualization.deckhouse.io/ansible-catalog-version"
NEWEST_LABEL = "virtualization.deckhouse.io/ansible-catalog-newest"
NEWEST_VALUE = "true"
SEQUENCE_ANNOTATION = "virtualization.deckhouse.io/ansible-catalog-sequence"


def track_sequence(obj: Optional[Mapping[str, Any]]) -> int:
    """A track version's place in its track (-1 when unknown, for example made before tracks numbered them)."""
    raw = (((obj or {}).get("metadata") or {}).get("annotations") or {}).get(SEQUENCE_ANNOTATION)
    try:
        return int(raw)
    except (TypeError, ValueError):
        return -1


def is_newest(labels: Optional[Mapping[str, Any]]) -> bool:
    """The labels mark the newest version of a track."""
    return (labels or {}).get(NEWEST_LABEL) == NEWEST_VALUE
