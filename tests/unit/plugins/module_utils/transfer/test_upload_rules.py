# -*- coding: utf-8 -*-
"""Reading an object's upload phase and URLs: when a send may start and when the runner may act."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.waiter import DONE, FAIL, WAIT
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ObjectFailed
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload_rules import (
    actionable, can_send, upload_urls, waiting_for_upload,
)

URL = "https://203.0.113.1/upload/token"


def image(phase: str, ds_type: str = "Upload", **urls: str) -> Dict[str, Any]:
    return {"metadata": {"name": "img", "generation": 2},
            "spec": {"dataSource": {"type": ds_type}},
            "status": {"phase": phase, "observedGeneration": 2, "imageUploadURLs": urls}}


def test_only_published_urls_not_yet_sent_to_allow_a_send():
    waiting = image("WaitForUserUpload", external=URL, inCluster="")
    assert upload_urls(waiting) == {"external": URL}
    assert can_send(waiting, set()) and can_send(image("Provisioning", external=URL), set())
    assert not can_send(waiting, {URL})
    assert not can_send(image("WaitForUserUpload"), set())
    assert not can_send(image("Ready", external=URL), set())
    stale = image("WaitForUserUpload", external=URL)
    stale["status"]["observedGeneration"] = 1
    assert not can_send(stale, set())


def test_the_goal_is_met_by_a_phase_the_runner_acts_on_and_fails_on_deletion():
    predicate = actionable({URL}, ("Ready",))[0]
    assert predicate(image("Ready")).state == DONE and predicate(image("Failed")).state == DONE
    assert predicate(image("WaitForUserUpload", external=URL)).state == WAIT
    assert predicate(image("WaitForUserUpload", external=URL + "2")).state == DONE
    assert predicate(None).state == FAIL
    deleting = image("Ready")
    deleting["metadata"]["deletionTimestamp"] = "now"
    assert predicate(deleting).state == FAIL


def test_only_an_existing_upload_object_is_uploaded_to():
    obj = image("Ready")
    assert waiting_for_upload(obj, "VirtualImage ns/img") is obj
    with pytest.raises(ObjectFailed, match="does not exist"):
        waiting_for_upload(None, "VirtualImage ns/img")
    with pytest.raises(ObjectFailed, match="dataSource type HTTP, not Upload"):
        waiting_for_upload(image("Ready", "HTTP"), "VirtualImage ns/img")
