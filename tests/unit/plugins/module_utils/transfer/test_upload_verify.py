# -*- coding: utf-8 -*-
"""Checksums against the file: what is expected before the last byte, what a mismatch says, what differs."""

from __future__ import annotations

import hashlib
from typing import Any, Dict

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ObjectFailed
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload_verify import (
    check_given, content_differences, expected_checksums, file_checksums, verified_by,
)

CONTENT = b"disk bytes"
SHA1 = hashlib.sha1(CONTENT).hexdigest()


def with_spec(**sums: str) -> Dict[str, Any]:
    return {"spec": {"dataSource": {"type": "Upload", "upload": {"checksum": sums}}}}


def test_expected_is_the_spec_plus_the_given_ones_lower_case():
    assert expected_checksums(with_spec(md5="AA" * 16), {"sha1": "BB" * 20}, "VirtualImage ns/img") == {
        "md5": "aa" * 16, "sha1": "bb" * 20}
    assert expected_checksums(with_spec(md5="AA" * 16), {"md5": "aa" * 16}, "ref") == {"md5": "aa" * 16}
    assert expected_checksums(with_spec(md5="aa" * 16), {"md5": "AA" * 16}, "ref") == {"md5": "aa" * 16}


def test_a_given_checksum_contradicting_the_spec_is_refused_before_sending():
    with pytest.raises(ObjectFailed) as caught:
        expected_checksums(with_spec(md5="aa" * 16), {"md5": "bb" * 16}, "VirtualImage ns/img")
    assert caught.value.msg.startswith("VirtualImage ns/img: checksum.md5 is " + "bb" * 16)
    assert caught.value.msg.endswith("nothing was sent")


def test_check_given_refuses_a_mismatch_and_says_how_far_the_send_got():
    check_given({"sha1": SHA1.upper()}, {"sha1": SHA1}, 0, "/d")   # a match (any case) passes
    check_given({}, {"sha1": SHA1}, 0, "/d")
    with pytest.raises(ObjectFailed) as before:
        check_given({"sha1": "0" * 40}, {"sha1": SHA1}, 0, "/d")
    assert "checksum.sha1 is %s but the file's is %s" % ("0" * 40, SHA1) in before.value.msg
    assert before.value.msg.endswith("nothing was sent") and before.value.details["checksums"] == {"sha1": SHA1}
    with pytest.raises(ObjectFailed) as during:
        check_given({"sha1": "0" * 40}, {"sha1": SHA1}, 5, "/d")
    assert "stopped before its last byte" in during.value.msg


def test_the_file_is_hashed_in_the_algorithms_given_and_recorded(tmp_path):
    disk = tmp_path / "disk"
    disk.write_bytes(CONTENT)
    assert file_checksums(str(disk), {}, {"md5": "x"}) == {"md5": hashlib.md5(CONTENT).hexdigest()}
    assert set(file_checksums(str(disk), {"sha256": "y"}, {"md5": "x"})) == {"md5", "sha256"}


def test_differences_name_size_missing_record_and_each_differing_checksum():
    assert content_differences({"sha1": SHA1}, 10, 10, {"sha1": SHA1}) == []
    assert content_differences({"sha1": SHA1}, None, 10, {"sha1": SHA1}) == []
    assert content_differences({}, 9, 10, {"sha1": SHA1}) == [
        "size (image 9 bytes, file 10 bytes)",
        "checksum (the image has no recorded checksum: it was uploaded by something else)"]
    assert content_differences({"sha1": "0" * 40, "md5": "1" * 32}, 10, 10, {"sha1": SHA1}) == [
        "checksum.md5 (image %s, file None)" % ("1" * 32), "checksum.sha1 (image %s, file %s)" % ("0" * 40, SHA1)]


def test_verified_by_names_the_module_for_given_or_spec_sums_and_the_platform_for_spec_sums():
    assert verified_by({}, {}, False) == []
    assert verified_by(None, {"sha1": SHA1}, False) == ["module"]
    assert verified_by(with_spec(sha1=SHA1), {}, False) == ["module", "platform"]
    assert verified_by(with_spec(sha1=SHA1), {"sha1": SHA1}, True) == []
