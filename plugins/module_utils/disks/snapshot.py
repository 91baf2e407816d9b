# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The snapshot runner: ensure one VirtualDiskSnapshot present (Ready, with ``consistent``) or absent.

The run is the shared one (objects/runner.py). The platform never changes a snapshot's spec ("an idempotent
resource"): its lock covers every phase, so a different disk or consistency is refused naming the fields; labels
and annotations are patched. The disk must exist before the snapshot is made. The wait fails at once on Failed
with the platform's message.

Failed is terminal: the platform never takes a Failed snapshot again (a consistent snapshot refused for a VM whose
filesystem cannot be frozen stays Failed after the guest agent is back). So a Failed snapshot is either taken anew
(deleted, waited gone, created again: ``recreate: true``, and always for the snapshot a capture owns) or refused
before any write, naming that way out; a wait that ends in Failed names it too.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import (
    ApiError, ImmutableSpec, ObjectFailed, TaskError,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.request import SnapshotRequest
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.rules import check_source_exists
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.fields import refuse_unknown
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.decision import Decision, SpecLock
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.runner import REPORTED_AS, ObjectRunner

# Every phase, and none yet: a snapshot's spec never changes.
SNAPSHOT_LOCK = SpecLock(phases=(None, "Pending", "InProgress", "Ready", "Failed", "Terminating"))
NEVER_RETRIED = "the platform never retries a snapshot"


def failure_of(live: Mapping[str, Any]) -> str:
    """Why a Failed snapshot failed, in the platform's words (its VirtualDiskSnapshotReady condition)."""
    ready = cond.condition(live, "VirtualDiskSnapshotReady") or {}
    words = [part for part in (ready.get("reason"), ready.get("message")) if part]
    return ": ".join(words) or "no message"


class SnapshotRunner(ObjectRunner[SnapshotRequest]):
    """One run of a SnapshotRequest (virtual_disk_snapshot, and the snapshot capture takes)."""

    result_key = "snapshot"
    lock = SNAPSHOT_LOCK

    def described(self, obj: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        """Whether the platform froze the guest for it, and the VolumeSnapshot that holds its data."""
        status = (obj or {}).get("status") or {}
        return {"consistent": status.get("consistent"), "volume_snapshot": status.get("volumeSnapshotName")}

    def way_out(self) -> str:
        """What takes a Failed snapshot anew: this request's option, or nothing to do for one that retakes it."""
        if self.request.retake_failed:
            return "%s: the next run deletes it and takes it anew" % NEVER_RETRIED
        return "%s: set recreate: true to delete it and take it anew" % NEVER_RETRIED

    def before_writes(self, wanted: Dict[str, Any], live: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        """A Failed snapshot that is not to be taken anew is refused here, before any write: waiting on it would
        only report the old failure again."""
        if live is not None and cond.phase(live) == "Failed" and not self.request.retake_failed:
            raise ObjectFailed("%s is Failed (%s); %s (or delete it: state: absent)"
                               % (self.request.ref, failure_of(live), self.way_out()), snapshot=live,
                               conditions=cond.conditions(live))
        return wanted

    def remake_reason(self, live: Mapping[str, Any]) -> str:
        if cond.phase(live) == "Failed" and self.request.retake_failed:
            return "it is Failed (%s) and %s" % (failure_of(live), NEVER_RETRIED)
        return ""

    def wait_ready(self, obj: Mapping[str, Any]) -> Any:
        """A snapshot that fails while it is waited for stays Failed: the error says how it is taken anew."""
        try:
            return super().wait_ready(obj)
        except ObjectFailed as exc:
            if cond.phase(exc.details.get(REPORTED_AS)) != "Failed":
                raise
            raise ObjectFailed("%s; %s" % (exc.msg, self.way_out()), **exc.details) from None

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
