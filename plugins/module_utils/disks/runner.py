# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The disk runner: ensure one VirtualDisk present or absent, as a DiskRequest asks.

A disk is filled from the same sources as an image (its pull Secret owned, its upload streamed by the same upload
runner: images/sourced.py), with the disk's rules (rules.py): its size grows in place and the wait goes through
Resizing; the wait may count WaitForFirstConsumer as done; a Failed disk is remade only with ``recreate``; a disk a
VM uses is never recreated, and deleting it is refused before any write unless ``force``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from ansible.module_utils.common.warnings import warn

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ImmutableSpec, InUse
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.expansion import check_expandable
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.request import DiskRequest
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.rules import (
    CLASS_PATH, DISK_LOCK, DISK_UPLOAD, check_source_exists, class_move, class_move_refused, why_not_recreate,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.summary import (
    attached_vms, describe_vms, summarize_disk,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.sourced import SourcedRunner


class DiskRunner(SourcedRunner[DiskRequest]):
    """One run of a DiskRequest (virtual_disk)."""

    result_key = "disk"
    lock = DISK_LOCK

    def __init__(self, client: Client, request: DiskRequest, tracker: Tracker) -> None:
        super().__init__(client, request, tracker)
        self.upload_rules = DISK_UPLOAD._replace(ready=self.ready_goal())
        self.class_moves_to = ""  # the class a disk past Pending is made anew on (recreate)

    def summarize(self, obj: Mapping[str, Any]) -> Dict[str, Any]:
        return summarize_disk(obj)

    def ready_goal(self) -> str:
        """``wait_for: Ready`` waits for the data; by default a disk waiting for its first consumer is done."""
        return "disk-data-ready" if self.request.wait_for == "Ready" else "disk-ready"

    def before_writes(self, wanted: Dict[str, Any], live: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        """A source object the task would write must exist (a missing snapshot is a typo, not a wait); a size left
        out keeps the live one (the platform refuses to drop a size once set); a class the platform would not move
        the disk to is refused, or with ``recreate`` the disk is made anew on it (see class_move); a disk kept on its
        class grows only when the class allows it (expansion.py)."""
        source = (wanted.get("spec") or {}).get("dataSource")
        claim = (wanted.get("spec") or {}).get("persistentVolumeClaim") or {}
        if source != ((live or {}).get("spec") or {}).get("dataSource"):
            check_source_exists(self.client, source, self.request.namespace, size=claim.get("size"))
        size = (((live or {}).get("spec") or {}).get("persistentVolumeClaim") or {}).get("size")
        if size is not None and claim.get("size") is None:
            claim = dict(claim, size=size)
        move = class_move(live, claim.get("storageClassName"))
        if move is not None and move[0] == move[1]:  # the default class named: the disk is on it already
            claim = {key: value for key, value in claim.items() if key != "storageClassName"}
        elif move is not None:
            refused = class_move_refused(self.request.ref, live or {}, move, self.request.recreate)
            if refused:
                raise ImmutableSpec(refused, disk=live, differing_fields=[CLASS_PATH],
                                    attached_to=attached_vms(live or {}))
            self.class_moves_to = move[1]
        if source == ((live or {}).get("spec") or {}).get("dataSource") and not self.class_moves_to:
            check_expandable(self.client, live, claim.get("size"), self.request.ref)
        if claim != ((wanted.get("spec") or {}).get("persistentVolumeClaim") or {}):
            spec = {key: value for key, value in wanted["spec"].items() if key != "persistentVolumeClaim"}
            wanted = dict(wanted, spec=dict(spec, persistentVolumeClaim=claim) if claim else spec)
        return super().before_writes(wanted, live)

    def remake_reason(self, live: Mapping[str, Any]) -> str:
        """A class the platform does not move the disk to (checked in before_writes, with ``recreate`` asked and no
        virtual machine using the disk): the disk is made anew on it."""
        if self.class_moves_to:
            return 'its storage class changes to "%s", which the platform does not do past Pending' % (
                self.class_moves_to)
        return ""

    def check_recreate(self, live: Mapping[str, Any], differing: List[str]) -> None:
        """A disk a VM uses is never recreated (its data would be lost under the VM)."""
        refused = why_not_recreate(live)
        if refused:
            raise ImmutableSpec("%s is already provisioned and its spec differs (%s), but %s."
                                % (self.request.ref, ", ".join(differing), refused), disk=live,
                                differing_fields=differing, attached_to=attached_vms(live))

    def refuse_delete(self, live: Mapping[str, Any]) -> List[str]:
        """Refuse to delete a disk a VM uses (naming the VM) before any write, unless ``force``. The users of a
        disk are reported by ``deleted`` (from the disk's InUse condition), so none are returned."""
        vms = attached_vms(live)
        if vms and not (live.get("metadata") or {}).get("deletionTimestamp") and not self.request.force:
            raise InUse("%s is attached to %s: deleting it would take the disk from under the virtual machine. "
                        "Detach it (or delete the virtual machine) first, or set force: true to delete it anyway "
                        "(the platform keeps it Terminating until no virtual machine uses it)."
                        % (self.request.ref, describe_vms(vms)), attached_to=vms)
        return []

    def absent_goal(self, users: List[str]) -> Any:
        """Gone, or Terminating while a VirtualMachine holds it (the platform deletes it when the VM lets go)."""
        return "released"

    def deleted(self, result: Dict[str, Any], users: List[str]) -> Dict[str, Any]:
        """A disk still Terminating because a VM uses it: reported (``held_by``) and warned about."""
        held = result[self.result_key]
        if held is not None and (held.get("metadata") or {}).get("deletionTimestamp"):
            in_use = cond.condition(held, "InUse") or {}
            if in_use.get("status") == "True":
                reason = in_use.get("message") or "in use by %s" % describe_vms(attached_vms(held))
                result["held_by"] = [vm["name"] for vm in attached_vms(held)]
                warn("%s is Terminating: the platform deletes it once no virtual machine uses it (%s)"
                     % (self.request.ref, reason))
        return result
