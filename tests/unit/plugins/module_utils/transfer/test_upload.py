# -*- coding: utf-8 -*-
"""The upload state machine against a fake API client and a fake sender."""

from __future__ import annotations

import copy
import hashlib
import json
import os
from typing import Any, Dict, Iterator, List, Optional

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import (
    ImmutableSpec, ObjectFailed, ValidationError,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import VIRTUAL_IMAGE
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.upload import UploadOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.redaction import redact_image
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.validation import validate_upload
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.stream import (
    ConnectFailed, Interrupted, Outcome,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload import (
    ANNOTATION, UploadRunner, record_value, recorded,
)

EXTERNAL = "https://127.0.0.1:9443/upload/s3cr3ts3cr3ts3cr3ts3cr3ts3cr3t00"
IN_CLUSTER = "http://127.0.0.1:9080/upload"
CONTENT = b"disk bytes " * 100


def image(phase: str, annotations: Optional[Dict[str, str]] = None, urls: bool = True, generation: int = 1,
          reason: str = "", message: str = "", stored: Optional[int] = None) -> Dict[str, Any]:
    obj: Dict[str, Any] = {
        "apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualImage",
        "metadata": {"name": "img", "namespace": "ns", "generation": generation, "resourceVersion": "1",
                     "uid": "u1", "labels": {"a": "b"}, "annotations": dict(annotations or {})},
        "spec": {"dataSource": {"type": "Upload"}, "storage": "ContainerRegistry"},
        "status": {"phase": phase, "observedGeneration": generation, "progress": "0%",
                   "conditions": [{"type": "Ready", "status": "True" if phase == "Ready" else "False",
                                   "reason": reason or phase, "message": message, "observedGeneration": generation}]},
    }
    if urls:
        obj["status"]["imageUploadURLs"] = {"external": EXTERNAL, "inCluster": IN_CLUSTER}
    if stored is not None:
        obj["status"]["size"] = {"storedBytes": str(stored)}
    return obj


class FakeClient:
    """Holds one object; writes are recorded; ``created`` says what a create turns into."""

    def __init__(self, obj: Optional[Dict[str, Any]], check_mode: bool = False) -> None:
        self.obj = obj
        self.check_mode = check_mode
        self.writes: List[str] = []
        self.created = image("WaitForUserUpload")  # a new image gets new upload URLs
        self.created["status"]["imageUploadURLs"] = {"external": EXTERNAL[:-2] + "11", "inCluster": IN_CLUSTER + "2"}

    def get(self, path: str) -> Optional[Dict[str, Any]]:
        return copy.deepcopy(self.obj)

    def patch(self, path: str, patch: Dict[str, Any]) -> Dict[str, Any]:
        self.writes.append("patch")
        assert self.obj is not None
        self.obj["metadata"]["annotations"].update(patch["metadata"]["annotations"])
        return copy.deepcopy(self.obj)

    def delete(self, path: str) -> None:
        self.writes.append("delete")
        if not self.check_mode:
            self.obj = None

    def create(self, collection: str, body: Dict[str, Any]) -> Dict[str, Any]:
        self.writes.append("create")
        assert ANNOTATION not in (body["metadata"].get("annotations") or {})
        self.obj = copy.deepcopy(self.created)
        self.obj["metadata"]["labels"] = body["metadata"].get("labels")
        return copy.deepcopy(self.obj)

    def watch(self, *args: Any, **kwargs: Any) -> Iterator[Dict[str, Any]]:
        yield {"type": "MODIFIED", "object": copy.deepcopy(self.obj)}


class FakeSender:
    """Answers each send from a script; a callable entry may change the client's object first."""

    def __init__(self, client: FakeClient, script: List[Any]) -> None:
        self.client = client
        self.script = script
        self.urls: List[str] = []

    def __call__(self, url: str, path: str, algorithms: List[str], given: Dict[str, str], **kwargs: Any) -> Any:
        self.urls.append(url)
        sender = self

        class One:
            def send(self) -> Outcome:
                step = sender.script.pop(0)
                if isinstance(step, Exception):
                    raise step
                status, next_phase = step
                if status == 200:
                    kwargs["before_last"]()
                if next_phase:
                    sender.client.obj = image(next_phase, sender.client.obj["metadata"]["annotations"],
                                              reason="ProvisioningFailedTerminally" if next_phase == "Failed" else "",
                                              message="source image size mismatch" if next_phase == "Failed" else "")
                sums = {algo: hashlib.new(algo, CONTENT).hexdigest() for algo in algorithms}
                return Outcome(status, "", len(CONTENT), 0.5, sums if status == 200 else {})
        return One()


@pytest.fixture
def disk(tmp_path):
    path = tmp_path / "disk.qcow2"
    path.write_bytes(CONTENT)
    return str(path)


def runner(client: FakeClient, sender: FakeSender, disk: str, probe: bool = True, **opts: Any) -> UploadRunner:
    options = UploadOptions(path=disk, checksum=opts.pop("checksum", {}), **opts)
    return UploadRunner(client, VIRTUAL_IMAGE, "img", "ns", options, Tracker("VirtualImage ns/img"),
                        sleep=lambda s: None, sender=sender, prober=lambda *a: probe)


def sha256() -> str:
    return hashlib.sha256(CONTENT).hexdigest()


def sha1() -> str:
    return hashlib.sha1(CONTENT).hexdigest()


def test_waiting_image_is_uploaded_recorded_and_redacted(disk):
    client = FakeClient(image("WaitForUserUpload"))
    sender = FakeSender(client, [(200, "Ready")])
    result = runner(client, sender, disk).run()
    assert result["changed"] is True and result["phase"] == "Ready"
    assert result["bytes"] == len(CONTENT) and result["throughput"] == len(CONTENT) / 0.5
    assert result["checksums"] == {"sha1": sha1()} and result["endpoint"] == "in_cluster"
    assert sender.urls == [IN_CLUSTER]
    record = json.loads(client.obj["metadata"]["annotations"][ANNOTATION])
    assert record == {"sha1": sha1(), "size": len(CONTENT)}
    text = json.dumps(result)
    assert "s3cr3t" not in text and IN_CLUSTER not in text and "upload_url" not in result


def test_auto_falls_back_to_external_and_show_upload_url_returns_it(disk):
    client = FakeClient(image("WaitForUserUpload"))
    sender = FakeSender(client, [(200, "Ready")])
    result = runner(client, sender, disk, probe=False, show_upload_url=True).run()
    assert sender.urls == [EXTERNAL] and result["endpoint"] == "external" and result["upload_url"] == EXTERNAL


def test_ready_image_with_matching_record_sends_nothing(disk):
    """The record of an image uploaded before (sha256 then) still matches: it names its algorithm."""
    client = FakeClient(image("Ready", {ANNOTATION: record_value({"sha256": sha256()}, len(CONTENT))}))
    sender = FakeSender(client, [])
    result = runner(client, sender, disk).run()
    assert result["changed"] is False and result["bytes"] == 0 and sender.urls == [] and client.writes == []


def test_ready_image_with_other_content_follows_the_recreate_rule(disk):
    other = {ANNOTATION: record_value({"sha256": "0" * 64}, len(CONTENT))}
    client = FakeClient(image("Ready", other))
    with pytest.raises(ImmutableSpec) as caught:
        runner(client, FakeSender(client, []), disk).run()
    assert "checksum.sha256" in caught.value.msg and "recreate: true" in caught.value.msg
    assert client.writes == []
    sender = FakeSender(client, [(200, "Ready")])
    result = runner(client, sender, disk, recreate=True).run()
    assert client.writes == ["delete", "create", "patch", "patch"] and result["changed"] is True  # mark, record
    assert client.obj["metadata"]["labels"] == {"a": "b"}  # the recreated image keeps its labels


def test_size_and_missing_record_are_differences(disk):
    client = FakeClient(image("Ready", stored=5))
    with pytest.raises(ImmutableSpec) as caught:
        runner(client, FakeSender(client, []), disk).run()
    fields = caught.value.details["differing_fields"]
    assert any(f.startswith("size") for f in fields) and any("no recorded checksum" in f for f in fields)


def test_wrong_given_checksum_on_a_ready_image_fails_and_sends_nothing(disk):
    client = FakeClient(image("Ready", {ANNOTATION: record_value({"sha256": sha256()}, len(CONTENT))}))
    sender = FakeSender(client, [])
    with pytest.raises(ObjectFailed) as caught:
        runner(client, sender, disk, checksum={"md5": "0" * 32}).run()
    assert "checksum.md5" in caught.value.msg and "nothing was sent" in caught.value.msg and sender.urls == []


def test_failed_image_without_retries_fails_with_the_platform_message(disk):
    client = FakeClient(image("Failed", urls=False, reason="WaitForUserUploadTimeout",
                              message="The image was not uploaded within 10 minutes."))
    with pytest.raises(ObjectFailed) as caught:
        runner(client, FakeSender(client, []), disk, retries=0).run()
    assert "not uploaded within 10 minutes" in caught.value.msg and "retries" in caught.value.msg


def test_interrupted_upload_is_retried_by_recreating(disk):
    client = FakeClient(image("WaitForUserUpload"))

    def fail_then_break() -> Exception:
        return Interrupted("the upload was interrupted after 10 bytes: reset", 10)

    class Interrupting(FakeSender):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            one = super().__call__(*args, **kwargs)
            if len(self.urls) == 1:
                client.obj = image("Failed", urls=False, reason="ProvisioningFailedTerminally",
                                   message="source image size mismatch")
            return one

    sender = Interrupting(client, [fail_then_break(), (200, "Ready")])
    result = runner(client, sender, disk, retries=1).run()
    assert result["phase"] == "Ready" and result["attempts"] == 2
    assert client.writes == ["delete", "create", "patch", "patch"]  # the mark before the last byte, the record
    assert [p["phase"] for p in result["phases"]][:2] == ["WaitForUserUpload", "Failed"]


def test_busy_and_unreachable_are_retried_with_backoff(disk):
    client = FakeClient(image("WaitForUserUpload"))
    sender = FakeSender(client, [(503, None), ConnectFailed("cannot connect"), (200, "Ready")])
    result = runner(client, sender, disk).run()
    assert result["attempts"] == 3 and result["phase"] == "Ready" and client.writes == ["patch", "patch"]


def test_giving_up_never_shows_the_url(disk):
    client = FakeClient(image("WaitForUserUpload"))
    sender = FakeSender(client, [ConnectFailed("cannot reach %s" % EXTERNAL)] * 3)
    with pytest.raises(ObjectFailed) as caught:
        runner(client, sender, disk, probe=False, wait_timeout=0.0).run()
    assert "s3cr3t" not in caught.value.msg and "<redacted>" in caught.value.msg
    assert "s3cr3t" not in json.dumps(caught.value.details.get("image"))


def test_check_mode_sends_and_writes_nothing(disk):
    client = FakeClient(image("WaitForUserUpload"), check_mode=True)
    sender = FakeSender(client, [])
    result = runner(client, sender, disk).run()
    assert result["changed"] is True and sender.urls == [] and client.writes == []
    assert ANNOTATION in result["diff"]["after"]["metadata"]["annotations"]


def test_records_and_validation(disk, tmp_path):
    obj = image("Ready", stored=7)
    obj["spec"]["dataSource"]["upload"] = {"checksum": {"md5": "AB" * 16}}
    assert recorded(obj) == ({"md5": "ab" * 16}, 7)
    obj["metadata"]["annotations"][ANNOTATION] = record_value({"sha1": "c" * 40}, 9)
    assert recorded(obj) == ({"sha1": "c" * 40}, 9)
    assert redact_image(image("WaitForUserUpload"))["status"]["imageUploadURLs"]["external"] == \
        "https://127.0.0.1:9443/<redacted>"
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(ValidationError, match="empty"):
        validate_upload(UploadOptions(path=str(empty), checksum={}))
    with pytest.raises(ValidationError, match="checksum.sha256 must be 64 hex"):
        validate_upload(UploadOptions(path=disk, checksum={"sha256": "abc"}))
    with pytest.raises(ValidationError) as caught:
        validate_upload(UploadOptions(path=disk, checksum={}, upload_url="ftp://x/upload/SECRET"))
    assert "SECRET" not in caught.value.msg


def test_a_run_killed_between_the_last_byte_and_the_record_is_finished_by_the_next(disk):
    """Before the first byte the record's place holds a mark naming the file: a Ready image with the mark of this
    very file only gets its record; the mark of another file (or of this one changed since) is no proof."""
    client = FakeClient(image("WaitForUserUpload"))

    class KilledAfterTheLastByte(FakeSender):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            kwargs["before_last"]()
            mark = client.obj["metadata"]["annotations"][ANNOTATION]
            client.obj = image("Ready", {ANNOTATION: mark}, stored=len(CONTENT))
            raise KeyboardInterrupt("killed")

    with pytest.raises(KeyboardInterrupt):
        runner(client, KilledAfterTheLastByte(client, []), disk).run()
    assert client.writes == ["patch"] and "sending" in client.obj["metadata"]["annotations"][ANNOTATION]
    marked = copy.deepcopy(client.obj)
    sender = FakeSender(client, [])
    result = runner(client, sender, disk).run()
    assert sender.urls == [] and result["changed"] is True and client.writes == ["patch", "patch"]
    assert json.loads(client.obj["metadata"]["annotations"][ANNOTATION]) == {"sha1": hashlib.sha1(CONTENT).hexdigest(),
                                                                             "size": len(CONTENT)}
    client.obj = marked
    os.utime(disk, ns=(1, 1))  # the same path, changed since: not what was sent
    with pytest.raises(ImmutableSpec):
        runner(client, FakeSender(client, []), disk).run()
