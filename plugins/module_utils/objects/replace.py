# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Carrying out RECREATE and ``state: absent``: the platform never changes a provisioned image, so replacing one is
delete, wait until the name is free, create anew. One implementation for the image, disk and snapshot modules, the
catalog and uploads."""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.waiter import Waiter
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.views import view


def recreate(client: Client, waiter: Waiter, path: str, live: Mapping[str, Any], timeout: float,
             tracker: Tracker, create: Callable[[], Any], why: str) -> Any:
    """Delete, wait until the name is free (whatever ``wait`` says), then ``create()``.

    Check mode stops after the dry-run delete and returns ``live``: nothing was deleted to wait for.
    """
    tracker.note("recreating the image: %s" % why)
    client.delete(path)
    if client.check_mode:
        return live
    waiter.wait("absent", timeout, live)
    return create()


def delete(client: Client, waiter: Waiter, path: str, live: Mapping[str, Any], wait: bool, timeout: float,
           goal: Any = "absent") -> Tuple[bool, Optional[Mapping[str, Any]], Dict[str, Any]]:
    """Delete ``live`` unless it is being deleted already, then wait for ``goal`` when asked (not in check mode):
    (changed, the object at the end or None, the diff)."""
    changed = False
    diff: Dict[str, Any] = {"before": view(live), "after": view(live)}
    if not (live.get("metadata") or {}).get("deletionTimestamp"):
        client.delete(path)
        changed = True
        diff["after"] = {}
    obj: Optional[Mapping[str, Any]] = live
    if wait and not client.check_mode:
        obj = waiter.wait(goal, timeout)
    return changed, obj, diff
