# -*- coding: utf-8 -*-
"""One catalog's parameters and the wanted objects they make: the entries, the plan and the report are each tested
from the same catalog input, built here once."""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.entries import (
    Wanted, parse_catalog, wanted_objects,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import VIRTUAL_IMAGE, Kind


def params(images: List[Dict[str, Any]], **kw: Any) -> Dict[str, Any]:
    """The module parameters of catalog ``base`` over namespaces a and b with ``images``; ``kw`` overrides."""
    base = {"catalog": "base", "namespaces": ["a", "b"], "images": images, "definitions": [], "fanout": "none",
            "wait_timeout": 10, "images_option": "image_catalog_images"}
    base.update(kw)
    return base


def wanted(images: List[Dict[str, Any]], namespaces: Sequence[str] = ("a", "b"), fanout: str = "none",
           kind: Kind = VIRTUAL_IMAGE) -> List[Wanted]:
    """The objects catalog ``base`` wants for ``images`` in ``namespaces`` (none for a cluster-wide kind)."""
    entries = parse_catalog(params(images, namespaces=list(namespaces) if kind.namespaced else None,
                                   fanout=fanout), kind)
    return wanted_objects(entries, kind, list(namespaces) if kind.namespaced else [None], "base", fanout)
