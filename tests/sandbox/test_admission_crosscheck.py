"""Cross-checks against the reference CRDs of both platform lines (dev: ../shared/reference/crds,
v1.10: ../shared/reference/crds-v1.10): our verdicts agree with their openAPIV3Schema (jsonschema),
their CEL rules give the same answers through our evaluator, and the schemas' constraints match."""
from __future__ import annotations

import copy
from typing import Any, Iterator

import jsonschema
import pytest

from _admission_support import CRD_FILES, HTTP_VI, LINES, SHA256, reference_schema
from sandbox.api.admission import cel, openapi, schema_for
from sandbox.api.admission.defaults import apply_defaults

VM = {"virtualMachineClassName": "generic", "cpu": {"cores": 1}, "memory": {"size": "1Gi"},
      "blockDeviceRefs": [{"kind": "VirtualDisk", "name": "d"}]}

# (kind, spec, valid?) -- valid means: passes the OpenAPI schema (CEL and webhooks are checked elsewhere)
SAMPLES: list[tuple[str, dict, bool]] = [
    ("VirtualImage", HTTP_VI, True),
    ("VirtualImage", {**HTTP_VI, "storage": "PersistentVolumeClaim"}, True),
    ("VirtualImage", {**HTTP_VI, "storage": "Local"}, False),
    ("VirtualImage", {"dataSource": {"type": "HTTP", "http": {"url": "ftp://a/b"}}}, False),
    ("VirtualImage", {"dataSource": {"type": "HTTP", "http": {}}}, False),
    ("VirtualImage", {"dataSource": {"type": "HTTP", "http": {"url": "https://a/b", "checksum": {"sha256": SHA256}}}},
     True),
    ("VirtualImage", {"dataSource": {"type": "HTTP", "http": {"url": "https://a/b", "checksum": {"sha1": "abc"}}}},
     False),
    ("VirtualImage", {"dataSource": {"type": "ContainerImage", "containerImage": {"image": "reg.io/a/b:1"}}}, True),
    ("VirtualImage", {"dataSource": {"type": "ContainerImage", "containerImage": {"image": "Reg io"}}}, False),
    ("VirtualImage", {"dataSource": {"type": "ObjectRef", "objectRef": {"kind": "VirtualDisk", "name": ""}}}, False),
    ("VirtualImage", {"dataSource": {"type": "ObjectRef", "objectRef": {"kind": "Pod", "name": "a"}}}, False),
    ("VirtualImage", {"dataSource": {"type": 5}}, False),
    ("VirtualImage", {}, False),
    ("ClusterVirtualImage", {"dataSource": {"type": "Upload"}}, True),
    ("ClusterVirtualImage", {"dataSource": {}}, False),
    ("ClusterVirtualImage", {"dataSource": {"type": "ObjectRef", "objectRef": {
        "kind": "VirtualImage", "name": "a", "namespace": "n"}}}, True),
    ("VirtualDisk", {"persistentVolumeClaim": {"size": "10Gi", "storageClassName": "x"}}, True),
    ("VirtualDisk", {"persistentVolumeClaim": {"size": 1073741824}}, True),
    ("VirtualDisk", {"persistentVolumeClaim": {"size": "ten"}}, False),
    ("VirtualDisk", {"dataSource": {"type": "ObjectRef", "objectRef": {"kind": "VirtualDisk", "name": "a"}}}, False),
    ("VirtualDiskSnapshot", {"virtualDiskName": "d"}, True),
    ("VirtualDiskSnapshot", {"virtualDiskName": ""}, False),
    ("VirtualDiskSnapshot", {"requiredConsistency": "yes", "virtualDiskName": "d"}, False),
    ("VirtualMachineOperation", {"type": "Stop", "virtualMachineName": "vm"}, True),
    ("VirtualMachineOperation", {"type": "Halt", "virtualMachineName": "vm"}, False),
    ("VirtualMachineOperation", {"type": "Stop"}, False),
    ("VirtualMachineOperation", {"type": "Restore", "virtualMachineName": "vm", "restore": {"mode": "Strict"}}, False),
    ("VirtualMachineOperation", {"type": "Migrate", "virtualMachineName": "vm", "migrate": {
        "nodeSelector": {"a": "b"}}}, True),
    ("VirtualMachine", VM, True),
    ("VirtualMachine", {**VM, "cpu": {"cores": 0}}, False),
    ("VirtualMachine", {**VM, "cpu": {"cores": 1, "coreFraction": "110%"}}, False),
    ("VirtualMachine", {**VM, "memory": {"size": "lots"}}, False),
    ("VirtualMachine", {**VM, "blockDeviceRefs": []}, False),
    ("VirtualMachine", {**VM, "runPolicy": "Manual", "osType": "Windows", "bootloader": "EFI"}, True),
    ("VirtualMachine", {**VM, "provisioning": {"type": "UserData", "userData": "x"}}, True),
    ("VirtualMachine", {**VM, "provisioning": {"type": "UserData", "userDataRef": {"kind": "Secret", "name": "s"}}},
     False),
    ("VirtualMachine", {**VM, "gpus": [{"gpuClassName": "Bad_Name"}]}, False),
    ("VirtualMachine", {**VM, "usbDevices": [{"name": f"u{i}"} for i in range(9)]}, False),
]


