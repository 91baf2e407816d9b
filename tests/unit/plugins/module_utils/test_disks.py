# -*- coding: utf-8 -*-
"""Disks and snapshots before any write: sizes by value, the grow-only rule in the one decision, the disk and
snapshot waits, manifests, the attached-disk rules, and capture by snapshot in check mode."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.waiter import DONE, FAIL, PREDICATES, WAIT
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.checks import check_size
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import (
    ImmutableSpec, ValidationError,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.quantity import parse_quantity
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.request import (
    disk_request, snapshot_request,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.rules import DISK_LOCK
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.runner import DiskRunner, InUse
from ansible_collections.deckhouse.virtualization.plugins.module_utils.machines.capture import (
    CaptureRequest, CaptureRunner,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.decision import (
    KEEP, PATCH, RECREATE, REFUSE, decide,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.disk import (
    DiskOptions, SnapshotOptions,
)


@pytest.mark.parametrize("text,value", [("10Gi", 10 * 2 ** 30), ("512M", 512 * 10 ** 6), ("1e3", 1000),
                                        ("1.5Ki", 1536), ("100", 100)])
def test_quantities_are_read_by_value(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("size,message", [("-1Gi", "greater than 0"), ("0", "greater than 0"),
                                          ("ten", "a size like 10Gi"), ("1.5", "whole number of bytes"),
                                          ("10GB", "a size like 10Gi")])
def test_bad_sizes_name_the_option(size, message):
    with pytest.raises(ValidationError) as err:
        check_size(size, "size")
    assert err.value.msg.startswith("size ") and message in err.value.msg


def live_disk(size="10Gi", phase="Ready", source=None, attached=()):
    spec = {"persistentVolumeClaim": {"size": size}}
    if source:
        spec["dataSource"] = source
    return {"apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualDisk",
            "metadata": {"name": "d", "namespace": "ns", "generation": 1, "resourceVersion": "3", "uid": "u1"},
            "spec": spec,
            "status": {"phase": phase, "observedGeneration": 1, "capacity": size,
                       "attachedToVirtualMachines": [{"name": vm, "mounted": True} for vm in attached],
                       "conditions": [{"type": "Ready", "status": "True", "reason": "Ready", "observedGeneration": 1}]}}


def wanted(size="10Gi", source=None):
    return {"metadata": {"name": "d", "namespace": "ns"},
            "spec": dict({"persistentVolumeClaim": {"size": size}}, **({"dataSource": source} if source else {}))}


@pytest.mark.parametrize("size,verb", [("10Gi", KEEP), ("10240Mi", KEEP), ("20Gi", PATCH), ("5Gi", REFUSE)])
def test_one_decision_grows_a_provisioned_disk_and_refuses_a_shrink(size, verb):
    decision = decide(live_disk(), wanted(size), "VirtualDisk ns/d", True, "recreate: true", lock=DISK_LOCK)
    assert decision.verb == verb
    if verb == PATCH:
        assert decision.patch == {"spec": {"persistentVolumeClaim": {"size": "20Gi"}}}
    if verb == REFUSE:
        assert "size 5Gi is smaller than the disk's size 10Gi" in decision.message


def test_other_changes_lock_once_provisioned_and_recreate_takes_every_value():
    http = {"type": "HTTP", "http": {"url": "https://x/b"}}
    refused = decide(live_disk(), wanted(source=http), "VirtualDisk ns/d", False, "recreate: true", lock=DISK_LOCK)
    assert refused.verb == REFUSE and refused.differing == ["spec.dataSource"]
    again = decide(live_disk(), wanted("5Gi", http), "VirtualDisk ns/d", True, "recreate: true", lock=DISK_LOCK)
    assert again.verb == RECREATE
    early = decide(live_disk(phase="WaitForFirstConsumer"), wanted(source=http), "r", False, "", lock=DISK_LOCK)
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
    decision = decide(sourced_disk(), wanted(size, src), "VirtualDisk ns/d", True, "recreate: true", lock=DISK_LOCK)
    assert decision.verb == verb, decision
    assert decision.differing == ["spec.persistentVolumeClaim.size"]
    if verb == PATCH:
        assert decision.patch == {"spec": {"persistentVolumeClaim": {"size": size}}}
    else:
        assert message in decision.message and "recreate" not in decision.message


def test_the_capacity_bounds_a_spec_that_says_less_than_the_disk_holds():
    src = {"type": "ObjectRef", "objectRef": {"kind": "VirtualImage", "name": "base"}}
    refused = decide(sourced_disk(capacity="8Mi", spec_size="2Mi"), wanted("4Mi", src), "r", False, "", lock=DISK_LOCK)
    assert refused.verb == REFUSE and "the disk's size 8Mi" in refused.message


def test_a_locked_parent_with_an_in_place_child_still_locks_the_rest():
    src = {"type": "ObjectRef", "objectRef": {"kind": "VirtualImage", "name": "base"}}
    want = wanted("64Mi", src)
    want["spec"]["persistentVolumeClaim"]["storageClassName"] = "fast"
    decision = decide(sourced_disk(), want, "VirtualDisk ns/d", False, "recreate: true", lock=DISK_LOCK)
    assert decision.verb == REFUSE
    assert decision.differing == ["spec.persistentVolumeClaim"]
    assert "(the data on the disk is lost)" in decision.message


@pytest.mark.parametrize("goal,phase,state", [
    ("disk-ready", "WaitForFirstConsumer", DONE), ("disk-data-ready", "WaitForFirstConsumer", WAIT),
    ("disk-ready", "Resizing", WAIT), ("disk-ready", "Ready", DONE), ("disk-ready", "PVCLost", FAIL),
])
def test_disk_waits(goal, phase, state):
    obj = live_disk(phase=phase)
    if phase != "Ready":
        obj["status"]["conditions"] = [{"type": "Ready", "status": "False", "reason": phase, "observedGeneration": 1}]
    assert PREDICATES[goal][0](obj).state == state


def test_a_ready_disk_short_of_its_size_is_still_resizing():
    obj = live_disk()
    obj["status"]["capacity"] = "5Gi"
    verdict = PREDICATES["disk-ready"][0](obj)
    assert verdict.state == WAIT and "capacity 5Gi of 10Gi" in verdict.message


@pytest.mark.parametrize("phase,state", [("Pending", WAIT), ("InProgress", WAIT), ("Ready", DONE), ("Failed", FAIL)])
def test_snapshot_wait(phase, state):
    obj = {"metadata": {"generation": 1}, "status": {"phase": phase, "observedGeneration": 1, "conditions": [
        {"type": "VirtualDiskSnapshotReady", "status": "False", "reason": "PotentiallyInconsistent",
         "message": "Cannot take a consistent snapshot"}]}}
    verdict = PREDICATES["snapshot-ready"][0](obj)
    assert verdict.state == state
    if state == FAIL:
        assert "Cannot take a consistent snapshot" in verdict.message


def test_manifests():
    blank = disk_request(DiskOptions(name="d", namespace="ns", size="1Gi", storage_class="fast"))
    assert blank.manifest["spec"] == {"persistentVolumeClaim": {"size": "1Gi", "storageClassName": "fast"}}
    from_snapshot = {"kind": "VirtualDiskSnapshot", "name": "s"}
    ref = disk_request(DiskOptions(name="d", namespace="ns", source={"object_ref": from_snapshot}))
    assert ref.manifest["spec"] == {"dataSource": {"type": "ObjectRef", "objectRef": from_snapshot}}
    snap = snapshot_request(SnapshotOptions(name="s", namespace="ns", disk="d"))
    assert snap.manifest["spec"] == {"virtualDiskName": "d", "requiredConsistency": True}
    with pytest.raises(ValidationError, match="source must have exactly one of"):
        disk_request(DiskOptions(name="d", namespace="ns", source={"http": {"url": "https://x/y"},
                                                                   "object_ref": {"kind": "VirtualImage", "name": "a"}}))


class FakeClient:
    """Objects by (plural, name); records every write."""

    def __init__(self, objects, check_mode=False):
        self.objects = objects
        self.check_mode = check_mode
        self.writes = []

    def get(self, path):
        plural, name = path.rstrip("/").split("/")[-2:]
        return copy.deepcopy(self.objects.get((plural, name)))

    def create(self, path, body, dry_run=False):
        self.writes.append(("POST", path))
        return dict(body, status={})

    def patch(self, path, body):
        self.writes.append(("PATCH", path))
        return body

    def delete(self, path):
        self.writes.append(("DELETE", path))
        return {}


def run_disk(client, **options):
    options = dict({"name": "d", "namespace": "ns", "wait": False}, **options)
    return DiskRunner(client, disk_request(DiskOptions(**options)), Tracker("VirtualDisk ns/d")).run()


def test_an_attached_disk_is_neither_deleted_nor_recreated_without_a_write():
    client = FakeClient({("virtualdisks", "d"): live_disk(attached=["web"])})
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
    client = FakeClient({})
    with pytest.raises(ValidationError) as err:
        run_disk(client, source={"object_ref": {"kind": "VirtualDiskSnapshot", "name": "nope"}})
    assert err.value.msg.startswith("source.object_ref.name: VirtualDiskSnapshot ns/nope does not exist")
    assert client.writes == []


def test_capture_by_snapshot_in_check_mode_sends_dry_runs_and_no_vm_operation():
    client = FakeClient({("virtualdisks", "root"): live_disk(attached=["web"])}, check_mode=True)
    request = CaptureRequest.from_params({"namespace": "ns", "disk": "root", "name": "img", "cluster_image": "cimg",
                                          "method": "snapshot", "wait_timeout": 5})
    result = CaptureRunner(client, request, Tracker("VirtualDisk ns/root")).run()
    assert [path.rsplit("/", 1)[-1] for _verb, path in client.writes] == [
        "virtualdisksnapshots", "virtualimages", "clustervirtualimages"]
    assert result["vm_actions"] == [] and result["image"]["spec"]["dataSource"]["objectRef"] == {
        "kind": "VirtualDiskSnapshot", "name": "img-capture"}
    assert result["cluster_image"]["spec"]["dataSource"]["objectRef"]["namespace"] == "ns"


def test_capture_options_belong_to_their_method():
    with pytest.raises(ValidationError, match="stop_vm cannot be used with method: snapshot"):
        CaptureRequest.from_params({"namespace": "ns", "disk": "root", "name": "img", "method": "snapshot",
                                    "stop_vm": True})


def test_in_check_mode_a_missing_source_is_a_warning_and_the_task_says_what_it_would_create(monkeypatch):
    from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks import rules
    warned = []
    monkeypatch.setattr(rules, "warn", warned.append)
    client = FakeClient({}, check_mode=True)
    tracker = Tracker("VirtualDisk ns/d", dry_run=True)
    result = DiskRunner(client, disk_request(DiskOptions(name="d", namespace="ns", wait=False, source={
        "object_ref": {"kind": "VirtualImage", "name": "made-earlier"}})), tracker).run()
    assert warned == ["source.object_ref.name: VirtualImage ns/made-earlier does not exist; in a real run this task "
                      "fails unless an earlier task makes it"]
    assert result["changed"] is True and client.writes == [
        ("POST", "/apis/virtualization.deckhouse.io/v1alpha2/namespaces/ns/virtualdisks")]
    assert [p["phase"] for p in tracker.phases] == ["would be created (check mode)"]


def test_a_storage_class_that_does_not_exist_is_refused_before_any_write():
    class Classes(FakeClient):
        def exists(self, path):
            return path.rsplit("/", 1)[-1] in ("fast",)
    client = Classes({})
    with pytest.raises(ValidationError) as err:
        run_disk(client, size="1Gi", storage_class="fats")
    assert err.value.msg.startswith('storage_class: storage class "fats" not found') and client.writes == []
    assert run_disk(client, size="1Gi", storage_class="fast")["changed"] is True
