# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The snapshot runner: ensure one VirtualDiskSnapshot present (Ready, with ``consistent``) or absent.

The platform never changes a snapshot's spec ("an idempotent resource"): what to write is decided by
decision.decide with a lock over every phase, so a different disk or consistency is refused naming the fields;
labels and annotations are patched. The wait fails at once on Failed with the platform's message.
"""

from __future__ import annotations

import time
from typing import Any, Dict, Mapping, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.waiter import Waiter
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ApiError, ImmutableSpec
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import VIRTUAL_DISK_SNAPSHOT
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.request import SnapshotRequest
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.rules import check_source_exists
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.fields import refuse_unknown
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.decision import (
    CREATE, KEEP, REFUSE, SpecLock, decide,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.ensure import EnsureRunner
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.replace import delete
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.views import (
    patched_view, view, without_managed_fields,
)

# Every phase, and none yet: a snapshot's spec never changes.
SNAPSHOT_LOCK = SpecLock(phases=(None, "Pending", "InProgress", "Ready", "Failed", "Terminating"))


class SnapshotRunner(EnsureRunner):
    """One run of a SnapshotRequest (virtual_disk_snapshot, and the snapshot capture takes)."""

    def __init__(self, client: Client, request: SnapshotRequest, tracker: Tracker) -> None:
        self.client = client
        self.request = request
        self.path = VIRTUAL_DISK_SNAPSHOT.object_path(request.name, request.namespace)
        self.tracker = tracker
        self.waiter = Waiter(client, VIRTUAL_DISK_SNAPSHOT, request.name, request.namespace, on_update=tracker.update)
        self.started = time.monotonic()
        self.diff: Dict[str, Any] = {"before": {}, "after": {}}

    def ensure_present(self) -> Dict[str, Any]:
        """Create (the disk must exist) or keep; patch labels; wait for Ready when asked."""
        wanted = self.request.manifest or {}
        live = self.client.get(self.path)
        decision = decide(live, wanted, self.request.ref, False, "", lock=SNAPSHOT_LOCK)
        if decision.verb == REFUSE:
            raise ImmutableSpec("%s exists and the platform never changes a snapshot's spec; differing fields: %s. "
                                "Delete it first (state: absent), then create it anew."
                                % (self.request.ref, ", ".join(decision.differing)), snapshot=live,
                                differing_fields=decision.differing)
        if decision.verb == CREATE:
            check_source_exists(self.client, {"objectRef": {"kind": "VirtualDisk",
                                                            "name": wanted["spec"]["virtualDiskName"]}},
                                self.request.namespace, option="disk")
            obj = self._write(lambda: self.client.create(VIRTUAL_DISK_SNAPSHOT.collection_path(
                self.request.namespace), wanted))
            self.diff = {"before": {}, "after": view(obj)}
        elif decision.verb == KEEP:
            obj = live
            self.diff = {"before": view(live), "after": view(live)}
        else:
            patch = decision.patch or {}
            obj = self._write(lambda: self.client.patch(self.path, patch))
            self.diff = {"before": view(live), "after": patched_view(live or {}, patch.get("metadata"))}
        if self.request.wait and not self.client.check_mode:
            obj = self.waiter.wait("snapshot-ready", self.request.wait_timeout, obj)
        else:
            self.tracker.update(obj)
        return self._result(decision.verb != KEEP, obj)

    def _write(self, write: Any) -> Dict[str, Any]:
        try:
            return write()
        except ApiError as exc:
            refuse_unknown(exc, VIRTUAL_DISK_SNAPSHOT, "module")
            raise

    def ensure_absent(self) -> Dict[str, Any]:
        """Delete (and wait until gone when asked)."""
        live = self.client.get(self.path)
        if live is None:
            return self._result(False, None)
        changed, obj, diff = delete(self.client, self.waiter, self.path, live, self.request.wait,
                                    self.request.wait_timeout)
        if changed:
            self.diff = diff
        return self._result(changed, obj)

    def _result(self, changed: bool, obj: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        return {
            "changed": changed,
            "snapshot": without_managed_fields(obj),
            "phase": cond.phase(obj),
            "consistent": ((obj or {}).get("status") or {}).get("consistent"),
            "volume_snapshot": ((obj or {}).get("status") or {}).get("volumeSnapshotName"),
            "duration": round(time.monotonic() - self.started, 3),
            "phases": self.tracker.phases,
            "diff": self.diff,
        }
