# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Applies a whole catalog in one module run.

Why one run: Ansible costs ~0.4 s per task item and importing the kubernetes
client ~0.5 s per module process, so a catalog of N images done as N tasks is
minutes of overhead. Here each namespace is listed once, the plan is computed
from those lists before any write, and the writes and waits of every image run
side by side in threads (one ``Waiter`` each, the image modules' waiter), so N
imports take about as long as the slowest one.

This file is the run's order; what it reads is reading.py, each object's action
actions.py, the tracks rotation.py.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Mapping

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.actions import WRITES, ActionRunner
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.entries import Wanted, wanted_objects
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.options import CatalogOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.parallel import side_by_side
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.plan import DELETE, HELD, Action, plan
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.reading import (
    LiveState, ensure_namespaces, read_live,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.report import table, track_table
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.rotation import TrackRotation
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.tracks import track_diff
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import TaskError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    CLUSTER_VIRTUAL_IMAGE, VIRTUAL_IMAGE, Kind,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.usage import UsageIndex
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.decision import CREATE, PATCH, RECREATE
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.views import patched_view, view


class CatalogFailed(TaskError):
    """Some images failed; the others finished and are in ``details``."""


class CatalogRun:
    """One run of image_catalog_apply: list, plan, write, wait, rotate the tracks, report."""

    def __init__(self, client: Client, options: CatalogOptions) -> None:
        self.client = client
        self.options = options
        self.started = time.monotonic()
        self.deadline = self.started + options.wait_timeout
        # Many threads share the client's connection pool; its "pool is full" notices are noise.
        logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)

    def _remaining(self) -> float:
        """Seconds left of the run's wait_timeout, shared by every wait of the run."""
        return max(0.0, self.deadline - time.monotonic())

    def _read(self, wanted: List[Wanted]) -> LiveState:
        return read_live(self.client, self.options, wanted)

    def run(self) -> Dict[str, Any]:
        """The whole catalog; raises CatalogFailed when any image (or track) failed."""
        options = self.options
        wanted = wanted_objects(list(options.entries), options.kind, list(options.scopes), options.catalog,
                                options.fanout)
        created_namespaces = ensure_namespaces(self.client, options.namespaces, options.create_namespaces) \
            if options.kind.namespaced else []
        state = self._read(wanted)
        runner = ActionRunner(self.client, options, self._remaining, frozenset(created_namespaces))
        rotation = TrackRotation(self.client, options, state, self._remaining)
        wanted = rotation.numbered(runner.as_the_platform_stores(wanted, state.live))
        usage = UsageIndex(self.client)
        actions = plan(wanted, state.live, options.catalog, state.scope, options.recreate,
                       lambda kind, obj: usage.of(obj, kind))
        hubs = [a for a in actions if a.kind != options.kind]
        rest = [a for a in actions if a.kind == options.kind]
        rows = side_by_side(runner.execute, hubs + rest)
        steps, track_rows, retired_hubs = rotation.rotate(wanted, rows)
        diff = _diff(actions)
        track_diff(steps, diff)
        return self._result(rows, created_namespaces, diff, track_rows, retired_hubs)

    def _result(self, rows: List[Dict[str, Any]], created_namespaces: List[str], diff: Dict[str, Any],
                track_rows: List[Dict[str, Any]], retired_hubs: List[str]) -> Dict[str, Any]:
        images = [row for row in rows if row["action"] not in (DELETE, HELD) and not row["hub"]]
        hubs = [row for row in rows if row["hub"]]
        pruned = [row for row in rows if row["action"] in (DELETE, HELD)]
        failed = [row for row in rows if row["error"]]
        track_failures = [row["error"] for row in track_rows if row["error"]]
        result: Dict[str, Any] = {
            "changed": bool(created_namespaces or retired_hubs) or any(row["changed"] for row in rows) or any(
                row["label"] in ("moved", "set", "would move", "would set") or row["deleted"] for row in track_rows),
            "catalog": self.options.catalog,
            "images": images,
            "fanout": hubs,
            "pruned": pruned,
            "created_namespaces": created_namespaces,
            "tracks": track_rows,
            "retired_hubs": retired_hubs,
            "table": table(hubs + images + pruned) + track_table(track_rows),
            "duration": round(time.monotonic() - self.started, 3),
            "failed_images": [_failure(row) for row in failed] + track_failures,
            "diff": diff,
        }
        if failed or track_failures:
            raise CatalogFailed("%s failed: %s" % (" and ".join(part for part in (
                "%d of %d catalog objects" % (len(failed), len(rows)) if failed else "",
                "%d of %d tracks" % (len(track_failures), len(track_rows)) if track_failures else "") if part),
                "; ".join(result["failed_images"])), **result)
        return result


def _diff(actions: List[Action]) -> Dict[str, Any]:
    """Before and after of every object the plan writes, keyed by reference (what ``--diff`` shows)."""
    before: Dict[str, Any] = {}
    after: Dict[str, Any] = {}
    for action in actions:
        if action.verb not in WRITES:
            continue
        ref = action.kind.ref(action.name, action.namespace)
        if action.live is not None:
            before[ref] = view(action.live)
        if action.verb == PATCH:
            spec = (action.patch or {}).get("spec") and action.wanted.manifest.get("spec")
            after[ref] = patched_view(action.live, (action.patch or {}).get("metadata"), spec)
        elif action.verb in (CREATE, RECREATE):
            after[ref] = view(action.wanted.manifest)
    return {"before": before, "after": after}


def kind_of(cluster: bool) -> Kind:
    """The kind a catalog manages."""
    return CLUSTER_VIRTUAL_IMAGE if cluster else VIRTUAL_IMAGE


def _failure(row: Mapping[str, Any]) -> str:
    """``<ref> [<entry>]: <message>``, without repeating the ref the message may start with."""
    message = row["error"]
    if message.startswith(row["ref"] + ": "):
        message = message[len(row["ref"]) + 2:]
    where = " [%s]" % row["entry"] if row.get("entry") else ""
    return "%s%s: %s" % (row["ref"], where, message)
