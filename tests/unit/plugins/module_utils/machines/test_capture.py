# -*- coding: utf-8 -*-
"""machines/capture.py: capture decisions before any VM is touched (Ready means hands off, mounted and AlwaysOn are
explained), and capture by snapshot in check mode."""

from __future__ import annotations

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import TaskError, ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.machines.capture import CaptureRequest
from ansible_collections.deckhouse.virtualization.plugins.module_utils.machines.capture import (
    CaptureRunner as _CaptureRunner,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.machines.capture import image_options
from ansible_collections.deckhouse.virtualization.plugins.module_utils.machines.power import StopMark
from ansible_collections.deckhouse.virtualization.tests.unit.helpers.clients import ObjectsClient
from ansible_collections.deckhouse.virtualization.tests.unit.helpers.disks import live_disk
from ansible_collections.deckhouse.virtualization.tests.unit.helpers.machines import vm


def CaptureRunner(client, params):  # noqa: N802 - stands in for the class the tests construct
    """The module's path: parameters -> checked request -> runner."""
    return _CaptureRunner(client, CaptureRequest.from_params(params), Tracker("VirtualDisk ns/root"))


def validate_capture(params):
    CaptureRequest.from_params(params)


def params(**kw):
    base = {"namespace": "ns", "disk": "root", "name": "img", "cluster_image": None, "storage": None,
            "storage_class": None, "labels": None, "stop_vm": False, "allow_run_policy_change": False,
            "restart_vm_on_failure": True, "wait": True, "wait_timeout": 5}
    base.update(kw)
    return base


def vm(name, phase, policy="Manual", disk="root"):
    return {"metadata": {"name": name, "uid": name}, "spec": {"runPolicy": policy},
            "status": {"phase": phase, "blockDeviceRefs": [{"kind": "VirtualDisk", "name": disk}]}}


def ready_image():
    manifest = {"apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualImage",
                "metadata": {"name": "img", "namespace": "ns", "generation": 1, "resourceVersion": "3"},
                "spec": {"storage": "ContainerRegistry",
                         "dataSource": {"type": "ObjectRef", "objectRef": {"kind": "VirtualDisk", "name": "root"}}}}
    manifest["status"] = {"phase": "Ready", "observedGeneration": 1,
                          "conditions": [{"type": "Ready", "status": "True", "reason": "Ready", "observedGeneration": 1}]}
    return manifest


VM_LIST = "/apis/virtualization.deckhouse.io/v1alpha2/namespaces/ns/virtualmachines"


def test_ready_image_never_touches_vms():
    """It only lists them once, for VMs an earlier run stopped (marked) and was killed before starting again."""
    client = ObjectsClient({("virtualimages", "img"): ready_image(), ("virtualdisks", "root"): {"status": {}},
                            ("virtualmachines", "web"): vm("web", "Running")})
    result = CaptureRunner(client, params(stop_vm=True)).run()
    assert result["changed"] is False and result["vm_actions"] == []
    assert client.writes == [] and client.lists == [VM_LIST]
    assert CaptureRunner(client, params()).run()["changed"] is False and client.lists == [VM_LIST]


def test_failed_image_fails_without_touching_vms():
    failed = ready_image()
    failed["status"] = {"phase": "Failed", "conditions": [{"type": "Ready", "status": "False", "message": "boom"}]}
    client = ObjectsClient({("virtualimages", "img"): failed, ("virtualmachines", "web"): vm("web", "Running")})
    with pytest.raises(TaskError, match="is Failed \\(boom\\).*delete it"):
        CaptureRunner(client, params(stop_vm=True)).run()
    assert client.writes == [] and client.lists == [VM_LIST]


def test_mounted_disk_without_stop_vm_names_the_vm():
    client = ObjectsClient({("virtualdisks", "root"): {"status": {}}, ("virtualmachines", "web"): vm("web", "Running")})
    with pytest.raises(TaskError) as err:
        CaptureRunner(client, params()).run()
    assert 'mounted by VirtualMachine "web" (phase Running)' in err.value.msg
    assert err.value.details["vms"] == ["web"] and client.writes == []


def test_always_on_is_refused_with_the_options_before_anything_stops():
    client = ObjectsClient({("virtualdisks", "root"): {"status": {}},
                            ("virtualmachines", "a"): vm("a", "Running"),
                            ("virtualmachines", "b"): vm("b", "Running", "AlwaysOn")})
    with pytest.raises(TaskError) as err:
        CaptureRunner(client, params(stop_vm=True)).run()
    assert "runPolicy AlwaysOn" in err.value.msg and "allow_run_policy_change: true" in err.value.msg
    assert client.writes == []  # "a" was not stopped either


def test_missing_disk_is_an_error():
    with pytest.raises(TaskError, match="VirtualDisk ns/root not found"):
        CaptureRunner(ObjectsClient({}), params()).run()


def test_chain_params_and_validation():
    cvi = image_options(params(cluster_image="gold"), cluster=True)
    assert cvi.source == {"object_ref": {"kind": "VirtualImage", "name": "img", "namespace": "ns"}}
    assert image_options(params(), cluster=False).source == {"object_ref": {"kind": "VirtualDisk", "name": "root"}}
    request = CaptureRequest.from_params(params(cluster_image="gold"))
    assert request.cluster_image.manifest["spec"]["dataSource"]["objectRef"] == cvi.source["object_ref"]
    with pytest.raises(ValidationError, match="cluster_image"):
        validate_capture(params(cluster_image="bad.name"))
    with pytest.raises(ValidationError, match="disk"):
        validate_capture(params(disk="Bad"))


def test_a_vm_an_earlier_run_stopped_is_started_again_and_one_the_user_stopped_is_not():
    """The killed run marked "web" before stopping it and got as far as starting it: the next run only removes the
    mark. "idle" was stopped by its user (no mark), "other" by a capture of another disk: neither is touched."""
    def marked(name, phase, disk):
        obj = vm(name, phase)
        obj["metadata"]["annotations"] = StopMark("virtual_image_capture of VirtualDisk ns/%s" % disk,
                                                  "Manual").annotation()
        return obj
    client = ObjectsClient({("virtualimages", "img"): ready_image(), ("virtualdisks", "root"): {"status": {}},
                            ("virtualmachines", "web"): marked("web", "Running", "root"),
                            ("virtualmachines", "other"): marked("other", "Stopped", "data"),
                            ("virtualmachines", "idle"): vm("idle", "Stopped")})
    result = CaptureRunner(client, params(stop_vm=True)).run()
    assert client.writes == [("PATCH", VM_LIST + "/web")]
    assert result["vms_restarted"] == ["web"] and result["changed"] is True and result["vm_actions"] == []


def test_capture_by_snapshot_in_check_mode_sends_dry_runs_and_no_vm_operation():
    client = ObjectsClient({("virtualdisks", "root"): live_disk(attached=["web"])}, check_mode=True)
    request = CaptureRequest.from_params({"namespace": "ns", "disk": "root", "name": "img", "cluster_image": "cimg",
                                          "method": "snapshot", "wait_timeout": 5})
    result = _CaptureRunner(client, request, Tracker("VirtualDisk ns/root")).run()
    assert [path.rsplit("/", 1)[-1] for _verb, path in client.writes] == [
        "virtualdisksnapshots", "virtualimages", "clustervirtualimages"]
    assert result["vm_actions"] == [] and result["image"]["spec"]["dataSource"]["objectRef"] == {
        "kind": "VirtualDiskSnapshot", "name": "img-capture"}
    assert result["cluster_image"]["spec"]["dataSource"]["objectRef"]["namespace"] == "ns"


def test_capture_options_belong_to_their_method():
    with pytest.raises(ValidationError, match="stop_vm cannot be used with method: snapshot"):
        CaptureRequest.from_params({"namespace": "ns", "disk": "root", "name": "img", "method": "snapshot",
                                    "stop_vm": True})
