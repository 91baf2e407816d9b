"""A VirtualDisk counts at most one VM as mounting it (vd InUseHandler, the same on v1.10.2 and main): the one
mounted before keeps it while it uses the disk, then another VM that uses it takes it over."""
from __future__ import annotations

from typing import Any

import pytest
from _controller_support import Api, Recorder, api, cond  # noqa: F401
from test_controller_disks import vd, vds, vm, vms  # noqa: F401

from sandbox.controller.model.attachees import one_mounted


def test_the_vm_mounted_before_keeps_the_disk_and_another_takes_it_when_it_lets_go() -> None:
    assert one_mounted([("a", True), ("b", True)], None) == [("a", True), ("b", False)]
    assert one_mounted([("a", True), ("b", True)], [{"name": "b", "mounted": True}]) == [("a", False), ("b", True)]
    assert one_mounted([("a", True), ("b", False)], [{"name": "b", "mounted": True}]) == [("a", True), ("b", False)]
    assert one_mounted([("a", False), ("b", False)], [{"name": "a", "mounted": True}]) == [("a", False), ("b", False)]
    assert one_mounted([], [{"name": "a", "mounted": True}]) == []


@pytest.mark.usefixtures("sandbox")
def test_two_vms_on_one_disk_mount_it_one_at_a_time(api: Api, namespace: str, vds: Recorder,  # noqa: F811
                                                    vms: Recorder) -> None:  # noqa: F811
    api.create(vd(namespace, "shared"))
    api.create(vm(namespace, "first", ["shared"]))
    vms.wait_phase("first", "Running", 60)
    vds.wait("shared", lambda o: (cond(o, "InUse") or {}).get("status") == "True", 30)
    api.create(vm(namespace, "second", ["shared"]))
    vms.wait_phase("second", "Running", 60)
    both = vds.wait("shared", lambda o: len(o["status"].get("attachedToVirtualMachines") or []) == 2, 30)
    assert sorted((a["name"], a["mounted"]) for a in both["status"]["attachedToVirtualMachines"]) == [
        ("first", True), ("second", False)]
    in_use = cond(both, "InUse")
    assert (in_use["reason"], in_use["message"]) == (
        "AttachedToVirtualMachine",
        'The VirtualDisk is in use by the VirtualMachine "first"; detach it or stop the VirtualMachine to release '
        "the VirtualDisk.")
    api.patch("VirtualMachine", namespace, "first", {"spec": {"runPolicy": "AlwaysOff"}})
    moved = vds.wait("shared", lambda o: {(a["name"], a["mounted"]) for a in o["status"].get(
        "attachedToVirtualMachines") or []} == {("first", False), ("second", True)}, 60)
    assert cond(moved, "InUse")["message"].startswith('The VirtualDisk is in use by the VirtualMachine "second"')