def _doc(kind: str, spec: dict, line: str = "dev") -> dict:
    o = {"apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": kind, "metadata": {"name": "x"},
         "spec": copy.deepcopy(spec)}
    apply_defaults(o, schema_for(kind, line))
    return o


def _jsonschema(schema: Any) -> Any:
    """Strip the Kubernetes extensions jsonschema does not know; int-or-string becomes its anyOf."""
    if isinstance(schema, dict):
        return {k: _jsonschema(v) for k, v in schema.items()
                if not k.startswith("x-kubernetes") and k not in ("x-doc-examples", "nullable")}
    if isinstance(schema, list):
        return [_jsonschema(v) for v in schema]
    return schema


@pytest.mark.parametrize("line", LINES)
@pytest.mark.parametrize(("kind", "spec", "valid"), SAMPLES)
def test_verdict_agrees_with_reference_schema(kind: str, spec: dict, valid: bool, line: str) -> None:
    """`valid` is the development line's verdict; on v1.10 ours must simply agree with its CRD (a field
    v1.10 lacks is no error there: the decoder prunes it before validation)."""
    doc = _doc(kind, spec, line)
    reference_ok = jsonschema.Draft4Validator(_jsonschema(reference_schema(kind, line))).is_valid(doc)
    ours_ok = not openapi.validate(doc, schema_for(kind, line))
    assert reference_ok == ours_ok
    if line == "dev":
        assert ours_ok == valid


CEL_SAMPLES: list[tuple[str, dict, dict | None]] = [
    ("VirtualImage", {"dataSource": {"type": "HTTP"}}, None),
    ("VirtualImage", {"dataSource": {"type": "Upload", "objectRef": {"kind": "VirtualImage", "name": "a"}}}, None),
    ("VirtualImage", HTTP_VI, None),
    ("ClusterVirtualImage", {"dataSource": {"type": "ObjectRef", "objectRef": {"kind": "VirtualDisk", "name": "a"}}},
     None),
    ("ClusterVirtualImage", {"dataSource": {"type": "ObjectRef", "objectRef": {
        "kind": "VirtualDiskSnapshot", "name": "a", "namespace": "n" * 64}}}, None),
    ("VirtualDisk", {"dataSource": {"type": "ContainerImage"}}, None),
    ("VirtualMachineOperation", {"type": "Start", "virtualMachineName": "a", "force": True}, None),
    ("VirtualMachineOperation", {"type": "Clone", "virtualMachineName": "a", "clone": {
        "mode": "DryRun", "customization": {"namePrefix": ""}, "nameReplacement": [{"from": {"name": "a"},
                                                                                     "to": "b" * 70}]}}, None),
    ("VirtualMachineOperation", {"type": "Stop", "virtualMachineName": "a"},
     {"type": "Start", "virtualMachineName": "a"}),
    ("VirtualMachineOperation", {"type": "Stop", "virtualMachineName": "a", "migrate": {}},
     {"type": "Stop", "virtualMachineName": "a", "migrate": {}}),
    ("VirtualMachine", {**VM, "osType": "Legacy", "bootloader": "EFI", "enableParavirtualization": False,
                        "provisioning": {"type": "UserData", "userData": "x" * 3000}}, None),
    ("VirtualMachine", {**VM, "cpu": {"cores": 1, "coreFraction": "101%"}}, None),
    ("VirtualMachine", {**VM, "cpu": {"cores": 1, "coreFraction": "Auto"}}, None),
]


