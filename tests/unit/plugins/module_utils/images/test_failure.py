# -*- coding: utf-8 -*-
"""explain_failure: what a failed import's message leaves out, said after it."""
from __future__ import annotations

from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.failure import (
    FAILED_IS_FINAL, explain_failure,
)


def image(phase="Failed", url="https://user:pw@files.example.com/a.qcow2?sig=abc", kind="VirtualImage"):
    return {"kind": kind, "spec": {"dataSource": {"type": "HTTP", "http": {"url": url}}}, "status": {"phase": phase}}


def test_an_http_error_names_the_url_without_credentials_or_query():
    msg = explain_failure(image(), "VirtualImage n/a: phase Failed: expected status code 200, got 404")
    assert "the URL https://files.example.com/a.qcow2?<redacted> answered HTTP 404" in msg
    assert "pw" not in msg and "sig=abc" not in msg
    assert msg.endswith(FAILED_IS_FINAL + ")")


def test_a_mismatch_labels_both_digests():
    msg = explain_failure(image(), "x: phase Failed: source streaming error: sha256 sum mismatch: aa11 != bb22")
    assert "expected sha256 aa11 (the task's checksum), the downloaded file's sha256 is bb22" in msg


def test_v1_10s_swapped_mismatch_text_is_labelled_the_right_way_round():
    msg = explain_failure(image(), "x: phase Failed: source streaming error: bb22 sum mismatch: sha256 != aa11")
    assert "expected sha256 aa11 (the task's checksum), the downloaded file's sha256 is bb22" in msg


def test_only_failed_images_get_notes_and_disks_no_promise_of_a_remake():
    assert explain_failure(image(phase="ImageLost"), "m") == "m"
    disk = explain_failure(image(kind="VirtualDisk"), "d: phase Failed: expected status code 200, got 500")
    assert "answered HTTP 500" in disk and FAILED_IS_FINAL not in disk
    assert explain_failure(image(kind="VirtualDisk"), "d: phase Failed: other") == "d: phase Failed: other"
