# -*- coding: utf-8 -*-
"""disks/rules.py class_move and the disk runner: past Pending the platform takes no other storage class (it would
be a volume migration), so the task refuses before any write naming both classes, or with recreate makes the disk
anew (never one a virtual machine uses); a size change waits for a migration to end."""

from __future__ import annotations

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ImmutableSpec
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.request import disk_request
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.rules import DISK_LOCK
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.runner import DiskRunner
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.decision import REFUSE, decide
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.disk import DiskOptions
from ansible_collections.deckhouse.virtualization.tests.unit.helpers.clients import ObjectsClient
from ansible_collections.deckhouse.virtualization.tests.unit.helpers.disks import live_disk, wanted_disk

DISK_PATH = "/apis/virtualization.deckhouse.io/v1alpha2/namespaces/ns/virtualdisks/d"


class Classes(ObjectsClient):
    """Every storage class exists."""

    def exists(self, path):
        return True


def on_class(phase, spec_class="slow", attached=()):
    disk = live_disk(phase=phase, attached=attached)
    if spec_class:
        disk["spec"]["persistentVolumeClaim"]["storageClassName"] = spec_class
    disk["status"]["storageClassName"] = spec_class or "default-class"
    return disk


def run_disk(disk, check_mode=False, **options):
    client = Classes({("virtualdisks", "d"): disk}, check_mode=check_mode)
    options = dict({"name": "d", "namespace": "ns", "wait": False, "size": "10Gi"}, **options)
    result = DiskRunner(client, disk_request(DiskOptions(**options)), Tracker("VirtualDisk ns/d")).run()
    return result, client


@pytest.mark.parametrize("phase", ["Provisioning", "WaitForFirstConsumer", "WaitForUserUpload", "Failed", "Ready",
                                   "PVCLost"])
def test_another_class_past_pending_is_refused_naming_both_and_recreate(phase):
    client = Classes({("virtualdisks", "d"): on_class(phase)})
    with pytest.raises(ImmutableSpec) as err:
        DiskRunner(client, disk_request(DiskOptions(name="d", namespace="ns", size="10Gi", storage_class="fast")),
                   Tracker("VirtualDisk ns/d")).run()
    assert err.value.msg == (
        'storage_class: VirtualDisk ns/d is on storage class "slow" (phase %s) and the platform does not move a '
        'disk past Pending to another class ("fast"). Set recreate: true to delete the disk and make a new one on '
        '"fast" (the data on the disk is lost); nothing was written' % phase)
    assert err.value.details["differing_fields"] == ["spec.persistentVolumeClaim.storageClassName"]
    assert client.writes == []


def test_a_pending_disk_takes_another_class_in_place():
    result, client = run_disk(on_class("Pending"), storage_class="fast")
    assert result["changed"] is True and client.writes == [("PATCH", DISK_PATH)]


def test_recreate_makes_a_disk_past_pending_anew_on_the_class():
    for phase in ("WaitForFirstConsumer", "Ready"):
        result, client = run_disk(on_class(phase), check_mode=True, storage_class="fast", recreate=True)
        assert result["changed"] is True and client.writes == [("DELETE", DISK_PATH)], phase


def test_recreate_is_refused_while_a_virtual_machine_uses_the_disk():
    for phase in ("WaitForFirstConsumer", "Ready"):
        with pytest.raises(ImmutableSpec) as err:
            run_disk(on_class(phase, attached=["web"]), storage_class="fast", recreate=True)
        assert err.value.msg.startswith('storage_class: VirtualDisk ns/d is on storage class "slow" (phase %s)'
                                        % phase)
        assert ('recreate: true cannot make it anew: it is attached to VirtualMachine "web" (mounted), and a disk '
                "a virtual machine uses is never recreated") in err.value.msg
        assert err.value.details["attached_to"] == [{"name": "web", "mounted": True}]


def test_the_default_class_named_on_a_disk_made_without_one_is_no_change():
    """The spec names no class and the disk is on the default one: naming it would change the spec, which the
    platform refuses past Pending, so the task leaves the spec as it is."""
    result, client = run_disk(on_class("Ready", spec_class=None), storage_class="default-class")
    assert result["changed"] is False and client.writes == []
    with pytest.raises(ImmutableSpec) as err:
        run_disk(on_class("Ready", spec_class=None), storage_class="fast")
    assert 'is on storage class "default-class" (phase Ready)' in err.value.msg


def test_a_size_change_waits_for_a_migration_to_end():
    decision = decide(live_disk(phase="Migrating"), wanted_disk("20Gi"), "VirtualDisk ns/d", False, "recreate: true",
                      lock=DISK_LOCK)
    assert decision.verb == REFUSE and decision.message == (
        "VirtualDisk ns/d: size 20Gi cannot be set while the disk is Migrating: the platform refuses size changes "
        "until the migration ends; run the task again once the disk is Ready")
    same = decide(live_disk(phase="Migrating"), wanted_disk("10Gi"), "VirtualDisk ns/d", False, "", lock=DISK_LOCK)
    assert same.verb != REFUSE
