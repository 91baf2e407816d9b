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

The checksum of what was uploaded is recorded in the annotation ANNOTATION (the
platform keeps no checksum in status; ``spec.dataSource.upload.checksum``, when
the image has it, is checked by the server and read as a fallback record).
"""

from __future__ import annotations

import copy
import json
import os
import time
from typing import Any, Callable, Collection, Dict, List, Mapping, NamedTuple, Optional, Set, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.waiter import (
    DONE, FAIL, WAIT, Verdict, Waiter,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import (
    ImmutableSpec, ObjectFailed, TaskError, WaitTimeout,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.hashing import (
    algorithms_for, hash_file, mismatches,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    CHECKSUM_ALGORITHMS, PROVISIONED_PHASES, TERMINAL_FAILURE_PHASES, Kind,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.redaction import redact, redact_image
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.decision import (
    KEEP, REFUSE, SpecLock, decide,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.replace import recreate
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.views import view, without_managed_fields
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.upload import UploadOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.resume import sending_mark, sent_from
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.stream import (
    ChecksumMismatch, ConnectFailed, FileChanged, Interrupted, Outcome, Sender, TlsRejected, probe, tls_context,
)

ANNOTATION = "virtualization.deckhouse.io/ansible-upload-checksum"
PROBE_TIMEOUT = 3.0
PROGRESS_INTERVAL = 1.0
BACKOFF_MAX = 10.0
SENDABLE_PHASES = ("WaitForUserUpload", "Provisioning")


def _always(obj: Mapping[str, Any]) -> str:
    return ""


class UploadRules(NamedTuple):
    """What the runner must know of the kind it sends into; the defaults are the images'.

    ``holds_data``: phases in which the object holds what was uploaded (its record is then compared with the file);
    ``ready``: the waiter goal once the file is sent; ``why_not_recreate``: "" when the object may be deleted and
    made anew (a different file, a Failed upload), else why not (a disk a VM uses)."""

    holds_data: Tuple[str, ...] = PROVISIONED_PHASES
    ready: str = "ready"
    why_not_recreate: Callable[[Mapping[str, Any]], str] = _always
    recreate_loses: str = ""     # what advice to recreate adds (see SpecLock)


IMAGE_UPLOAD = UploadRules()


# -- reading the image ----------------------------------------------------------------------------
def upload_urls(obj: Optional[Mapping[str, Any]]) -> Dict[str, str]:
    """status.imageUploadURLs (only the non-empty ones)."""
    urls = ((obj or {}).get("status") or {}).get("imageUploadURLs") or {}
    return {key: value for key, value in urls.items() if value}


def recorded(obj: Mapping[str, Any]) -> Tuple[Dict[str, str], Optional[int]]:
    """(checksums, size) recorded for what the image holds: the annotation, else spec checksums."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    try:
        record = json.loads(annotations.get(ANNOTATION) or "{}")
    except ValueError:
        record = {}
    if not isinstance(record, dict):
        record = {}
    size = record.pop("size", None)
    sums = {algo: str(value).lower() for algo, value in record.items() if algo in CHECKSUM_ALGORITHMS}
    if not sums:
        sums = _spec_checksums(obj)
    if size is None:
        stored = (((obj.get("status") or {}).get("size") or {}).get("storedBytes"))
        size = int(stored) if stored not in (None, "") else None
    return sums, (int(size) if size is not None else None)


def record_value(checksums: Mapping[str, str], size: int) -> str:
    """The annotation's value: compact JSON of the checksums and the size."""
    record: Dict[str, Any] = dict(sorted(checksums.items()))
    record["size"] = size
    return json.dumps(record, separators=(",", ":"))


def can_send(obj: Mapping[str, Any], spent: Collection[str]) -> bool:
    """The image publishes upload URLs we have not sent to yet (``spent``: URLs already used).

    Provisioning counts too: another client may be uploading; the server then answers
    503 and the send is retried with backoff.
    """
    urls = upload_urls(obj)
    return (cond.phase(obj) in SENDABLE_PHASES and bool(urls) and cond.status_current(obj)
            and not set(urls.values()) & set(spent))


