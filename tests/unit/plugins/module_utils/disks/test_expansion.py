# -*- coding: utf-8 -*-
"""disks/expansion.py: growing a provisioned disk is refused before any write when its StorageClass does not allow
volume expansion; anything else (no growth, a class unknown or unreadable, a disk not yet provisioned) goes on."""

from __future__ import annotations

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ApiError, ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.expansion import check_expandable
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.request import disk_request
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.runner import DiskRunner
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.disk import DiskOptions
from ansible_collections.deckhouse.virtualization.tests.unit.helpers.clients import ObjectsClient
from ansible_collections.deckhouse.virtualization.tests.unit.helpers.disks import live_disk


def on_class(phase="Ready", size="10Gi", capacity=None):
    disk = live_disk(size=size, phase=phase)
    disk["status"]["storageClassName"] = "fixed"
    if capacity:
        disk["status"]["capacity"] = capacity
    return disk


def classes(**allow):
    return ObjectsClient({("storageclasses", "fixed"): dict({"metadata": {"name": "fixed"}}, **allow)})


@pytest.mark.parametrize("allow,shown", [({}, "unset"), ({"allowVolumeExpansion": False}, "false")])
def test_growing_on_a_class_without_expansion_is_refused_naming_the_class_and_the_fix(allow, shown):
    with pytest.raises(ValidationError) as err:
        check_expandable(classes(**allow), on_class(), "20Gi", "VirtualDisk ns/d")
    assert err.value.msg == (
        'size: growing VirtualDisk ns/d from 10Gi to 20Gi needs its StorageClass "fixed" to allow volume expansion, '
        "and it does not (allowVolumeExpansion is %s): the platform would keep the disk at 10Gi (Disk resizing is "
        "not allowed). Set allowVolumeExpansion: true on the StorageClass, or keep size at 10Gi; nothing was written"
        % shown)


@pytest.mark.parametrize("disk,size", [
    (on_class(), "10240Mi"),                      # the same size: nothing grows
    (on_class(capacity="12Gi"), "12Gi"),          # no more than the disk already holds
    (on_class(phase="Pending"), "20Gi"),          # not provisioned: the PVC is made at the new size
    (None, "20Gi"),                               # a new disk
])
def test_what_does_not_grow_a_provisioned_disk_is_not_checked(disk, size):
    check_expandable(classes(), disk, size, "VirtualDisk ns/d")


def test_an_expandable_unknown_or_unreadable_class_lets_the_write_go_on():
    check_expandable(classes(allowVolumeExpansion=True), on_class(), "20Gi", "r")
    check_expandable(ObjectsClient({}), on_class(), "20Gi", "r")        # the class is gone
    check_expandable(classes(), live_disk(), "20Gi", "r")               # no class named anywhere

    class Forbidden(ObjectsClient):
        def get(self, path):
            raise ApiError("Forbidden (403): not allowed to get storageclasses", status=403)

    check_expandable(Forbidden({}), on_class(), "20Gi", "r")


def test_the_runner_refuses_the_growth_before_any_write():
    client = classes()
    client.objects[("virtualdisks", "d")] = on_class()
    with pytest.raises(ValidationError):
        DiskRunner(client, disk_request(DiskOptions(name="d", namespace="ns", size="20Gi", wait=False)),
                   Tracker("VirtualDisk ns/d")).run()
    assert client.writes == []
