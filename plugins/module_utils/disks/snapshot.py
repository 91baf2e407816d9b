# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The snapshot runner: ensure one VirtualDiskSnapshot present (Ready, with ``consistent``) or absent.

The run is the shared one (objects/runner.py). The platform never changes a snapshot's spec ("an idempotent
resource"): its lock covers every phase, so a different disk or consistency is refused naming the fields; labels
and annotations are patched. The disk must exist before the snapshot is made. The wait fails at once on Failed
with the platform's message.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import (
    ApiError, ImmutableSpec, TaskError,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.request import SnapshotRequest
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.rules import check_source_exists
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.fields import refuse_unknown
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.decision import Decision, SpecLock
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.runner import ObjectRunner

# Every phase, and none yet: a snapshot's spec never changes.
SNAPSHOT_LOCK = SpecLock(phases=(None, "Pending", "InProgress", "Ready", "Failed", "Terminating"))


class SnapshotRunner(ObjectRunner[SnapshotRequest]):
    """One run of a SnapshotRequest (virtual_disk_snapshot, and the snapshot capture takes)."""

    result_key = "snapshot"
    lock = SNAPSHOT_LOCK

    def described(self, obj: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        """Whether the platform froze the guest for it, and the VolumeSnapshot that holds its data."""
        status = (obj or {}).get("status") or {}
        return {"consistent": status.get("consistent"), "volume_snapshot": status.get("volumeSnapshotName")}

    def refusal(self, decision: Decision, live: Mapping[str, Any]) -> TaskError:
        return ImmutableSpec("%s exists and the platform never changes a snapshot's spec; differing fields: %s. "
                             "Delete it first (state: absent), then create it anew."
                             % (self.request.ref, ", ".join(decision.differing)), snapshot=live,
                             differing_fields=decision.differing)

    def create(self, wanted: Dict[str, Any]) -> Dict[str, Any]:
        """The disk must exist (a missing one is a typo: the platform would leave the snapshot Pending)."""
        check_source_exists(self.client, {"objectRef": {"kind": "VirtualDisk",
                                                        "name": wanted["spec"]["virtualDiskName"]}},
                            self.request.namespace, option="disk")
        try:
            return super().create(wanted)
        except ApiError as exc:
            refuse_unknown(exc, self.kind, "module")
            raise

    def patch(self, patch: Dict[str, Any]) -> Dict[str, Any]:
        try:
            return super().patch(patch)
        except ApiError as exc:
            refuse_unknown(exc, self.kind, "module")
            raise

    def ready_goal(self) -> str:
        return "snapshot-ready"
