# -*- coding: utf-8 -*-
"""disks/runner.py: what a disk task refuses before any write (an attached disk, a missing snapshot or storage
class) and what it reports in check mode."""

from __future__ import annotations

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import (
    ImmutableSpec, ValidationError,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.request import disk_request
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.runner import DiskRunner, InUse
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.disk import DiskOptions
from ansible_collections.deckhouse.virtualization.tests.unit.helpers.clients import ObjectsClient
from ansible_collections.deckhouse.virtualization.tests.unit.helpers.disks import live_disk


def run_disk(client, **options):
    options = dict({"name": "d", "namespace": "ns", "wait": False}, **options)
    return DiskRunner(client, disk_request(DiskOptions(**options)), Tracker("VirtualDisk ns/d")).run()


def test_an_attached_disk_is_neither_deleted_nor_recreated_without_a_write():
    client = ObjectsClient({("virtualdisks", "d"): live_disk(attached=["web"])})
    with pytest.raises(InUse) as err:
        run_disk(client, state="absent")
    assert 'attached to VirtualMachine "web" (mounted)' in err.value.msg and "force: true" in err.value.msg
    client.objects[("virtualimages", "other")] = {"metadata": {"name": "other"}}
    with pytest.raises(ImmutableSpec) as err:
        run_disk(client, size="10Gi", recreate=True, source={"object_ref": {"kind": "VirtualImage", "name": "other"}})
    assert "never recreated" in err.value.msg and client.writes == []
    assert run_disk(client, state="absent", force=True)["changed"] is True
    assert client.writes == [("DELETE", "/apis/virtualization.deckhouse.io/v1alpha2/namespaces/ns/virtualdisks/d")]


def test_an_unknown_snapshot_is_refused_before_any_write():
    client = ObjectsClient({})
    with pytest.raises(ValidationError) as err:
        run_disk(client, source={"object_ref": {"kind": "VirtualDiskSnapshot", "name": "nope"}})
    assert err.value.msg.startswith("source.object_ref.name: VirtualDiskSnapshot ns/nope does not exist")
    assert client.writes == []


def test_in_check_mode_a_missing_source_is_a_warning_and_the_task_says_what_it_would_create(monkeypatch):
    from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks import rules
    warned = []
    monkeypatch.setattr(rules, "warn", warned.append)
    client = ObjectsClient({}, check_mode=True)
    tracker = Tracker("VirtualDisk ns/d", dry_run=True)
    result = DiskRunner(client, disk_request(DiskOptions(name="d", namespace="ns", wait=False, source={
        "object_ref": {"kind": "VirtualImage", "name": "made-earlier"}})), tracker).run()
    assert warned == ["source.object_ref.name: VirtualImage ns/made-earlier does not exist; in a real run this task "
                      "fails unless an earlier task makes it"]
    assert result["changed"] is True and client.writes == [
        ("POST", "/apis/virtualization.deckhouse.io/v1alpha2/namespaces/ns/virtualdisks")]
    assert [p["phase"] for p in tracker.phases] == ["would be created (check mode)"]


def test_a_storage_class_that_does_not_exist_is_refused_before_any_write():
    class Classes(ObjectsClient):
        def exists(self, path):
            return path.rsplit("/", 1)[-1] in ("fast",)
    client = Classes({})
    with pytest.raises(ValidationError) as err:
        run_disk(client, size="1Gi", storage_class="fats")
    assert err.value.msg.startswith('storage_class: storage class "fats" not found') and client.writes == []
    assert run_disk(client, size="1Gi", storage_class="fast")["changed"] is True
