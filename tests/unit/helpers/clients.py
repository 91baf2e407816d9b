# -*- coding: utf-8 -*-
"""A client over a fixed set of objects that records what it is asked to write: runners are tested for what they
send (and for sending nothing) without an API server."""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional, Tuple


class ObjectsClient:
    """Objects by (plural, name), the last two segments of their path; records every write and list.
    A created object comes back with an empty status, as the API server returns it."""

    def __init__(self, objects: Dict[Tuple[str, str], Dict[str, Any]], check_mode: bool = False) -> None:
        self.objects = objects
        self.check_mode = check_mode
        self.writes: List[Tuple[str, str]] = []
        self.lists: List[str] = []

    def get(self, path: str) -> Optional[Dict[str, Any]]:
        plural, name = path.rstrip("/").split("/")[-2:]
        return copy.deepcopy(self.objects.get((plural, name)))

    def list(self, path: str, **_kw: Any) -> Dict[str, Any]:
        self.lists.append(path)
        plural = path.rstrip("/").split("/")[-1]
        return {"items": [copy.deepcopy(o) for (p, _n), o in self.objects.items() if p == plural]}

    def create(self, path: str, body: Dict[str, Any], dry_run: bool = False) -> Dict[str, Any]:
        self.writes.append(("POST", path))
        return dict(body, status={})

    def patch(self, path: str, body: Dict[str, Any]) -> Dict[str, Any]:
        self.writes.append(("PATCH", path))
        return body

    def delete(self, path: str) -> Dict[str, Any]:
        self.writes.append(("DELETE", path))
        return {}
