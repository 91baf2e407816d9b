"""The VirtualDisk webhook's warnings about its source, on both platform lines (the validators are the same on
v1.10.2 and main): a size below a Ready source image's unpacked bytes, and an ISO image as the source."""
from __future__ import annotations

import copy

import pytest

from _admission_support import LINES, obj, request
from sandbox.api.admission import AdmissionError, AdmissionResult, admit

IMAGES = {
    ("VirtualImage", "ns", "disk"): {"status": {"phase": "Ready", "format": "qcow2",
                                                "size": {"unpackedBytes": "10485760"}}},  # 10Mi
    ("VirtualImage", "ns", "odd"): {"status": {"phase": "Ready", "format": "raw",
                                               "size": {"unpackedBytes": "5000000"}}},   # aligned up to 5Mi
    ("VirtualImage", "ns", "importing"): {"status": {"phase": "Provisioning", "format": "iso",
                                                     "size": {"unpackedBytes": "10485760"}}},
    ("ClusterVirtualImage", "", "installer"): {"status": {"phase": "Ready", "format": "iso",
                                                          "size": {"unpackedBytes": "3145728"}}},
}
SHORT = "The specified pvc size is insufficient: 1048576 (1Mi) < 10485760"
ISO = ("Creating a virtual disk from an ISO image is not supported: please use a virtual image or a cluster "
       "virtual image instead")


def disk(kind: str, name: str, size: str | None) -> dict:
    spec: dict = {"dataSource": {"type": "ObjectRef", "objectRef": {"kind": kind, "name": name}}}
    if size is not None:
        spec["persistentVolumeClaim"] = {"size": size}
    return obj("VirtualDisk", spec, name="d")


def admitted(line: str, operation: str, new: dict, old: dict | None = None) -> AdmissionResult:
    req = request(operation, new, old)
    req.platform = line
    req.lookup = lambda kind, ns, name: copy.deepcopy(IMAGES.get((kind, ns, name)))
    return admit(req)


@pytest.mark.parametrize("line", LINES)
def test_a_disk_smaller_than_its_ready_image_is_stored_with_a_warning(line: str) -> None:
    assert admitted(line, "CREATE", disk("VirtualImage", "disk", "1Mi")).warnings == [SHORT]
    assert admitted(line, "CREATE", disk("VirtualImage", "disk", "10Mi")).warnings == []
    assert admitted(line, "CREATE", disk("VirtualImage", "disk", None)).warnings == []   # sized from the image
    assert admitted(line, "CREATE", disk("VirtualImage", "odd", "4999999")).warnings == [
        "The specified pvc size is insufficient: 4999999 < 5242880"]
    assert admitted(line, "CREATE", disk("VirtualImage", "missing", "1Mi")).warnings == []


@pytest.mark.parametrize("line", LINES)
def test_an_iso_source_warns_once_the_image_is_ready_on_create_and_on_every_update(line: str) -> None:
    assert admitted(line, "CREATE", disk("ClusterVirtualImage", "installer", "1Mi")).warnings == [
        "The specified pvc size is insufficient: 1048576 (1Mi) < 3145728", ISO]
    assert admitted(line, "CREATE", disk("VirtualImage", "importing", "1Mi")).warnings == []
    old = admitted(line, "CREATE", disk("ClusterVirtualImage", "installer", "4Mi")).obj
    relabelled = copy.deepcopy(old)
    relabelled["metadata"]["labels"] = {"a": "b"}
    assert admitted(line, "UPDATE", relabelled, old).warnings == [ISO]


@pytest.mark.parametrize("line", LINES)
def test_on_update_the_size_warning_comes_only_with_a_size_change(line: str) -> None:
    old = admitted(line, "CREATE", disk("VirtualImage", "disk", "1Mi")).obj
    relabelled = copy.deepcopy(old)
    relabelled["metadata"]["labels"] = {"a": "b"}
    assert admitted(line, "UPDATE", relabelled, old).warnings == []
    grown = copy.deepcopy(old)
    grown["spec"]["persistentVolumeClaim"]["size"] = "2Mi"
    assert admitted(line, "UPDATE", grown, old).warnings == [
        "The specified pvc size is insufficient: 2097152 (2Mi) < 10485760"]
    old["status"] = {"phase": "Pending"}
    unsized = copy.deepcopy(old)
    del unsized["spec"]["persistentVolumeClaim"]["size"]
    with pytest.raises(AdmissionError) as err:   # Pending: omitting the size is allowed, but not below the image
        admitted(line, "UPDATE", unsized, old)
    assert err.value.status["message"].endswith("denied the request: cannot create disk with zero pvc size")
