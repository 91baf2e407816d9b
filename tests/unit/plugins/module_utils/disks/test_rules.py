# -*- coding: utf-8 -*-
"""disks/rules.py: the disk's lock in the one decision: the size grows in place (read by value, bounded by the
capacity), nothing else changes once the disk holds data, and recreating takes every wanted value."""

from __future__ import annotations

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.rules import DISK_LOCK
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.decision import (
    KEEP, PATCH, RECREATE, REFUSE, decide,
)
from ansible_collections.deckhouse.virtualization.tests.unit.helpers.disks import live_disk, wanted_disk


@pytest.mark.parametrize("size,verb", [("10Gi", KEEP), ("10240Mi", KEEP), ("20Gi", PATCH), ("5Gi", REFUSE)])
def test_one_decision_grows_a_provisioned_disk_and_refuses_a_shrink(size, verb):
    decision = decide(live_disk(), wanted_disk(size), "VirtualDisk ns/d", True, "recreate: true", lock=DISK_LOCK)
    assert decision.verb == verb
    if verb == PATCH:
        assert decision.patch == {"spec": {"persistentVolumeClaim": {"size": "20Gi"}}}
    if verb == REFUSE:
        assert "size 5Gi is smaller than the disk's size 10Gi" in decision.message


def test_other_changes_lock_once_provisioned_and_recreate_takes_every_value():
    http = {"type": "HTTP", "http": {"url": "https://x/b"}}
    refused = decide(live_disk(), wanted_disk(source=http), "VirtualDisk ns/d", False, "recreate: true", lock=DISK_LOCK)
    assert refused.verb == REFUSE and refused.differing == ["spec.dataSource"]
    again = decide(live_disk(), wanted_disk("5Gi", http), "VirtualDisk ns/d", True, "recreate: true", lock=DISK_LOCK)
    assert again.verb == RECREATE
    early = decide(live_disk(phase="WaitForFirstConsumer"), wanted_disk(source=http), "r", False, "", lock=DISK_LOCK)
    assert early.verb == PATCH  # before it holds data the platform takes spec changes


def sourced_disk(capacity="4Mi", spec_size=None):
    """A Ready disk made from an image, without a size: no spec.persistentVolumeClaim, the source's capacity."""
    obj = live_disk(source={"type": "ObjectRef", "objectRef": {"kind": "VirtualImage", "name": "base"}})
    obj["spec"].pop("persistentVolumeClaim")
    if spec_size:
        obj["spec"]["persistentVolumeClaim"] = {"size": spec_size}
    obj["status"]["capacity"] = capacity
    return obj


@pytest.mark.parametrize("size,verb,message", [
    ("64Mi", PATCH, ""), ("4Mi", PATCH, ""),
    ("1Mi", REFUSE, "size 1Mi is smaller than the disk's size 4Mi"),
])
def test_a_disk_made_without_a_size_grows_from_its_capacity_in_place(size, verb, message):
    src = {"type": "ObjectRef", "objectRef": {"kind": "VirtualImage", "name": "base"}}
    decision = decide(sourced_disk(), wanted_disk(size, src), "VirtualDisk ns/d", True, "recreate: true", lock=DISK_LOCK)
    assert decision.verb == verb, decision
    assert decision.differing == ["spec.persistentVolumeClaim.size"]
    if verb == PATCH:
        assert decision.patch == {"spec": {"persistentVolumeClaim": {"size": size}}}
    else:
        assert message in decision.message and "recreate" not in decision.message


def test_the_capacity_bounds_a_spec_that_says_less_than_the_disk_holds():
    src = {"type": "ObjectRef", "objectRef": {"kind": "VirtualImage", "name": "base"}}
    refused = decide(sourced_disk(capacity="8Mi", spec_size="2Mi"), wanted_disk("4Mi", src), "r", False, "", lock=DISK_LOCK)
    assert refused.verb == REFUSE and "the disk's size 8Mi" in refused.message


def test_a_locked_parent_with_an_in_place_child_still_locks_the_rest():
    src = {"type": "ObjectRef", "objectRef": {"kind": "VirtualImage", "name": "base"}}
    want = wanted_disk("64Mi", src)
    want["spec"]["persistentVolumeClaim"]["storageClassName"] = "fast"
    decision = decide(sourced_disk(), want, "VirtualDisk ns/d", False, "recreate: true", lock=DISK_LOCK)
    assert decision.verb == REFUSE
    assert decision.differing == ["spec.persistentVolumeClaim"]
    assert "(the data on the disk is lost)" in decision.message