def actionable(spent: Collection[str], holds_data: Tuple[str, ...] = PROVISIONED_PHASES
               ) -> Tuple[Callable[[Optional[Mapping[str, Any]]], Verdict], str]:
    """A waiter goal: the object reached a phase the upload can act on.

    ``spent``: URLs already sent to; a (stale) WaitForUserUpload showing them does not count.
    """
    def predicate(obj: Optional[Mapping[str, Any]]) -> Verdict:
        if obj is None:
            return Verdict(FAIL, "it was deleted while waiting to upload")
        if (obj.get("metadata") or {}).get("deletionTimestamp"):
            return Verdict(FAIL, "it is being deleted (phase %s)" % cond.phase(obj))
        phase = cond.phase(obj)
        if cond.status_current(obj) and phase in holds_data + TERMINAL_FAILURE_PHASES:
            return Verdict(DONE)
        if can_send(obj, spent):
            return Verdict(DONE)
        blocker = cond.current_condition(obj, "DatasourceReady")
        if phase == "Pending" and blocker and blocker.get("status") == "False" and blocker.get("reason"):
            return Verdict(WAIT, "blocked: " + cond.describe_condition(blocker))
        return Verdict(WAIT)
    return predicate, "be ready to receive an upload"


def human_bytes(value: float) -> str:
    """Binary units with one decimal, as the platform prints sizes."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return ("%d %s" % (value, unit)) if unit == "B" else ("%.1f %s" % (value, unit))
        value /= 1024.0
    return "%.1f GiB" % value  # pragma: no cover


class _Progress:
    """Throttled "uploading" lines for the action plugin's tail."""

    def __init__(self, tracker: Tracker, clock: Callable[[], float]) -> None:
        self.tracker = tracker
        self.clock = clock
        self.started = clock()
        self.last = 0.0

    def __call__(self, sent: int, total: int) -> None:
        now = self.clock()
        if sent < total and now - self.last < PROGRESS_INTERVAL:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        self.tracker.note("uploading %s of %s (%d%%), %s/s" % (
            human_bytes(sent), human_bytes(total), sent * 100 // max(total, 1), human_bytes(sent / elapsed)))


class UploadRunner:
    """One upload of one file into one image or disk (see the module docstring for the states)."""

    def __init__(self, client: Client, kind: Kind, name: str, namespace: Optional[str], opts: UploadOptions,
                 tracker: Tracker, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, sender: Callable[..., Any] = Sender,
                 prober: Callable[..., bool] = probe, rules: UploadRules = IMAGE_UPLOAD) -> None:
        self.client = client
        self.rules = rules
        self.kind = kind
        self.name = name
        self.namespace = namespace if kind.namespaced else None
        self.opts = opts
        self.tracker = tracker
        self.clock = clock
        self.sleep = sleep
        self.make_sender = sender
        self.probe = prober
        self.path = kind.object_path(name, self.namespace)
        self.ref = kind.ref(name, self.namespace)
        self.waiter = Waiter(client, kind, name, self.namespace, on_update=tracker.update)
        self.started = clock()
        self.deadline = self.started + opts.wait_timeout
        self.size = os.path.getsize(opts.path)
        self.retries_left = opts.retries
        self.attempts = 0
        self.sent: Optional[Outcome] = None
        self.endpoint: Optional[str] = None
        self.used_url: Optional[str] = None
        self.spent: Set[str] = set()
        self.known_urls: List[str] = [opts.upload_url] if opts.upload_url else []
        self.diff: Dict[str, Any] = {}
        self.checksums: Dict[str, str] = {}
        self.changed = False

    # -- entry --------------------------------------------------------------------------------------
    def run(self, obj: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """The result dict; raises TaskError (URLs scrubbed from the message and details)."""
        try:
            return self._run(obj)
        except TaskError as exc:
            exc.msg = self._scrub(exc.msg)
            exc.args = (exc.msg,)
            if "image" in exc.details:
                exc.details["image"] = redact_image(exc.details["image"])
            exc.details.setdefault("attempts", self.attempts)
            raise

    def _run(self, obj: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        if obj is None:
            obj = self.client.get(self.path)
        if obj is None:
            raise ObjectFailed("%s does not exist: create it with dataSource type Upload first "
                               "(virtual_image with source.upload creates and uploads in one task)" % self.ref)
        ds_type = ((obj.get("spec") or {}).get("dataSource") or {}).get("type")
        if ds_type != "Upload":
            raise ObjectFailed("%s has dataSource type %s, not Upload: there is nothing to upload to"
                               % (self.ref, ds_type), image=obj)
        while True:
            self.tracker.update(obj)
            self._remember_urls(obj)
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
            elif can_send(obj, self.spent):
                if self.client.check_mode:
                    after = view(obj)
                    after["metadata"].setdefault("annotations", {})[ANNOTATION] = "(recorded after the upload)"
                    self.diff = {"before": view(obj), "after": after}
                    self.changed = True
                    return self._result(obj)
                obj = self._upload(obj)
                if self.sent is not None:
                    return self._result(obj)
            else:
                if self.client.check_mode:
                    self.changed = True
                    self.diff = {"before": view(obj), "after": view(obj)}
                    return self._result(obj)
                obj = self.waiter.wait(self._actionable(), self._remaining(), obj)

    # -- the phases ---------------------------------------------------------------------------------
    def _provisioned(self, obj: Mapping[str, Any]) -> Tuple[bool, Mapping[str, Any]]:
        """Ready: (True, obj) when the record matches the file; else the recreate rule (False, new image)."""
        sums, size = recorded(obj)
        differing: List[str] = []
        if size is not None and size != self.size:
            differing.append("size (image %d bytes, file %d bytes)" % (size, self.size))
        algos = algorithms_for(self.opts.checksum, sums)
        self.checksums = hash_file(self.opts.path, algos)[0]
        self._check_given(self.checksums, sent=0)
        mark = ((obj.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION)
        if not sums and size in (None, self.size) and sent_from(mark, self.opts.path, self.size):
            self.tracker.note("an earlier run was stopped after sending this file, before recording it: recorded now")
            return True, self._record(obj)
        if not sums:
            differing.append("checksum (the image has no recorded checksum: it was uploaded by something else)")
        for algo, value in sorted(sums.items()):
            if self.checksums.get(algo) != value:
                differing.append("checksum.%s (image %s, file %s)" % (algo, value, self.checksums.get(algo)))
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

    def _upload(self, obj: Mapping[str, Any]) -> Mapping[str, Any]:
        """Send the file once (503 and connect errors retried); the image as it is afterwards."""
        expected = self._expected(obj)
        url = self._choose_url(obj)
        self.used_url = url
        self.spent.update(upload_urls(obj).values())
        while True:
            self.attempts += 1
            sender = self.make_sender(url, self.opts.path, algorithms_for(expected), expected,
                                      context=self._tls(url), response_timeout=max(self._remaining(), 1.0),
                                      on_progress=_Progress(self.tracker, self.clock), before_last=self._mark_sending)
            try:
                outcome = sender.send()
            except ChecksumMismatch as exc:
                self.checksums = exc.computed
                self._check_given(exc.computed, exc.sent)
                raise ObjectFailed("%s: the file does not match the image's spec.dataSource.upload.checksum: %s; "
                                   "the upload was stopped before its last byte" % (self.ref, exc), image=obj)
            except TlsRejected as exc:
                raise ObjectFailed("%s: %s; nothing was sent" % (self.ref, exc), image=obj)
            except ConnectFailed as exc:
                fresh = self._retry_or_fail(obj, str(exc))
                if fresh is None:
                    continue
                return fresh
            except (Interrupted, FileChanged) as exc:
                self.tracker.note("upload failed: %s" % exc)
                return self._settle(self._remaining(), "upload failed: %s" % exc)
            if outcome.status == 200:
                self.sent = outcome
                self.checksums = outcome.checksums
                self.changed = True
                return self._finish(obj)
            if outcome.status == 503:
                fresh = self._retry_or_fail(obj, "the upload server is busy with another upload (503)")
                if fresh is None:
                    continue
                return fresh
            refused = "upload refused: HTTP %d %s" % (outcome.status, outcome.body[:200])
            self.tracker.note(refused)
            return self._settle(self._remaining(), refused)

    def _retry_or_fail(self, obj: Mapping[str, Any], why: str) -> Optional[Mapping[str, Any]]:
        """Back off; None to send again, or the image when its phase moved on (someone else finished)."""
        delay = min(0.5 * (2 ** min(self.attempts - 1, 5)), BACKOFF_MAX)
        if self.clock() + delay > self.deadline:
            raise ObjectFailed("%s: %s; gave up after %d attempts within wait_timeout" % (self.ref, why, self.attempts),
                               image=obj, attempts=self.attempts)
        self.tracker.note("%s; retrying in %.1fs" % (why, delay))
        self.sleep(delay)
        fresh = self.client.get(self.path)
        if fresh is None:
            raise ObjectFailed("%s was deleted while uploading" % self.ref)
        if cond.phase(fresh) in SENDABLE_PHASES and set(upload_urls(fresh).values()) & self.spent:
            return None
        return fresh

    def _settle(self, timeout: float, why: str) -> Mapping[str, Any]:
        """After a failed send: wait until the image leaves the URL we used behind.

        A timeout here says why the send failed: the platform never moved on, so that is the news."""
        try:
            result = self.waiter.wait(self._actionable(), max(timeout, 1.0))
        except WaitTimeout as exc:
            raise WaitTimeout("%s: %s; then %s" % (self.ref, self._scrub(why), exc.msg), **exc.details)
        if result is None:  # pragma: no cover - the predicate fails on deletion
            raise ObjectFailed("%s was deleted while uploading" % self.ref)
        return result

    def _mark_sending(self) -> None:
        """The mark in the record's place, before the last byte (and after the given checksums matched): a run killed
        between the last byte and the record leaves it, and the next run finishes the record (resume.py)."""
        self.client.patch(self.path, {"metadata": {"annotations": {ANNOTATION: sending_mark(self.opts.path, self.size)}}})

    def _record(self, obj: Mapping[str, Any]) -> Mapping[str, Any]:
        """Write what was uploaded (checksums and size) on the object; the object as patched."""
        value = record_value(self.checksums, self.size)
        patched = self.client.patch(self.path, {"metadata": {"annotations": {ANNOTATION: value}}})
        after = view(obj)
        after["metadata"].setdefault("annotations", {})[ANNOTATION] = value
        self.diff = {"before": view(obj), "after": after}
        self.changed = True
        return patched

    def _finish(self, obj: Mapping[str, Any]) -> Mapping[str, Any]:
        """Record what was uploaded, then wait for Ready when asked."""
        patched = self._record(obj)
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
        manifest = _fresh_manifest(obj)
        self.changed = True
        self.diff = {"before": view(obj), "after": view(manifest)}
        return recreate(self.client, self.waiter, self.path, obj, self._remaining(), self.tracker,
                        lambda: self.client.create(self.kind.collection_path(self.namespace), manifest), why)

    # -- helpers ------------------------------------------------------------------------------------
    def _actionable(self) -> Tuple[Callable[[Optional[Mapping[str, Any]]], Verdict], str]:
        return actionable(self.spent, self.rules.holds_data)

    def _expected(self, obj: Mapping[str, Any]) -> Dict[str, str]:
        """Given checksums plus those in the image's spec (the server checks those): verified before the last byte."""
        expected = _spec_checksums(obj)
        for algo, value in self.opts.checksum.items():
            if algo in expected and expected[algo] != value.lower():
                raise ObjectFailed("%s: checksum.%s is %s but the image's spec.dataSource.upload.checksum.%s is %s; "
                                   "nothing was sent" % (self.ref, algo, value.lower(), algo, expected[algo]), image=obj)
            expected[algo] = value.lower()
        return expected

    def _check_given(self, computed: Mapping[str, str], sent: int) -> None:
        wrong = mismatches(self.opts.checksum, dict(computed))
        if not wrong:
            return
        where = ("nothing was sent" if sent == 0 else
                 "the upload was stopped before its last byte, so nothing was stored (the platform marks an "
                 "interrupted upload Failed; the next run recreates it)")
        raise ObjectFailed("the file %s does not match the given checksum: %s; %s"
                           % (self.opts.path, "; ".join("checksum.%s is %s but the file's is %s" % w for w in wrong),
                              where), checksums=dict(computed))

    def _choose_url(self, obj: Mapping[str, Any]) -> str:
        if self.opts.upload_url:
            self.endpoint = "upload_url"
            return self.opts.upload_url
        urls = upload_urls(obj)
        external, in_cluster = urls.get("external"), urls.get("inCluster")
        choice = self.opts.endpoint
        if choice == "auto":
            if in_cluster and self.probe(in_cluster, self._tls(in_cluster), PROBE_TIMEOUT):
                choice = "in_cluster"
            else:
                choice = "external" if external else "in_cluster"
        url = external if choice == "external" else in_cluster
        if not url:
            raise ObjectFailed("%s has no %s upload URL (status.imageUploadURLs has: %s)"
                               % (self.ref, "external" if choice == "external" else "inCluster",
                                  ", ".join(sorted(urls)) or "none"), image=obj)
        self.endpoint = choice
        self.tracker.note("uploading %s to the %s endpoint" % (human_bytes(self.size), choice))
        return url

    def _tls(self, url: str) -> Any:
        return tls_context(self.opts.validate_certs, self.opts.ca_cert) if url.startswith("https:") else None

    def _remaining(self) -> float:
        return max(self.deadline - self.clock(), 0.0)

    def _remember_urls(self, obj: Mapping[str, Any]) -> None:
        for url in upload_urls(obj).values():
            if url not in self.known_urls:
                self.known_urls.append(url)

    def _scrub(self, text: str) -> str:
        for url in sorted(self.known_urls, key=len, reverse=True):
            text = text.replace(url, redact(url))
        return text

    def _result(self, obj: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        sent = self.sent
        result: Dict[str, Any] = {
            "changed": self.changed,
            "image": redact_image(without_managed_fields(obj)),
            "phase": cond.phase(obj),
            "progress": cond.progress(obj),
            "bytes": sent.sent if sent else 0,
            "seconds": round(sent.seconds, 3) if sent else 0.0,
            "throughput": round(sent.sent / sent.seconds, 1) if sent and sent.seconds > 0 else 0.0,
            "transfer_seconds": round(sent.transfer_seconds, 3) if sent else 0.0,
            "checksums": self.checksums,
            # who checked the bytes against a checksum: the module (given or spec checksums, before the last
            # byte) and the platform (only what the image's spec.dataSource.upload.checksum holds)
            "verified_by": [] if self.client.check_mode else (
                (["module"] if self.opts.checksum or _spec_checksums(obj or {}) else [])
                + (["platform"] if _spec_checksums(obj or {}) else [])),   # a dry run verifies nothing
            "attempts": self.attempts,
            "endpoint": self.endpoint,
            "phases": self.tracker.phases,
            "duration": round(self.clock() - self.started, 3),
            "diff": self.diff,
        }
        if self.opts.show_upload_url and self.used_url:
            result["upload_url"] = self.used_url
        return result


def _spec_checksums(obj: Mapping[str, Any]) -> Dict[str, str]:
    """spec.dataSource.upload.checksum (lower-case): what the platform verifies."""
    spec_sums = (((obj.get("spec") or {}).get("dataSource") or {}).get("upload") or {}).get("checksum") or {}
    return {algo: str(value).lower() for algo, value in spec_sums.items() if value}


def _fresh_manifest(obj: Mapping[str, Any]) -> Dict[str, Any]:
    """The image as a new object: same spec, labels, annotations (minus our record) and owners."""
    meta = obj.get("metadata") or {}
    new_meta: Dict[str, Any] = {"name": meta["name"]}
    for key in ("namespace", "labels", "ownerReferences"):
        if meta.get(key):
            new_meta[key] = copy.deepcopy(meta[key])
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k != ANNOTATION}
    if annotations:
        new_meta["annotations"] = annotations
    return {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": new_meta,
            "spec": copy.deepcopy(obj.get("spec") or {})}
