"""The platform's validating webhooks: names, deprecated storage, changes after Ready, Terminating."""
from __future__ import annotations

import copy

import pytest

from _admission_support import HTTP_VI, create, obj, rejected, update

WEBHOOK = "{}.virtualization-controller.validate.d8-virtualization"


def denial(kind_prefix: str, message: str) -> dict:
    return {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "Forbidden",
        "code": 403,
        "message": f'admission webhook "{WEBHOOK.format(kind_prefix)}" denied the request: {message}',
    }


def with_status(o: dict, phase: str, ready: bool | None = None) -> dict:
    out = copy.deepcopy(o)
    status: dict = {"phase": phase}
    if ready is not None:
        status["conditions"] = [{"type": "Ready", "status": "True" if ready else "False", "reason": "R",
                                 "message": "", "lastTransitionTime": "2026-08-01T00:00:00Z"}]
    out["status"] = status
    return out


def stored_vi(phase: str, ready: bool | None = None, **spec_extra: object) -> dict:
    return with_status(create(obj("VirtualImage", {**HTTP_VI, **spec_extra})).obj, phase, ready)


def test_vi_name_with_dot_is_denied() -> None:
    assert rejected("CREATE", obj("VirtualImage", HTTP_VI, name="ubuntu.22")) == denial(
        "vi", "the VirtualImage name \"ubuntu.22\" is invalid: '.' is forbidden, allowed name symbols are "
              "[0-9a-zA-Z-]")


def test_cvi_and_vd_names_with_dot_are_denied() -> None:
    assert rejected("CREATE", obj("ClusterVirtualImage", HTTP_VI, name="a.b")) == denial(
        "cvi", "the ClusterVirtualImage name \"a.b\" is invalid: '.' is forbidden, allowed name symbols are "
               "[0-9a-zA-Z-]")
    assert rejected("CREATE", obj("VirtualDisk", {"persistentVolumeClaim": {"size": "1Gi"}}, name="a.b")) == denial(
        "vd", "the VirtualDisk name \"a.b\" is invalid: '.' is forbidden, allowed name symbols are [0-9a-zA-Z-]")


def test_schema_errors_come_before_the_webhook() -> None:
    status = rejected("CREATE", obj("VirtualImage", {"dataSource": {"type": "HTTP"}}, name="a.b"))
    assert status["code"] == 422


def test_kubernetes_storage_is_admitted_with_a_warning() -> None:
    result = create(obj("VirtualImage", {**HTTP_VI, "storage": "Kubernetes"}))
    assert result.warnings == ["Using the `Kubernetes` storage type is deprecated. It is recommended to use "
                               "`PersistentVolumeClaim` instead."]


@pytest.mark.parametrize(("phase", "ready"), [("Ready", True), ("Ready", None), ("Pending", True),
                                              ("ImageLost", None), ("PVCLost", False)])
def test_vi_data_source_is_frozen_once_provisioned(phase: str, ready: bool | None) -> None:
    old = stored_vi(phase, ready)
    new = copy.deepcopy(old)
    new["spec"]["dataSource"]["http"]["url"] = "https://example.com/other.qcow2"
    assert rejected("UPDATE", new, old) == denial(
        "vi", "data source cannot be changed if the VirtualImage has already been provisioned")


def test_vi_storage_class_is_frozen_once_ready() -> None:
    old = stored_vi("Ready", True, storage="PersistentVolumeClaim", persistentVolumeClaim={"storageClassName": "a"})
    new = copy.deepcopy(old)
    new["spec"]["persistentVolumeClaim"]["storageClassName"] = "b"
    assert rejected("UPDATE", new, old) == denial(
        "vi", "storage class cannot be changed if the VirtualImage has already been provisioned")


def test_vi_metadata_and_status_changes_after_ready_are_allowed() -> None:
    old = stored_vi("Ready", True)
    new = copy.deepcopy(old)
    new["metadata"]["labels"] = {"team": "a"}
    new["metadata"]["finalizers"] = ["virtualization.deckhouse.io/vi-cleanup"]
    assert update(new, old).obj["metadata"]["labels"] == {"team": "a"}
    status_write = copy.deepcopy(old)
    status_write["status"]["phase"] = "ImageLost"
    assert update(status_write, old, subresource="status").obj["status"]["phase"] == "ImageLost"


