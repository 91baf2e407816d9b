# -*- coding: utf-8 -*-
"""The upload's record: written, read back, and kept off a recreated object."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.resume import sent_from
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload_record import (
    ANNOTATION, PLANNED, RecordWriter, fresh_manifest, record_diff, record_text, record_value, recorded,
)


def image(annotations: Dict[str, str], spec_sums: Dict[str, str] = None, stored: str = None) -> Dict[str, Any]:
    obj: Dict[str, Any] = {
        "apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualImage",
        "metadata": {"name": "img", "namespace": "ns", "labels": {"a": "b"}, "uid": "u1",
                     "annotations": dict(annotations)},
        "spec": {"dataSource": {"type": "Upload"}}, "status": {"phase": "Ready"},
    }
    if spec_sums:
        obj["spec"]["dataSource"]["upload"] = {"checksum": spec_sums}
    if stored is not None:
        obj["status"]["size"] = {"storedBytes": stored}
    return obj


class PatchingClient:
    """Applies annotation patches to one object and keeps them in order."""

    def __init__(self, obj: Dict[str, Any]) -> None:
        self.obj = obj
        self.patches: List[Tuple[str, Dict[str, Any]]] = []

    def patch(self, path: str, patch: Dict[str, Any]) -> Dict[str, Any]:
        self.patches.append((path, patch))
        self.obj["metadata"]["annotations"].update(patch["metadata"]["annotations"])
        return json.loads(json.dumps(self.obj))


def test_a_record_reads_back_as_written_with_its_checksums_lower_case():
    value = record_value({"sha256": "AB" * 32, "md5": "cd" * 16}, 42)
    assert value == '{"md5":"%s","sha256":"%s","size":42}' % ("cd" * 16, "AB" * 32)
    assert recorded(image({ANNOTATION: value})) == ({"md5": "cd" * 16, "sha256": "ab" * 32}, 42)


def test_without_a_record_the_spec_checksums_and_stored_bytes_stand_in():
    obj = image({ANNOTATION: "not json"}, spec_sums={"sha1": "EF" * 20}, stored="7")
    assert recorded(obj) == ({"sha1": "ef" * 20}, 7)
    assert recorded(image({ANNOTATION: "[1, 2]"})) == ({}, None)
    assert recorded(image({ANNOTATION: '{"crc": "1", "size": 3}'})) == ({}, 3)  # unknown algorithms are no record


def test_the_writer_marks_this_file_then_records_it(tmp_path):
    disk = tmp_path / "disk.img"
    disk.write_bytes(b"12345")
    obj = image({})
    client = PatchingClient(obj)
    writer = RecordWriter(client, "/apis/x/img", str(disk), 5)  # type: ignore[arg-type]
    writer.mark_sending()
    assert sent_from(record_text(obj), str(disk), 5)
    before = json.loads(json.dumps(obj))
    patched, diff = writer.write(before, {"sha1": "aa" * 20})
    assert record_text(patched) == record_value({"sha1": "aa" * 20}, 5)
    assert [patch[0] for patch in client.patches] == ["/apis/x/img", "/apis/x/img"]
    assert diff["after"]["metadata"]["annotations"][ANNOTATION] == record_value({"sha1": "aa" * 20}, 5)
    assert diff["before"]["metadata"]["annotations"][ANNOTATION] == record_text(before)


def test_a_dry_run_diff_shows_the_record_to_come_and_a_recreated_object_carries_none():
    obj = image({ANNOTATION: record_value({"sha1": "aa" * 20}, 5), "keep": "me"})
    assert record_diff(obj)["after"]["metadata"]["annotations"][ANNOTATION] == PLANNED
    manifest = fresh_manifest(obj)
    assert manifest["metadata"] == {"name": "img", "namespace": "ns", "labels": {"a": "b"},
                                    "annotations": {"keep": "me"}}
    assert "status" not in manifest and manifest["spec"] == obj["spec"] and manifest["spec"] is not obj["spec"]
