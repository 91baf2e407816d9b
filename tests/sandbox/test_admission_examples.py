"""Every documented object is admitted: the CRDs' x-doc-examples, their field examples and the
shapes the platform contract describes."""
from __future__ import annotations

import copy
import re
from typing import Any, Iterator

import pytest

from _admission_support import CRD_FILES, NAMESPACED, SHA256, create, reference_crd, reference_schema
from sandbox.api.admission import schema_for


@pytest.mark.parametrize("kind", sorted(CRD_FILES))
def test_crd_doc_examples_are_admitted(kind: str) -> None:
    examples = reference_schema(kind).get("x-doc-examples") or []
    if not examples:
        pytest.skip(f"{kind}: the CRD has no x-doc-examples")
    for example in examples:
        o = copy.deepcopy(example)
        meta = o.setdefault("metadata", {})
        if kind in NAMESPACED:
            meta.setdefault("namespace", "ns")
        result = create(o)  # Strict: no unknown field either
        assert result.obj["spec"].items() >= {k: v for k, v in example["spec"].items()}.items()


def _string_examples(node: Any, path: str = "") -> Iterator[tuple[str, dict]]:
    if isinstance(node, dict):
        if node.get("type") == "string" and "example" in node:
            yield path, node
        for key, child in (node.get("properties") or {}).items():
            yield from _string_examples(child, f"{path}.{key}")
        if isinstance(node.get("items"), dict):
            yield from _string_examples(node["items"], f"{path}[]")


def _ours(schema: dict, path: str) -> dict | None:
    node: Any = schema
    for part in [p for p in re.split(r"\.|\[\]", path) if p]:
        node = (node.get("properties") or {}).get(part) if isinstance(node, dict) else None
        if node is None:
            return None
    return node


@pytest.mark.parametrize("kind", ["VirtualImage", "ClusterVirtualImage", "VirtualDisk"])
def test_field_examples_match_our_patterns(kind: str) -> None:
    """Each ``example`` the CRD gives for a patterned string field passes our schema's pattern."""
    ours = schema_for(kind)
    checked = 0
    for path, node in _string_examples(reference_schema(kind)):
        mine = _ours(ours, path)
        if mine is None or "pattern" not in mine or not isinstance(node["example"], str):
            continue
        assert re.search(mine["pattern"], node["example"]), (path, node["example"])
        checked += 1
    assert checked >= 8


CONTRACT_OBJECTS = [
    # section 2: each data source with its block; storage variants; every checksum algorithm
    ("VirtualImage", {"storage": "ContainerRegistry", "dataSource": {"type": "HTTP", "http": {
        "url": "http://mirror.local/img.qcow2", "caBundle": "YWFhCg==",
        "checksum": {"md5": "f3b59bed9f91e32fac1210184fcff6f5", "sha1": "0a0a9f2a6772942557ab5355d76af442f8f65e01",
                     "sha256": SHA256, "sha512": "a" * 128, "streebog256": "B" * 64, "streebog512": "0" * 128}}}}),
    ("VirtualImage", {"storage": "PersistentVolumeClaim", "persistentVolumeClaim": {"storageClassName": "fast"},
                      "dataSource": {"type": "ContainerImage", "containerImage": {
                          "image": "registry.example.com:5000/images/disk:1.0", "imagePullSecret": {"name": "creds"},
                          "caBundle": "YWFhCg=="}}}),
    ("VirtualImage", {"dataSource": {"type": "ObjectRef", "objectRef": {"kind": "VirtualDisk", "name": "vd-1"}}}),
    ("VirtualImage", {"dataSource": {"type": "ObjectRef", "objectRef": {"kind": "VirtualDiskSnapshot",
                                                                          "name": "snap"}}}),
    ("VirtualImage", {"dataSource": {"type": "Upload"}}),
    ("VirtualImage", {"dataSource": {"type": "Upload", "upload": {"checksum": {"sha256": SHA256}}}}),
    ("ClusterVirtualImage", {"dataSource": {"type": "ObjectRef", "objectRef": {
        "kind": "VirtualImage", "name": "vi-1", "namespace": "ns"}}}),
    ("ClusterVirtualImage", {"dataSource": {"type": "ObjectRef", "objectRef": {
        "kind": "ClusterVirtualImage", "name": "other"}}}),
    ("ClusterVirtualImage", {"dataSource": {"type": "ContainerImage", "containerImage": {
        "image": "registry.example.com/img:1", "imagePullSecret": {"name": "s", "namespace": "ns"}}}}),
    # section 7: stop and start a VM
    ("VirtualMachineOperation", {"type": "Stop", "virtualMachineName": "vm-1"}),
    ("VirtualMachineOperation", {"type": "Start", "virtualMachineName": "vm-1"}),
    ("VirtualMachine", {"virtualMachineClassName": "generic", "runPolicy": "Manual", "cpu": {"cores": 1},
                        "memory": {"size": "1Gi"}, "blockDeviceRefs": [{"kind": "VirtualDisk", "name": "vd-1"}]}),
    ("VirtualDisk", {"persistentVolumeClaim": {"size": "10Gi"}}),
    ("VirtualDiskSnapshot", {"virtualDiskName": "vd-1"}),
]


@pytest.mark.parametrize(("kind", "spec"), CONTRACT_OBJECTS, ids=lambda v: v if isinstance(v, str) else "")
def test_contract_objects_are_admitted(kind: str, spec: dict) -> None:
    from _admission_support import obj

    result = create(obj(kind, spec))
    assert result.warnings == []
    for key, value in spec.items():
        assert result.obj["spec"][key] == value


def test_reference_crds_cover_every_kind() -> None:
    """Guard: the kinds we admit are exactly the reference CRDs' kinds."""
    for kind in CRD_FILES:
        assert reference_crd(kind)["spec"]["names"]["kind"] == kind