@pytest.mark.parametrize("line", LINES)
@pytest.mark.parametrize(("kind", "spec", "old_spec"), CEL_SAMPLES)
def test_reference_cel_rules_agree(kind: str, spec: dict, old_spec: dict | None, line: str) -> None:
    """The reference CRD's own rules, run through our CEL evaluator, give exactly our errors."""
    doc = _doc(kind, spec, line)
    old = _doc(kind, old_spec, line) if old_spec is not None else cel.ABSENT
    theirs = cel.check(doc, reference_schema(kind, line), old)
    ours = cel.check(doc, schema_for(kind, line), old)
    assert [str(e) for e in ours] == [str(e) for e in theirs]


_CONSTRAINTS = ("type", "enum", "pattern", "required", "default", "minLength", "maxLength", "minimum", "maximum",
                "minItems", "maxItems", "format", "x-kubernetes-int-or-string", "x-kubernetes-list-type", "nullable")


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, dict]]:
    if not isinstance(node, dict):
        return
    yield path, node
    for key, child in (node.get("properties") or {}).items():
        yield from _walk(child, f"{path}.{key}")
    if isinstance(node.get("items"), dict):
        yield from _walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _walk(node["additionalProperties"], f"{path}{{}}")


def _rules(node: dict) -> list[tuple[str, str]]:
    return [(" ".join(r["rule"].split()), " ".join(r["message"].split()))
            for r in node.get("x-kubernetes-validations", [])]


@pytest.mark.parametrize("line", LINES)
@pytest.mark.parametrize("kind", sorted(CRD_FILES))
def test_schema_constraints_match_reference(kind: str, line: str) -> None:
    """Every spec path we declare carries the reference's constraints and rules; every reference spec path
    exists in ours, or lies under a part we keep as preserve-unknown (VirtualMachine affinity, selectors)."""
    ours = dict(_walk(schema_for(kind, line)["properties"]["spec"], "spec"))
    theirs = dict(_walk(reference_schema(kind, line)["properties"]["spec"], "spec"))
    preserved = [p for p, n in ours.items() if n.get("x-kubernetes-preserve-unknown-fields")]
    for path, ref in theirs.items():
        if path not in ours:
            assert any(path.startswith(p + ".") or path.startswith(p + "[") for p in preserved), path
            continue
        mine = ours[path]
        for key in _CONSTRAINTS:
            if key == "required" and mine.get("x-kubernetes-preserve-unknown-fields"):
                continue
            assert sorted(map(str, _as_list(mine.get(key)))) == sorted(map(str, _as_list(ref.get(key)))), (path, key)
        assert _rules(mine) == _rules(ref), path
        assert bool(mine.get("oneOf")) == bool(ref.get("oneOf")), path
    assert set(ours) - set(theirs) <= {p for p in ours if any(p.startswith(q) for q in preserved)}


def _as_list(v: Any) -> list:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


@pytest.mark.parametrize("line", LINES)
@pytest.mark.parametrize("kind", sorted(CRD_FILES))
def test_status_schema_is_close_to_reference(kind: str, line: str) -> None:
    """Status: every field we type exists in the reference with the same type and enum."""
    ours = dict(_walk(schema_for(kind, line)["properties"]["status"], "status"))
    theirs = dict(_walk(reference_schema(kind, line)["properties"]["status"], "status"))
    for path, mine in ours.items():
        assert path in theirs, path
        for key in ("type", "enum"):
            assert mine.get(key) == theirs[path].get(key), (path, key)


@pytest.mark.parametrize("kind", ["VirtualImage", "ClusterVirtualImage", "VirtualDisk"])
def test_the_lines_differ_where_their_crds_do(kind: str) -> None:
    """v1.10 lacks the newer checksums and the upload block; both lines match their own CRD on it."""
    def paths(schema: dict) -> set[str]:
        return set(dict(_walk(schema["properties"]["spec"], "spec")))

    for line in LINES:
        assert paths(schema_for(kind, line)) == paths(reference_schema(kind, line))
    only_dev = paths(schema_for(kind, "dev")) - paths(schema_for(kind, "v1.10"))
    assert "spec.dataSource.http.checksum.sha512" in only_dev
    assert "spec.dataSource.upload.checksum.sha256" in only_dev
