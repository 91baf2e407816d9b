# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The upload library: bring an Upload image (or disk) to Ready holding a given local file.

A state machine over the image's phase, re-read after every step, so that a
concurrent uploader, a missed deadline or an interrupted upload all lead to the
same decisions: WaitForUserUpload -> send; Failed -> recreate while ``retries``
last; Ready -> compare the recorded checksum with the file (``recreate`` rule);
anything else -> watch until one of those. Used by ``virtual_image_upload``, by
the image modules for ``source.upload`` and by ``virtual_disk`` for its ``source.upload``:
any kind that publishes ``status.imageUploadURLs``; what differs per kind is its UploadRules.

This file orders the steps; each lives in a file of its own: upload_rules.py (reading the phases and URLs),
upload_send.py (the send and its retries, reported by upload_progress.py), upload_record.py (the record kept on
the object between runs), upload_verify.py (checksums against the file and the record), resume.py (finishing a
run killed before its record) and upload_scrub.py (upload URLs kept out of results and errors).
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.waiter import Waiter
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import (
    ImmutableSpec, ObjectFailed, TaskError,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import Kind
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.redaction import redact_image
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.decision import (
    KEEP, REFUSE, SpecLock, decide,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.replace import recreate
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.views import view, without_managed_fields
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.upload import UploadOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.resume import finished_unrecorded
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.stream import Outcome, Sender, probe
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload_progress import sent_figures
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload_record import (
    ANNOTATION, RecordWriter, fresh_manifest, record_diff, record_text, record_value, recorded,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload_rules import (
    IMAGE_UPLOAD, UploadRules, can_send, waiting_for_upload,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload_scrub import UrlScrubber
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload_send import UploadSend
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload_verify import (
    check_given, content_differences, file_checksums, verified_by,
)

# The names the callers import from here (images, disks, catalog, the upload module, the tests).
__all__ = ["ANNOTATION", "IMAGE_UPLOAD", "UploadRules", "UploadRunner", "record_value", "recorded"]


class UploadRunner:  # pylint: disable=too-many-instance-attributes
    """One upload of one file into one image or disk (see the module docstring for the states)."""

    def __init__(self, client: Client, kind: Kind, name: str, namespace: Optional[str], opts: UploadOptions,
                 tracker: Tracker, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, sender: Callable[..., Any] = Sender,
                 prober: Callable[..., bool] = probe, rules: UploadRules = IMAGE_UPLOAD) -> None:
        self.client = client
        self.rules = rules
        self.kind = kind
        self.namespace = namespace if kind.namespaced else None
        self.opts = opts
        self.tracker = tracker
        self.clock = clock
        self.path = kind.object_path(name, self.namespace)
        self.ref = kind.ref(name, self.namespace)
        self.waiter = Waiter(client, kind, name, self.namespace, on_update=tracker.update)
        self.started = clock()
        self.deadline = self.started + opts.wait_timeout
        self.size = os.path.getsize(opts.path)
        self.urls = UrlScrubber(opts.upload_url)
        self.record = RecordWriter(client, self.path, opts.path, self.size)
        self.sending = UploadSend(client, self.ref, self.path, self.waiter, tracker, opts, self.size,
                                  rules.holds_data, self.record.mark_sending, self._remaining, self.urls.scrub,
                                  clock, sleep, sender, prober)
        self.retries_left = opts.retries
        self.sent: Optional[Outcome] = None
        self.diff: Dict[str, Any] = {}
        self.checksums: Dict[str, str] = {}
        self.changed = False

    def run(self, obj: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """The result dict; raises TaskError (URLs scrubbed from the message and details)."""
        try:
            return self._run(obj)
        except TaskError as exc:
            self.urls.scrub_error(exc)
            exc.details.setdefault("attempts", self.sending.attempts)
            raise

    def _run(self, obj: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        if obj is None:
            obj = self.client.get(self.path)
        obj = waiting_for_upload(obj, self.ref)
        while True:
            self.tracker.update(obj)
            self.urls.remember(obj)
            phase = cond.phase(obj)
            if (obj.get("metadata") or {}).get("deletionTimestamp"):
                raise ObjectFailed("%s is being deleted (phase %s)" % (self.ref, phase), image=obj)
            if phase in self.rules.holds_data and cond.status_current(obj):
                done, obj = self._provisioned(obj)
                if done or self.client.check_mode:
                    return self._result(obj)
            elif phase == "Failed" and cond.status_current(obj):
                obj = self._failed(obj)
                if self.client.check_mode:
                    return self._result(obj)
            elif can_send(obj, self.sending.spent):
                if self.client.check_mode:
                    self.diff, self.changed = record_diff(obj), True
                    return self._result(obj)
                self.sent, obj = self.sending.send(obj)
                if self.sent is not None:
                    self.checksums, self.changed = self.sent.checksums, True
                    return self._result(self._finish(obj))
            else:
                if self.client.check_mode:
                    self.changed = True
                    self.diff = {"before": view(obj), "after": view(obj)}
                    return self._result(obj)
                obj = self.waiter.wait(self.sending.goal(), self._remaining(), obj)

    def _provisioned(self, obj: Mapping[str, Any]) -> Tuple[bool, Mapping[str, Any]]:
        """Ready: (True, obj) when the record matches the file; else the recreate rule (False, new image)."""
        sums, size = recorded(obj)
        self.checksums = file_checksums(self.opts.path, self.opts.checksum, sums)
        check_given(self.opts.checksum, self.checksums, 0, self.opts.path)
        if finished_unrecorded(sums, size, record_text(obj), self.opts.path, self.size):
            self.tracker.note("an earlier run was stopped after sending this file, before recording it: recorded now")
            return True, self._write_record(obj)
        differing = content_differences(sums, size, self.size, self.checksums)
        decision = decide(obj, obj, self.ref, self.opts.recreate, "recreate: true", differing,
                          SpecLock(phases=self.rules.holds_data, recreate_loses=self.rules.recreate_loses))
        if decision.verb == KEEP:
            self.diff = {"before": view(obj), "after": view(obj)}
            return True, obj
        if decision.verb == REFUSE:
            raise ImmutableSpec(decision.message, image=obj, differing_fields=differing,
                                conditions=cond.conditions(obj))
        return False, self._recreate(obj, "its content differs from the file")

    def _failed(self, obj: Mapping[str, Any]) -> Mapping[str, Any]:
        """Failed is terminal: recreate while retries last, else fail with the platform's message."""
        ready = cond.condition(obj, "Ready") or {}
        message = ready.get("message") or ready.get("reason") or "no message"
        if self.retries_left <= 0:
            hint = "" if self.opts.retries else " Set retries to let the module recreate the image and upload again."
            raise ObjectFailed("%s: phase Failed: %s%s" % (self.ref, message, hint), image=obj,
                               conditions=cond.conditions(obj), reason=ready.get("reason"))
        self.retries_left -= 1
        return self._recreate(obj, "it failed (%s)" % (ready.get("reason") or message))

    def _write_record(self, obj: Mapping[str, Any]) -> Mapping[str, Any]:
        """The record of this run's checksums written: the object as patched (the diff is the record's)."""
        patched, self.diff = self.record.write(obj, self.checksums)
        self.changed = True
        return patched

    def _finish(self, obj: Mapping[str, Any]) -> Mapping[str, Any]:
        """Record what was uploaded, then wait for Ready when asked."""
        patched = self._write_record(obj)
        if not self.opts.wait:
            self.tracker.update(patched)
            return patched
        final = self.waiter.wait(self.rules.ready, self._remaining(), patched)
        if final is None:  # pragma: no cover - the predicate fails on deletion
            raise ObjectFailed("%s was deleted while waiting for it to become Ready" % self.ref)
        return final

    def _recreate(self, obj: Mapping[str, Any], why: str) -> Mapping[str, Any]:
        """The same object anew, so that the file can be sent again (check mode: dry-run delete only)."""
        refused = self.rules.why_not_recreate(obj)
        if refused:
            raise ImmutableSpec("%s cannot be recreated although %s: %s" % (self.ref, why, refused), image=obj,
                                conditions=cond.conditions(obj))
        manifest = fresh_manifest(obj)
        self.changed = True
        self.diff = {"before": view(obj), "after": view(manifest)}
        return recreate(self.client, self.waiter, self.path, obj, self._remaining(), self.tracker,
                        lambda: self.client.create(self.kind.collection_path(self.namespace), manifest), why)

    def _remaining(self) -> float:
        return max(self.deadline - self.clock(), 0.0)

    def _result(self, obj: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        sending = self.sending
        result: Dict[str, Any] = {
            "changed": self.changed,
            "image": redact_image(without_managed_fields(obj)),
            "phase": cond.phase(obj),
            "progress": cond.progress(obj),
            **sent_figures(self.sent),
            "checksums": self.checksums,
            "verified_by": verified_by(obj, self.opts.checksum, self.client.check_mode),
            "attempts": sending.attempts,
            "endpoint": sending.endpoint,
            "phases": self.tracker.phases,
            "duration": round(self.clock() - self.started, 3),
            "diff": self.diff,
        }
        if self.opts.show_upload_url and sending.used_url:
            result["upload_url"] = sending.used_url
        return result
