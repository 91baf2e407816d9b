# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Sending the file into an object that waits for it: which URL, how many attempts, and what follows a failed send.

Apart from the runner because a send has its own errors to sort (busy and unreachable are retried; a checksum or
TLS refusal ends the task; an interrupted or refused send leaves the decision to the object's next phase).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Set, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.waiter import Verdict, Waiter
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ObjectFailed, WaitTimeout
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.hashing import algorithms_for
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.upload import UploadOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.stream import (
    ChecksumMismatch, ConnectFailed, FileChanged, Interrupted, Outcome, TlsRejected, tls_context,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload_progress import (
    SendProgress, human_bytes,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload_rules import (
    SENDABLE_PHASES, actionable, upload_urls,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload_verify import (
    check_given, expected_checksums,
)

PROBE_TIMEOUT = 3.0
BACKOFF_MAX = 10.0
Goal = Tuple[Callable[[Optional[Mapping[str, Any]]], Verdict], str]


class UploadSend:  # pylint: disable=too-many-instance-attributes
    """Sends one file into one object; keeps what the result reports of it (attempts, endpoint, the URL used) and
    the URLs already sent to (``spent``), which a stale WaitForUserUpload must not draw a second send to."""

    def __init__(self, client: Client, ref: str, path: str, waiter: Waiter, tracker: Tracker, opts: UploadOptions,
                 size: int, holds_data: Tuple[str, ...], before_last: Callable[[], None],
                 remaining: Callable[[], float], scrub: Callable[[str], str], clock: Callable[[], float],
                 sleep: Callable[[float], None], sender: Callable[..., Any], prober: Callable[..., bool]) -> None:
        self.client = client
        self.ref = ref
        self.path = path
        self.waiter = waiter
        self.tracker = tracker
        self.opts = opts
        self.size = size
        self.holds_data = holds_data
        self.before_last = before_last
        self.remaining = remaining
        self.scrub = scrub
        self.clock = clock
        self.sleep = sleep
        self.make_sender = sender
        self.probe = prober
        self.attempts = 0
        self.endpoint: Optional[str] = None
        self.used_url: Optional[str] = None
        self.spent: Set[str] = set()

    def goal(self) -> Goal:
        """The waiter goal of this upload: a phase it can act on (URLs already sent to do not count)."""
        return actionable(self.spent, self.holds_data)

    def send(self, obj: Mapping[str, Any]) -> Tuple[Optional[Outcome], Mapping[str, Any]]:
        """Send the file once (503 and connect errors retried): (the outcome, ``obj``) when the server took it all,
        else (None, the object as it is afterwards)."""
        expected = expected_checksums(obj, self.opts.checksum, self.ref)
        url = self._choose_url(obj)
        self.used_url = url
        self.spent.update(upload_urls(obj).values())
        while True:
            self.attempts += 1
            sender = self.make_sender(url, self.opts.path, algorithms_for(expected), expected,
                                      context=self._tls(url), response_timeout=max(self.remaining(), 1.0),
                                      on_progress=SendProgress(self.tracker, self.clock), before_last=self.before_last)
            try:
                outcome = sender.send()
            except ChecksumMismatch as exc:
                check_given(self.opts.checksum, exc.computed, exc.sent, self.opts.path)
                raise ObjectFailed("%s: the file does not match the image's spec.dataSource.upload.checksum: %s; "
                                   "the upload was stopped before its last byte" % (self.ref, exc), image=obj)
            except TlsRejected as exc:
                raise ObjectFailed("%s: %s; nothing was sent" % (self.ref, exc), image=obj)
            except ConnectFailed as exc:
                fresh = self._retry_or_fail(obj, str(exc))
                if fresh is None:
                    continue
                return None, fresh
            except (Interrupted, FileChanged) as exc:
                self.tracker.note("upload failed: %s" % exc)
                return None, self._settle("upload failed: %s" % exc)
            if outcome.status == 200:
                return outcome, obj
            if outcome.status == 503:
                fresh = self._retry_or_fail(obj, "the upload server is busy with another upload (503)")
                if fresh is None:
                    continue
                return None, fresh
            refused = "upload refused: HTTP %d %s" % (outcome.status, outcome.body[:200])
            self.tracker.note(refused)
            return None, self._settle(refused)

    def _retry_or_fail(self, obj: Mapping[str, Any], why: str) -> Optional[Mapping[str, Any]]:
        """Back off; None to send again, or the image when its phase moved on (someone else finished)."""
        delay = min(0.5 * (2 ** min(self.attempts - 1, 5)), BACKOFF_MAX)
        if delay > self.remaining():
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

    def _settle(self, why: str) -> Mapping[str, Any]:
        """After a failed send: wait until the image leaves the URL we used behind.

        A timeout here says why the send failed: the platform never moved on, so that is the news."""
        try:
            result = self.waiter.wait(self.goal(), max(self.remaining(), 1.0))
        except WaitTimeout as exc:
            raise WaitTimeout("%s: %s; then %s" % (self.ref, self.scrub(why), exc.msg), **exc.details)
        if result is None:  # pragma: no cover - the predicate fails on deletion
            raise ObjectFailed("%s was deleted while uploading" % self.ref)
        return result

    def _choose_url(self, obj: Mapping[str, Any]) -> str:
        """upload_url when given; else the endpoint option's URL ("auto": in-cluster when it answers a probe)."""
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
