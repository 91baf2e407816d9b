# -*- coding: utf-8 -*-
"""The waiter: its predicates and its watch loop (against a fake client)."""

from __future__ import annotations

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Gone
from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.waiter import (
    DONE, FAIL, PREDICATES, WAIT, Waiter, is_absent, is_ready, is_vmop_completed,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ObjectFailed, WaitTimeout
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import VIRTUAL_IMAGE
from ansible_collections.deckhouse.virtualization.tests.unit.helpers.disks import live_disk


def image(phase=None, generation=1, observed=1, rv="1", conditions=(), deleting=False, progress=None):
    obj = {"metadata": {"name": "img", "namespace": "ns", "generation": generation, "resourceVersion": rv},
           "status": {"phase": phase, "observedGeneration": observed, "progress": progress,
                      "conditions": [dict(c) for c in conditions]}}
    if deleting:
        obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return obj


def cond(ctype, status, reason="", message="", gen=1):
    return {"type": ctype, "status": status, "reason": reason, "message": message, "observedGeneration": gen}


def test_ready_needs_current_ready_condition():
    assert is_ready(image("Ready", conditions=[cond("Ready", "True", "Ready")])).state == DONE
    stale = image("Ready", generation=2, observed=1, conditions=[cond("Ready", "True", "Ready", gen=1)])
    assert is_ready(stale).state == WAIT


def test_failed_fails_with_platform_message():
    msg = "Provisioning failed: Pod ns/p reported: md5 sum mismatch: a != b."
    verdict = is_ready(image("Failed", conditions=[cond("Ready", "False", "ProvisioningFailed", msg)]))
    assert verdict.state == FAIL and msg in verdict.message


@pytest.mark.parametrize("phase", ["ImageLost", "PVCLost"])
def test_lost_phases_fail(phase):
    assert is_ready(image(phase, conditions=[cond("Ready", "False", phase, "gone")])).state == FAIL


def test_stale_failure_after_spec_change_keeps_waiting():
    stale = image("Failed", generation=2, observed=1, conditions=[cond("Ready", "False", "ProvisioningFailed", gen=1)])
    assert is_ready(stale).state == WAIT


def test_blocked_reports_reason():
    blocked = image("Pending", conditions=[
        cond("DatasourceReady", "False", "ContainerRegistrySecretNotFound", "Container registry secret not found."),
        cond("Ready", "False", "DatasourceNotReady", "Datasource is not ready.")])
    verdict = is_ready(blocked)
    assert verdict.state == WAIT
    assert "ContainerRegistrySecretNotFound" in verdict.message and "secret not found" in verdict.message


def test_deleted_while_waiting_for_ready_fails():
    assert is_ready(None).state == FAIL
    assert is_ready(image("Terminating", deleting=True)).state == FAIL


def test_absent_predicates():
    assert is_absent(None).state == DONE
    assert is_absent(image("Terminating", deleting=True)).state == WAIT
    in_use = image("Terminating", deleting=True, conditions=[
        cond("InUse", "True", "AttachedToVirtualMachine", 'The VirtualImage is in use by the VirtualMachine "vm"')])
    verdict = is_absent(in_use)
    assert verdict.state == FAIL and 'VirtualMachine "vm"' in verdict.message


class FakeClient:
    """Replays scripted watch streams; get() returns the next scripted object."""

    def __init__(self, gets, streams):
        self.gets = list(gets)
        self.streams = list(streams)
        self.watched_from = []

    def get(self, path):
        return self.gets.pop(0)

    def watch(self, collection, name, version, timeout):
        self.watched_from.append(version)
        stream = self.streams.pop(0)
        if stream == "gone":
            raise Gone()
        yield from stream


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def make_waiter(client, clock, seen):
    return Waiter(client, VIRTUAL_IMAGE, "img", "ns", on_update=seen.append, clock=clock, sleep=clock.sleep)


def test_wait_follows_events_until_ready():
    ready = image("Ready", rv="3", progress="100%", conditions=[cond("Ready", "True", "Ready")])
    client = FakeClient([image("Pending", rv="1")],
                        [[{"type": "MODIFIED", "object": image("Provisioning", rv="2", progress="5%")},
                          {"type": "MODIFIED", "object": ready}]])
    seen = []
    assert make_waiter(client, Clock(), seen).wait("ready", 60) is ready
    assert [o["status"]["phase"] for o in seen] == ["Pending", "Provisioning", "Ready"]


def test_wait_resumes_after_gone_and_dropped_stream():
    clock = Clock()
    ready = image("Ready", rv="9", conditions=[cond("Ready", "True", "Ready")])
    client = FakeClient([image("Pending", rv="1"), image("Provisioning", rv="5"), image("Provisioning", rv="6")],
                        ["gone", [], [{"type": "MODIFIED", "object": ready}]])
    assert make_waiter(client, clock, []).wait("ready", 60) is ready
    assert client.watched_from == ["1", "5", "6"]


def test_wait_fails_fast_on_failed_event():
    failed = image("Failed", rv="2", conditions=[cond("Ready", "False", "ProvisioningFailed", "boom")])
    client = FakeClient([image("Pending")], [[{"type": "MODIFIED", "object": failed}]])
    with pytest.raises(ObjectFailed, match="VirtualImage ns/img: phase Failed: boom") as err:
        make_waiter(client, Clock(), []).wait("ready", 600)
    assert err.value.details["image"] is failed


def test_timeout_names_phase_progress_condition_and_blocker():
    clock = Clock()
    blocked = image("Pending", conditions=[cond("DatasourceReady", "False", "ImageNotReady", "VirtualImage x not ready."),
                                           cond("Ready", "False", "DatasourceNotReady", "Datasource is not ready.")])

    class Slow(FakeClient):
        def watch(self, collection, name, version, timeout):
            clock.now += timeout
            return iter(())

    client = Slow([blocked, blocked], [])
    with pytest.raises(WaitTimeout) as err:
        make_waiter(client, clock, []).wait("ready", 30)
    msg = err.value.msg
    assert "timed out after 30s" in msg and "last phase Pending" in msg and "progress none" in msg
    assert "Ready False/DatasourceNotReady" in msg and "blocked: DatasourceReady False/ImageNotReady" in msg


def test_absent_done_on_deleted_event():
    client = FakeClient([image("Terminating", deleting=True)], [[{"type": "BOOKMARK", "object": {}},
                                                                 {"type": "DELETED", "object": image()}]])
    assert make_waiter(client, Clock(), []).wait("absent", 60) is None


def test_quota_failure_fails_at_once_and_says_the_platform_retries():
    msg = ('Quota exceeded: pods "d8v-vi-importer-1" is forbidden: exceeded quota: q; Please configure quotas or '
           'try recreating the resource later.')
    verdict = is_ready(image("Failed", conditions=[cond("Ready", "False", "ProvisioningFailed", msg)]))
    assert verdict.state == FAIL and msg in verdict.message
    assert "the platform retries the import by itself" in verdict.message


@pytest.mark.parametrize("phase", ["Pending", "Failed"])
def test_provisioning_not_started_is_a_blocker_not_an_end(phase):
    msg = "Provisioning Pod ns/d8v-vi-importer-1 is not scheduled: 0/3 nodes are available."
    verdict = is_ready(image(phase, conditions=[cond("Ready", "False", "ProvisioningNotStarted", msg)]))
    assert verdict.state == WAIT
    assert verdict.message == "blocked: Ready False/ProvisioningNotStarted: " + msg


def test_a_delete_waiting_on_cleanup_says_what_it_waits_for():
    msg = 'Waiting for the PersistentVolumeClaim "ns/vi-img" to be deleted.'
    verdict = is_absent(image("Terminating", deleting=True,
                              conditions=[cond("Terminating", "True", "CleanupPending", msg)]))
    assert verdict.state == WAIT and verdict.message == "blocked: Terminating True/CleanupPending: " + msg


@pytest.mark.parametrize("goal,phase,state", [
    ("disk-ready", "WaitForFirstConsumer", DONE), ("disk-data-ready", "WaitForFirstConsumer", WAIT),
    ("disk-ready", "Resizing", WAIT), ("disk-ready", "Ready", DONE), ("disk-ready", "PVCLost", FAIL),
])
def test_disk_waits(goal, phase, state):
    obj = live_disk(phase=phase)
    if phase != "Ready":
        obj["status"]["conditions"] = [{"type": "Ready", "status": "False", "reason": phase, "observedGeneration": 1}]
    assert PREDICATES[goal][0](obj).state == state


@pytest.mark.parametrize("goal", ["disk-ready", "disk-data-ready"])
def test_an_exporting_disk_is_waited_through_naming_the_export(goal):
    obj = live_disk(phase="Exporting")
    obj["status"]["conditions"] = [{"type": "Ready", "status": "False", "reason": "Exporting",
                                    "message": "The VirtualDisk is being exported.", "observedGeneration": 1}]
    verdict = PREDICATES[goal][0](obj)
    assert verdict == (WAIT, "blocked: Ready False/Exporting: The VirtualDisk is being exported.")


def test_a_ready_disk_short_of_its_size_is_still_resizing():
    obj = live_disk()
    obj["status"]["capacity"] = "5Gi"
    verdict = PREDICATES["disk-ready"][0](obj)
    assert verdict.state == WAIT and "capacity 5Gi of 10Gi" in verdict.message


NOT_EXPANDABLE = ('Disk resizing is not allowed: persistentvolumeclaims "vd-d" is forbidden: only dynamically '
                  "provisioned pvc can be resized and the storageclass that provisions the pvc must support resize.")


@pytest.mark.parametrize("message,gen,state", [
    (NOT_EXPANDABLE, 1, FAIL),
    ("Disk resizing is not allowed: the StorageClass is not ready.", 1, FAIL),
    ("The virtual disk cannot be selected for resizing as it is currently snapshotting.", 1, WAIT),
    (NOT_EXPANDABLE, 0, WAIT),            # set for an older generation: not yet about this size
])
def test_a_ready_disk_whose_resize_cannot_happen_fails_at_once_with_the_platform_words(message, gen, state):
    obj = live_disk()
    obj["status"]["capacity"] = "5Gi"
    obj["status"]["conditions"].append(cond("Resizing", "False", "NotAvailable", message, gen=gen))
    verdict = PREDICATES["disk-ready"][0](obj)
    assert verdict.state == state
    if state == FAIL:
        assert verdict.message == "the resize cannot happen, the disk stays at 5Gi: Resizing False/NotAvailable: " + message
    elif gen == 1:
        assert verdict.message == "blocked: Resizing False/NotAvailable: " + message


@pytest.mark.parametrize("phase,state", [("Pending", WAIT), ("InProgress", WAIT), ("Ready", DONE), ("Failed", FAIL)])
def test_snapshot_wait(phase, state):
    obj = {"metadata": {"generation": 1}, "status": {"phase": phase, "observedGeneration": 1, "conditions": [
        {"type": "VirtualDiskSnapshotReady", "status": "False", "reason": "PotentiallyInconsistent",
         "message": "Cannot take a consistent snapshot"}]}}
    verdict = PREDICATES["snapshot-ready"][0](obj)
    assert verdict.state == state
    if state == FAIL:
        assert "Cannot take a consistent snapshot" in verdict.message


@pytest.mark.parametrize("phase,state", [("Completed", DONE), ("InProgress", WAIT), ("Failed", FAIL),
                                         ("Superseded", FAIL)])
def test_vmop_predicate(phase, state):
    op = {"status": {"phase": phase, "conditions": [{"type": "Completed", "message": "why"}]}}
    assert is_vmop_completed(op).state == state
    assert PREDICATES["vm-stopped"][0]({"metadata": {}, "status": {"phase": "Stopped"}}).state == DONE
    assert PREDICATES["vm-running"][0](None).state == FAIL