@pytest.mark.parametrize("phase", ["Pending", "Provisioning", "WaitForUserUpload", "Failed"])
def test_vi_spec_can_change_before_ready(phase: str) -> None:
    old = stored_vi(phase, False)
    new = copy.deepcopy(old)
    new["spec"]["dataSource"] = {"type": "Upload"}
    result = update(new, old)
    assert result.obj["spec"]["dataSource"] == {"type": "Upload"}
    assert result.warnings == []


def test_vi_spec_is_frozen_while_terminating() -> None:
    old = stored_vi("Terminating")
    new = copy.deepcopy(old)
    new["spec"]["storage"] = "PersistentVolumeClaim"
    assert rejected("UPDATE", new, old) == denial(
        "vi", "spec cannot be changed if the VirtualImage is the process of termination")
    new = copy.deepcopy(old)
    new["metadata"]["finalizers"] = []
    update(new, old)


def test_cvi_any_spec_change_after_ready_is_denied() -> None:
    old = with_status(create(obj("ClusterVirtualImage", HTTP_VI)).obj, "Ready", True)
    new = copy.deepcopy(old)
    new["spec"]["dataSource"]["http"]["checksum"] = {"md5": "0" * 32}
    assert rejected("UPDATE", new, old) == denial(
        "cvi", "ClusterVirtualImage is in a Ready state: configuration changes are not available")
    pending = with_status(old, "Pending", False)
    changed = with_status(new, "Pending", False)
    assert update(changed, pending).obj["spec"] == changed["spec"]


def test_vd_rules() -> None:
    assert rejected("CREATE", obj("VirtualDisk", {"persistentVolumeClaim": {"size": 0}})) == denial(
        "vd", "virtual disk size must be greater than 0")
    assert rejected("CREATE", obj("VirtualDisk", {})) == denial(
        "vd", "if the data source is not specified, it's necessary to set spec.PersistentVolumeClaim.size to "
              "create blank virtual disk")
    old = with_status(create(obj("VirtualDisk", {"persistentVolumeClaim": {"size": "2Gi"}})).obj, "Ready", True)
    smaller = copy.deepcopy(old)
    smaller["spec"]["persistentVolumeClaim"]["size"] = "1024Mi"
    assert rejected("UPDATE", smaller, old) == denial(
        "vd", "spec.persistentVolumeClaim.size value (1Gi) should be greater than or equal to the current value (2Gi)")
    bigger = copy.deepcopy(old)
    bigger["spec"]["persistentVolumeClaim"]["size"] = "3Gi"
    update(bigger, old)
    omitted = copy.deepcopy(old)
    del omitted["spec"]["persistentVolumeClaim"]["size"]
    assert rejected("UPDATE", omitted, old) == denial(
        "vd", "spec.persistentVolumeClaim.size cannot be omitted once set")
    ref = create(obj("VirtualDisk", {"dataSource": {"type": "ObjectRef", "objectRef": {
        "kind": "VirtualImage", "name": "a"}}})).obj
    ready = with_status(ref, "Ready", True)
    changed = copy.deepcopy(ready)
    changed["spec"]["dataSource"]["objectRef"]["name"] = "b"
    assert rejected("UPDATE", changed, ready) == denial(
        "vd", "data source cannot be changed if the VirtualDisk has already been provisioned")
    terminating = with_status(ref, "Terminating")
    changed = with_status(changed, "Terminating")
    assert rejected("UPDATE", changed, terminating) == denial(
        "vd", "spec cannot be changed if the VirtualDisk is the process of termination")


def test_vdsnapshot_is_immutable() -> None:
    old = create(obj("VirtualDiskSnapshot", {"virtualDiskName": "d"})).obj
    new = copy.deepcopy(old)
    new["spec"]["requiredConsistency"] = False
    assert rejected("UPDATE", new, old) == denial(
        "vdsnapshot", "VirtualDiskSnapshot is an idempotent resource: specification changes are not available")


def test_vmop_webhook_warns_on_migrate() -> None:
    assert create(obj("VirtualMachineOperation", {"type": "Migrate", "virtualMachineName": "vm"})).warnings == [
        "The Migrate type is deprecated, consider using Evict operation"]


