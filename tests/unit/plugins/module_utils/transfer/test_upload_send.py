# -*- coding: utf-8 -*-
"""One send of the file: which URL, which errors are retried with backoff, which end the task."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ObjectFailed
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.upload import UploadOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.stream import (
    ChecksumMismatch, ConnectFailed, Interrupted, Outcome, TlsRejected,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload_send import UploadSend

EXTERNAL = "https://203.0.113.1/upload/token"
IN_CLUSTER = "http://10.0.0.1/upload"
OK = Outcome(200, "", 5, 0.5, {"sha1": "aa" * 20})


def image(phase: str = "WaitForUserUpload", **urls: str) -> Dict[str, Any]:
    return {"metadata": {"name": "img", "generation": 1},
            "spec": {"dataSource": {"type": "Upload"}},
            "status": {"phase": phase, "observedGeneration": 1,
                       "imageUploadURLs": urls or {"external": EXTERNAL, "inCluster": IN_CLUSTER}}}


class Client:
    def __init__(self, obj: Optional[Dict[str, Any]]) -> None:
        self.obj = obj

    def get(self, path: str) -> Optional[Dict[str, Any]]:
        return self.obj


class Waiter:
    def __init__(self, answer: Dict[str, Any]) -> None:
        self.answer = answer
        self.timeouts: List[float] = []

    def wait(self, goal: Any, timeout: float, obj: Any = None) -> Dict[str, Any]:
        self.timeouts.append(timeout)
        return self.answer


def make(script: List[Any], client: Client, remaining: float = 100.0, probe: bool = True,
         waiter: Optional[Waiter] = None, **opts: Any) -> Any:
    """An UploadSend whose sends answer from ``script``; it records the URLs and sleeps it was asked for."""
    calls: Dict[str, List[Any]] = {"urls": [], "sleeps": []}

    def sender(url: str, path: str, algorithms: List[str], given: Dict[str, str], **kwargs: Any) -> Any:
        calls["urls"].append(url)
        step = script.pop(0)

        class One:
            def send(self) -> Outcome:
                if isinstance(step, Exception):
                    raise step
                return step
        return One()

    options = UploadOptions(path="/disk", checksum=opts.pop("checksum", {}), **opts)
    send = UploadSend(client, "VirtualImage ns/img", "/img", waiter, Tracker("img"), options,  # type: ignore[arg-type]
                      5, ("Ready",), lambda: None, lambda: remaining, lambda text: text.replace(EXTERNAL, "<url>"),
                      lambda: 0.0, calls["sleeps"].append, sender, lambda *a: probe)
    return send, calls


def test_a_busy_server_is_retried_after_a_growing_backoff_until_it_takes_the_file():
    client = Client(image())
    send, calls = make([Outcome(503, "", 0, 0.1, {}), ConnectFailed("refused"), OK], client)
    assert send.send(image()) == (OK, image())
    assert calls["sleeps"] == [0.5, 1.0] and calls["urls"] == [IN_CLUSTER] * 3
    assert send.attempts == 3 and send.endpoint == "in_cluster" and send.used_url == IN_CLUSTER
    assert send.spent == {EXTERNAL, IN_CLUSTER}


def test_no_retry_when_the_backoff_would_pass_the_deadline():
    send, calls = make([Outcome(503, "", 0, 0.1, {})], Client(image()), remaining=0.4)
    with pytest.raises(ObjectFailed, match="gave up after 1 attempts within wait_timeout"):
        send.send(image())
    assert calls["sleeps"] == []


def test_an_object_that_moved_on_during_the_backoff_is_returned_unsent():
    ready = image("Ready")
    ready["status"]["imageUploadURLs"] = {}
    send = make([ConnectFailed("refused")], Client(ready))[0]
    assert send.send(image()) == (None, ready)


def test_an_interrupted_send_waits_for_the_next_phase():
    failed = image("Failed")
    waiter = Waiter(failed)
    send = make([Interrupted("reset", 3)], Client(image()), remaining=0.2, waiter=waiter)[0]
    assert send.send(image()) == (None, failed) and waiter.timeouts == [1.0]


def test_auto_takes_external_when_in_cluster_does_not_answer_and_a_missing_url_is_refused():
    send, calls = make([OK], Client(image()), probe=False)
    send.send(image())
    assert calls["urls"] == [EXTERNAL] and send.endpoint == "external"
    send = make([], Client(image()), endpoint="in_cluster")[0]
    with pytest.raises(ObjectFailed, match="has no inCluster upload URL .*has: external"):
        send.send(image(external=EXTERNAL))


def test_a_checksum_mismatch_and_a_rejected_certificate_end_the_task():
    mismatch = ChecksumMismatch("md5 differs", 3, {"sha1": "bb" * 20})
    send = make([mismatch], Client(image()), checksum={"sha1": "aa" * 20})[0]
    with pytest.raises(ObjectFailed, match="does not match the given checksum.*stopped before its last byte"):
        send.send(image())
    send = make([mismatch], Client(image()))[0]
    with pytest.raises(ObjectFailed, match="spec.dataSource.upload.checksum: md5 differs"):
        send.send(image())
    send = make([TlsRejected("certificate verify failed")], Client(image()))[0]
    with pytest.raises(ObjectFailed, match="certificate verify failed; nothing was sent"):
        send.send(image())
