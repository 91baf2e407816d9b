# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The one waiter: a watch loop over one object plus a table of predicates.

Each predicate looks at the object (None = gone) and says DONE, FAIL (at once,
with the platform's message) or WAIT (optionally with what blocks it).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Mapping, NamedTuple, Optional, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client, Gone
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ObjectFailed, WaitTimeout
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    EXPORTING_PHASE, FIRST_CONSUMER_PHASE, TERMINAL_FAILURE_PHASES, Kind,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.quantity import quantity_or_none

DONE, FAIL, WAIT = "done", "fail", "wait"
# The platform's Ready reason for an import whose Pod is not running yet (not scheduled, source not ready): it
# starts by itself, even from phase Failed, so it is a blocker to report, not an end.
NOT_STARTED_REASON = "ProvisioningNotStarted"
# How the platform's message for a refused quota starts: a Failed phase it leaves by itself, retrying.
QUOTA_MESSAGE = "Quota exceeded"
# How the platform's Resizing message starts when the resize cannot happen (the StorageClass does not allow
# expansion, or is not ready): the disk stays Ready at its old size until someone changes the class.
RESIZE_NOT_ALLOWED = "Disk resizing is not allowed"
WATCH_CHUNK = 300.0
MIN_STREAM_SECONDS = 0.5


class Verdict(NamedTuple):
    """What a predicate decided; ``message`` explains a failure or a blocker."""

    state: str
    message: str = ""


def is_ready(obj: Optional[Mapping[str, Any]]) -> Verdict:
    """Ready with a current Ready=True; fail at once on a current terminal phase."""
    if obj is None:
        return Verdict(FAIL, "it was deleted while waiting for it to become Ready")
    if (obj.get("metadata") or {}).get("deletionTimestamp"):
        return Verdict(FAIL, "it is being deleted (phase %s)" % cond.phase(obj))
    ready = cond.current_condition(obj, "Ready")
    current_phase = cond.phase(obj)
    if current_phase == "Ready" and ready and ready.get("status") == "True":
        return Verdict(DONE)
    if ready and ready.get("reason") == NOT_STARTED_REASON:
        return Verdict(WAIT, "blocked: " + cond.describe_condition(ready))
    if current_phase in TERMINAL_FAILURE_PHASES and (ready is not None or cond.status_current(obj)):
        detail = (ready or {}).get("message") or (ready or {}).get("reason") or "no message"
        if detail.startswith(QUOTA_MESSAGE):
            detail += (" (the platform retries the import by itself once the quota allows it; this task does not "
                       "wait for that: raise the quota or free resources, then run it again)")
        return Verdict(FAIL, "phase %s: %s" % (current_phase, detail))
    for ctype in ("DatasourceReady", "StorageClassReady"):
        blocker = cond.current_condition(obj, ctype)
        if current_phase == "Pending" and blocker and blocker.get("status") == "False" and blocker.get("reason"):
            return Verdict(WAIT, "blocked: " + cond.describe_condition(blocker))
    return Verdict(WAIT)


def _in_use(obj: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """The InUse condition when it is True."""
    in_use = cond.condition(obj, "InUse")
    return in_use if in_use and in_use.get("status") == "True" else None


def is_absent(obj: Optional[Mapping[str, Any]]) -> Verdict:
    """Gone; fail at once when a VM keeps it Terminating (InUse=True)."""
    if obj is None:
        return Verdict(DONE)
    in_use = _in_use(obj)
    if (obj.get("metadata") or {}).get("deletionTimestamp") and in_use:
        return Verdict(FAIL, in_use.get("message") or "it is in use (%s)" % in_use.get("reason"))
    terminating = cond.current_condition(obj, "Terminating")
    if terminating and terminating.get("status") == "True":
        return Verdict(WAIT, "blocked: " + cond.describe_condition(terminating))
    return Verdict(WAIT)


def is_released(obj: Optional[Mapping[str, Any]]) -> Verdict:
    """Gone, or Terminating and held by a VM (InUse=True): the platform deletes it once the VM lets go, which the
    caller reports (a forced delete of a disk in use)."""
    if obj is not None and (obj.get("metadata") or {}).get("deletionTimestamp") and _in_use(obj):
        return Verdict(DONE) if cond.phase(obj) == "Terminating" else Verdict(WAIT)
    return is_absent(obj)


def _short_of_size(obj: Mapping[str, Any]) -> str:
    """What a Ready disk still lacks of its spec size (a resize the storage has not finished), or ""."""
    wanted = quantity_or_none(((obj.get("spec") or {}).get("persistentVolumeClaim") or {}).get("size"))
    capacity = quantity_or_none((obj.get("status") or {}).get("capacity"))
    if wanted is None or capacity is None or capacity >= wanted:
        return ""
    return "resizing: capacity %s of %s" % (obj["status"]["capacity"], obj["spec"]["persistentVolumeClaim"]["size"])


def _resize_verdict(obj: Mapping[str, Any]) -> Optional[Verdict]:
    """A Ready disk whose current Resizing condition says the resize cannot happen fails at once with the
    platform's words; one that may happen later (the disk is being snapshotted) is a blocker."""
    resizing = cond.current_condition(obj, "Resizing")
    if not resizing or resizing.get("status") != "False" or not resizing.get("message"):
        return None
    if resizing["message"].startswith(RESIZE_NOT_ALLOWED):
        return Verdict(FAIL, "the resize cannot happen, the disk stays at %s: %s" % (
            (obj.get("status") or {}).get("capacity") or "its size", cond.describe_condition(resizing)))
    return Verdict(WAIT, "blocked: " + cond.describe_condition(resizing))


def _disk_ready(first_consumer_done: bool) -> Callable[[Optional[Mapping[str, Any]]], Verdict]:
    """A VirtualDisk holds its data and its full size: Ready (a resize finished, an export ended). With
    ``first_consumer_done``, WaitForFirstConsumer counts too: on a late-binding storage class the data comes only
    once a VM uses the disk."""
    def predicate(obj: Optional[Mapping[str, Any]]) -> Verdict:
        if obj is not None and cond.status_current(obj) and not (obj.get("metadata") or {}).get("deletionTimestamp"):
            current_phase = cond.phase(obj)
            if current_phase == FIRST_CONSUMER_PHASE:
                if first_consumer_done:
                    return Verdict(DONE)
                return Verdict(WAIT, "blocked: " + cond.describe_condition(cond.condition(obj, "Ready")))
            if current_phase == "Resizing":
                return Verdict(WAIT, "blocked: " + cond.describe_condition(cond.condition(obj, "Resizing")))
            if current_phase == EXPORTING_PHASE:   # never a failure: the disk comes back Ready after the export
                return Verdict(WAIT, "blocked: " + cond.describe_condition(cond.condition(obj, "Ready")))
        verdict = is_ready(obj)
        if verdict.state == DONE and obj is not None and _short_of_size(obj):
            return _resize_verdict(obj) or Verdict(WAIT, _short_of_size(obj))
        return verdict
    return predicate


def is_snapshot_ready(obj: Optional[Mapping[str, Any]]) -> Verdict:
    """A VirtualDiskSnapshot Ready; fail at once on Failed with the platform's message; report a disk not ready."""
    if obj is None:
        return Verdict(FAIL, "it was deleted while waiting for it to become Ready")
    current_phase = cond.phase(obj)
    ready = cond.condition(obj, "VirtualDiskSnapshotReady") or {}
    if not cond.status_current(obj):
        return Verdict(WAIT)
    if current_phase == "Ready":
        return Verdict(DONE)
    if current_phase in ("Failed", "Terminating"):
        return Verdict(FAIL, "phase %s: %s" % (current_phase, ready.get("message") or ready.get("reason")
                                               or "no message"))
    disk = cond.condition(obj, "VirtualDiskReady") or {}
    if disk.get("status") == "False" and disk.get("message"):
        return Verdict(WAIT, "blocked: " + cond.describe_condition(disk))
    if ready.get("message"):
        return Verdict(WAIT, "now: " + cond.describe_condition(ready))
    return Verdict(WAIT)


def is_vmop_completed(obj: Optional[Mapping[str, Any]]) -> Verdict:
    """A VirtualMachineOperation Completed; fail at once on Failed/Superseded with its message."""
    if obj is None:
        return Verdict(FAIL, "the operation was deleted before it completed")
    current_phase = cond.phase(obj)
    if current_phase == "Completed":
        return Verdict(DONE)
    if current_phase in ("Failed", "Superseded", "Terminating"):
        done = cond.condition(obj, "Completed") or {}
        return Verdict(FAIL, "phase %s: %s" % (current_phase, done.get("message") or done.get("reason") or "no message"))
    return Verdict(WAIT)


def _vm_in_phase(wanted: str) -> Callable[[Optional[Mapping[str, Any]]], Verdict]:
    """A VirtualMachine reached ``wanted``; fail when it is deleted."""
    def predicate(obj: Optional[Mapping[str, Any]]) -> Verdict:
        if obj is None or (obj.get("metadata") or {}).get("deletionTimestamp"):
            return Verdict(FAIL, "the VirtualMachine was deleted while waiting for it to be %s" % wanted)
        return Verdict(DONE) if cond.phase(obj) == wanted else Verdict(WAIT)
    return predicate


PREDICATES: Dict[str, Tuple[Callable[[Optional[Mapping[str, Any]]], Verdict], str]] = {
    "ready": (is_ready, "become Ready"),
    "absent": (is_absent, "be deleted"),
    "released": (is_released, "be deleted"),
    "disk-ready": (_disk_ready(first_consumer_done=True), "become Ready (or WaitForFirstConsumer)"),
    "disk-data-ready": (_disk_ready(first_consumer_done=False), "become Ready"),
    "snapshot-ready": (is_snapshot_ready, "become Ready"),
    "vmop-completed": (is_vmop_completed, "complete"),
    "vm-running": (_vm_in_phase("Running"), "be Running"),
    "vm-stopped": (_vm_in_phase("Stopped"), "be Stopped"),
}


def timeout_message(kind: Kind, name: str, namespace: Optional[str], goal: str, timeout: float,
                    obj: Optional[Mapping[str, Any]], blocker: str) -> str:
    """Name the last phase, progress and Ready condition (and blocker) seen."""
    text = "timed out after %ss waiting for %s to %s: last phase %s, progress %s, condition %s" % (
        int(timeout), kind.ref(name, namespace), goal, cond.phase(obj) or "none",
        cond.progress(obj) or "none", cond.describe_condition(cond.condition(obj, "Ready")))
    if blocker:
        text += "; " + blocker
    return text


class Waiter:
    """Waits on one object via watches, resuming after a dropped stream or a 410."""

    def __init__(self, client: Client, kind: Kind, name: str, namespace: Optional[str],
                 on_update: Callable[[Optional[Mapping[str, Any]]], None] = lambda obj: None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.on_update = on_update
        self.clock = clock
        self.sleep = sleep

    def _check(self, obj: Optional[Mapping[str, Any]], predicate: Callable[..., Verdict]) -> Verdict:
        self.on_update(obj)
        return predicate(obj)

    def wait(self, goal: Any, timeout: float, obj: Optional[Mapping[str, Any]] = None) -> Optional[Mapping[str, Any]]:
        """Return the final object; raise ObjectFailed / WaitTimeout.

        ``goal`` names a PREDICATES entry, or is a ``(predicate, goal text)`` pair of its own.
        """
        predicate, goal_text = PREDICATES[goal] if isinstance(goal, str) else goal
        deadline = self.clock() + timeout
        path = self.kind.object_path(self.name, self.namespace)
        collection = self.kind.collection_path(self.namespace)
        if obj is None:
            obj = self.client.get(path)
        blocker = ""
        while True:
            verdict = self._check(obj, predicate)
            if verdict.state != WAIT:
                return self._finish(obj, verdict)
            blocker = verdict.message or blocker
            remaining = deadline - self.clock()
            if remaining <= 0 or obj is None:
                raise WaitTimeout(timeout_message(self.kind, self.name, self.namespace, goal_text, timeout,
                                                  obj, blocker), image=obj, conditions=cond.conditions(obj))
            version = obj["metadata"]["resourceVersion"]
            started = self.clock()
            try:
                for event in self.client.watch(collection, self.name, version, min(remaining, WATCH_CHUNK)):
                    if event.get("type") == "BOOKMARK":
                        continue
                    obj = None if event.get("type") == "DELETED" else event.get("object")
                    verdict = self._check(obj, predicate)
                    if verdict.state != WAIT:
                        return self._finish(obj, verdict)
                    blocker = verdict.message or blocker
                    if obj is None or self.clock() >= deadline:
                        break
            except Gone:
                pass
            if self.clock() - started < MIN_STREAM_SECONDS:
                self.sleep(MIN_STREAM_SECONDS)  # a stream that closes at once must not spin
            obj = self.client.get(path)

    def _finish(self, obj: Optional[Mapping[str, Any]], verdict: Verdict) -> Optional[Mapping[str, Any]]:
        if verdict.state == FAIL:
            raise ObjectFailed("%s: %s" % (self.kind.ref(self.name, self.namespace), verdict.message),
                               image=obj, conditions=cond.conditions(obj))
        return obj