def test_vm_webhook_rules() -> None:
    vm = {"virtualMachineClassName": "c", "cpu": {"cores": 1}, "memory": {"size": "1Gi"},
          "blockDeviceRefs": [{"kind": "VirtualDisk", "name": "d"}, {"kind": "VirtualDisk", "name": "d"}]}
    assert rejected("CREATE", obj("VirtualMachine", vm)) == denial(
        "vm", 'cannot specify the same block device reference more than once: VirtualDisk with name "d" has a '
              "duplicate reference")
    vm["blockDeviceRefs"] = [{"kind": "VirtualDisk", "name": "d", "bootOrder": 1},
                             {"kind": "VirtualImage", "name": "i", "bootOrder": 1}]
    assert rejected("CREATE", obj("VirtualMachine", vm)) == denial(
        "vm", 'duplicate bootOrder 1: already used by VirtualDisk/d, conflicts with VirtualImage "i"')
    vm["blockDeviceRefs"][1]["bootOrder"] = 2
    assert rejected("CREATE", obj("VirtualMachine", vm, name="v" * 64)) == denial(
        "vm", f'the VirtualMachine name "{"v" * 64}" is too long: it must be no more than 63 characters')
    assert rejected("CREATE", obj("VirtualMachine", vm, labels={"kubevirt.io/x": "y"})) == denial(
        "vm", "using the kubevirt.io group's name in the label is prohibited")
    create(obj("VirtualMachine", vm))


def test_webhooks_do_not_run_for_status_writes() -> None:
    old = with_status(create(obj("VirtualImage", HTTP_VI, name="legacy")).obj, "Ready", True)
    old["metadata"]["name"] = "legacy.1"  # a name the webhook would reject, stored before the rule existed
    new = copy.deepcopy(old)
    new["status"]["progress"] = "100%"
    assert update(new, old, subresource="status").warnings == []
    relabel = copy.deepcopy(old)
    relabel["metadata"]["labels"] = {"a": "b"}
    assert update(relabel, old).warnings == []  # no spec change: the webhook stays quiet
    respec = copy.deepcopy(with_status(old, "Pending", False))
    changed = copy.deepcopy(respec)
    changed["spec"]["dataSource"] = {"type": "Upload"}
    assert update(changed, respec).warnings == [
        ' the VirtualImage name "legacy.1" is invalid as it contains now forbidden symbol \'.\', allowed symbols for '
        "name are [0-9a-zA-Z-]. Create another image with valid name to avoid problems with future updates."]


def test_vm_first_block_device_must_be_a_cdrom_image_when_lookup_is_given() -> None:
    from _admission_support import request
    from sandbox.api.admission import AdmissionError, admit

    images = {("VirtualImage", "ns", "disk"): {"status": {"phase": "Ready", "cdrom": False}},
              ("VirtualImage", "ns", "iso"): {"status": {"phase": "Ready", "cdrom": True}},
              ("ClusterVirtualImage", "", "cdisk"): {"status": {"phase": "Ready", "cdrom": False}}}
    vm = {"virtualMachineClassName": "c", "cpu": {"cores": 1}, "memory": {"size": "1Gi"},
          "blockDeviceRefs": [{"kind": "VirtualImage", "name": "disk"}]}

    def attempt(first: dict) -> AdmissionError | None:
        req = request("CREATE", obj("VirtualMachine", {**vm, "blockDeviceRefs": [first]}))
        req.lookup = lambda kind, ns, name: images.get((kind, ns, name))
        try:
            admit(req)
        except AdmissionError as exc:
            return exc
        return None

    err = attempt({"kind": "VirtualImage", "name": "disk"})
    assert err is not None and err.status == denial(
        "vm", "a non-CDROM VirtualImage cannot occupy the first position in block devices: VirtualImage disk is "
              "not CDROM")
    err = attempt({"kind": "ClusterVirtualImage", "name": "cdisk"})
    assert err is not None and err.status["message"].endswith("ClusterVirtualImage cdisk is not CDROM")
    assert attempt({"kind": "VirtualImage", "name": "iso"}) is None
    assert attempt({"kind": "VirtualImage", "name": "missing"}) is None
    create(obj("VirtualMachine", vm))  # without lookup the rule cannot run
