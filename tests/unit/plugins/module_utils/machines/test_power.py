# -*- coding: utf-8 -*-
"""machines/power.py: which VMs mount a disk, which run policies refuse an operation, and the mark a capture leaves on
a VM it stopped."""

from __future__ import annotations

from ansible_collections.deckhouse.virtualization.plugins.module_utils.machines.power import (
    STOPPED_BY, StopMark, mounting_vms, refusal, stop_mark,
)
from ansible_collections.deckhouse.virtualization.tests.unit.helpers.clients import ObjectsClient
from ansible_collections.deckhouse.virtualization.tests.unit.helpers.machines import vm


def test_mounted_means_listed_and_not_stopped():
    client = ObjectsClient({("virtualmachines", n): vm(n, p) for n, p in
                            (("run", "Running"), ("halting", "Stopping"), ("off", "Stopped"), ("pend", "Pending"))})
    client.objects[("virtualmachines", "elsewhere")] = vm("elsewhere", "Running", disk="other")
    assert sorted(v["metadata"]["name"] for v in mounting_vms(client, "ns", "root")) == ["halting", "pend", "run"]


def test_run_policy_rules():
    assert refusal("Stop", "vm", "Manual") is None and refusal("Start", "vm", "AlwaysOn") is None
    assert "runPolicy AlwaysOff" in refusal("Restart", "vm", "AlwaysOff")
    assert refusal("Stop", "vm", "AlwaysOn").startswith(
        "Operation type Stop is not applicable for VirtualMachine with runPolicy AlwaysOn")


def test_the_stop_mark_reads_back_and_ignores_what_is_not_ours():
    mark = StopMark("virtual_image_capture of VirtualDisk ns/root", "AlwaysOn")
    assert stop_mark({"metadata": {"annotations": mark.annotation()}}) == mark
    for value in ("not json", "[1]", '{"runPolicy": "Manual"}'):
        assert stop_mark({"metadata": {"annotations": {STOPPED_BY: value}}}) is None
    assert stop_mark({"metadata": {}}) is None
