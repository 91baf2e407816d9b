"""Schema validation: every enum, pattern and CEL rule rejects with the apiserver's exact message."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from _admission_support import HTTP_VI, SHA256, create, obj, rejected, request, update
from sandbox.api.admission import AdmissionError, admit

URL_PATTERN = r"^http[s]?:\/\/(?:[a-zA-Z]|[0-9]|[$-_@.&+]|[!*\(\),]|(?:%[0-9a-fA-F][0-9a-fA-F]))+$"
CEL_SKIPPED = ('<nil>: Invalid value: "null": some validation rules were not checked because the object was '
               "invalid; correct the existing errors to complete validation")
VM = {"virtualMachineClassName": "generic", "cpu": {"cores": 1}, "memory": {"size": "1Gi"},
      "blockDeviceRefs": [{"kind": "VirtualDisk", "name": "d"}]}
VMOP = {"type": "Restart", "virtualMachineName": "vm"}


def with_(base: dict, path: str, value: Any) -> dict:
    """A copy of ``base`` with ``value`` set at the dotted ``path`` (intermediate dicts created)."""
    out = copy.deepcopy(base)
    node = out
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


def causes(status: dict) -> list[str]:
    return [f'{c["field"]}: {c["message"]}' for c in status["details"]["causes"]]


def test_message_form_for_unsupported_value() -> None:
    status = rejected("CREATE", obj("VirtualImage", with_(HTTP_VI, "dataSource.type", "FTP")))
    assert status["code"] == 422 and status["reason"] == "Invalid"
    assert status["details"] == {
        "name": "x", "group": "virtualization.deckhouse.io", "kind": "VirtualImage",
        "causes": [
            {"reason": "FieldValueNotSupported", "field": "spec.dataSource.type",
             "message": 'Unsupported value: "FTP": supported values: "HTTP", "ContainerImage", "ObjectRef", "Upload"'},
            {"reason": "FieldValueInvalid", "field": "<nil>",
             "message": CEL_SKIPPED.split(": ", 1)[1]},
        ],
    }
    assert status["message"] == (
        'VirtualImage.virtualization.deckhouse.io "x" is invalid: [spec.dataSource.type: Unsupported value: "FTP": '
        'supported values: "HTTP", "ContainerImage", "ObjectRef", "Upload", ' + CEL_SKIPPED + "]")


def test_message_form_for_pattern() -> None:
    status = rejected("CREATE", obj("VirtualImage", with_(HTTP_VI, "dataSource.http.url", "ftp://x")))
    assert status["message"] == (
        'VirtualImage.virtualization.deckhouse.io "x" is invalid: spec.dataSource.http.url: Invalid value: '
        f"\"ftp://x\": spec.dataSource.http.url in body should match '{URL_PATTERN}'")


ENUMS = [
    ("VirtualImage", HTTP_VI, "storage", "Local",
     '"ContainerRegistry", "Kubernetes", "PersistentVolumeClaim"'),
    ("VirtualImage", {"dataSource": {"type": "ObjectRef"}}, "dataSource.objectRef",
     {"kind": "Pod", "name": "p"}, '"ClusterVirtualImage", "VirtualImage", "VirtualDisk", "VirtualDiskSnapshot"'),
    ("ClusterVirtualImage", HTTP_VI, "dataSource.type", "Git", '"HTTP", "ContainerImage", "ObjectRef", "Upload"'),
    ("ClusterVirtualImage", {"dataSource": {"type": "ObjectRef"}}, "dataSource.objectRef",
     {"kind": "Pod", "name": "p"}, '"ClusterVirtualImage", "VirtualImage", "VirtualDisk", "VirtualDiskSnapshot"'),
    ("VirtualDisk", {"dataSource": {"type": "ObjectRef"}}, "dataSource.objectRef",
     {"kind": "VirtualDisk", "name": "p"}, '"ClusterVirtualImage", "VirtualImage", "VirtualDiskSnapshot"'),
    ("VirtualDisk", HTTP_VI, "dataSource.type", "S3", '"HTTP", "ContainerImage", "ObjectRef", "Upload"'),
    ("VirtualMachineOperation", VMOP, "type", "Pause",
     '"Restart", "Start", "Stop", "Migrate", "Evict", "Restore", "Clone"'),
    ("VirtualMachineOperation", {"type": "Restore", "virtualMachineName": "vm"}, "restore",
     {"mode": "Fast", "virtualMachineSnapshotName": "s"}, '"DryRun", "Strict", "BestEffort"'),
    ("VirtualMachineOperation", {"type": "Clone", "virtualMachineName": "vm"}, "clone",
     {"mode": "Fast", "customization": {"namePrefix": "a"}}, '"DryRun", "Strict", "BestEffort"'),
    ("VirtualMachine", VM, "runPolicy", "Sometimes", '"AlwaysOn", "AlwaysOff", "Manual", "AlwaysOnUnlessStoppedManually"'),
    ("VirtualMachine", VM, "osType", "BeOS", '"Windows", "Generic", "Legacy"'),
    ("VirtualMachine", VM, "bootloader", "GRUB", '"BIOS", "EFI", "EFIWithSecureBoot"'),
    ("VirtualMachine", VM, "liveMigrationPolicy", "Never", '"AlwaysSafe", "PreferSafe", "AlwaysForced", "PreferForced"'),
    ("VirtualMachine", VM, "disruptions", {"restartApprovalMode": "Sometimes"}, '"Manual", "Automatic"'),
    ("VirtualMachine", VM, "blockDeviceRefs", [{"kind": "PVC", "name": "d"}],
     '"ClusterVirtualImage", "VirtualImage", "VirtualDisk"'),
    ("VirtualMachine", VM, "networks", [{"type": "Bridge"}], '"Main", "Network", "ClusterNetwork"'),
]


@pytest.mark.parametrize(("kind", "spec", "path", "bad", "allowed"), ENUMS)
def test_enum_rejected(kind: str, spec: dict, path: str, bad: Any, allowed: str) -> None:
    status = rejected("CREATE", obj(kind, with_(spec, path, bad)))
    value = bad if isinstance(bad, str) else next(v for v in _leaves(bad) if v not in ("p", "d", "a", "s"))
    field = "spec." + path if isinstance(bad, str) else None
    matching = [c for c in causes(status) if f'Unsupported value: "{value}": supported values: {allowed}' in c]
    assert len(matching) == 1, causes(status)
    if field:
        assert matching[0].startswith(field + ": ")
    assert CEL_SKIPPED in causes(status)


def _leaves(v: Any) -> list[Any]:
    if isinstance(v, dict):
        return [x for item in v.values() for x in _leaves(item)]
    if isinstance(v, list):
        return [x for item in v for x in _leaves(item)]
    return [v]


def test_enum_in_array_item_has_indexed_path() -> None:
    status = rejected("CREATE", obj("VirtualMachine", with_(VM, "blockDeviceRefs", [
        {"kind": "VirtualDisk", "name": "a"}, {"kind": "Pod", "name": "b"}])))
    assert causes(status)[0].startswith('spec.blockDeviceRefs[1].kind: Unsupported value: "Pod"')


PATTERNS = [
    ("VirtualImage", HTTP_VI, "dataSource.http.url", "ftp://mirror/x.img"),
    ("VirtualImage", {"dataSource": {"type": "ContainerImage"}}, "dataSource.containerImage.image", "Bad Image!"),
    ("ClusterVirtualImage", {"dataSource": {"type": "ContainerImage"}}, "dataSource.containerImage.image", "UPPER/x"),
    ("VirtualDisk", {"dataSource": {"type": "ContainerImage"}}, "dataSource.containerImage.image", "a b"),
    ("VirtualDisk", {}, "persistentVolumeClaim.size", "10GB"),
    ("VirtualMachine", VM, "cpu.coreFraction", "050%"),  # CEL accepts it, the pattern does not
    ("VirtualMachine", VM, "memory.size", "1 GiB"),
]


@pytest.mark.parametrize(("kind", "spec", "path", "bad"), PATTERNS)
def test_pattern_rejected(kind: str, spec: dict, path: str, bad: str) -> None:
    from sandbox.api.admission import schema_for

    node = schema_for(kind)["properties"]["spec"]
    for part in path.split("."):
        node = node["properties"][part]
    base = with_(spec, path.rsplit(".", 1)[0], {}) if "." in path and path.startswith("dataSource.c") else spec
    o = obj(kind, with_(base, path, bad))
    status = rejected("CREATE", o)
    field = f"spec.{path}"
    assert causes(status) == [f'{field}: Invalid value: "{bad}": {field} in body should match \'{node["pattern"]}\'']


@pytest.mark.parametrize("algo,length", [("md5", 32), ("sha1", 40), ("sha256", 64), ("sha512", 128),
                                         ("streebog256", 64), ("streebog512", 128)])
@pytest.mark.parametrize("where", ["http", "upload"])
def test_checksum_length_and_hex(algo: str, length: int, where: str) -> None:
    base = HTTP_VI if where == "http" else {"dataSource": {"type": "Upload"}}
    field = f"spec.dataSource.{where}.checksum.{algo}"
    pattern = f"^[0-9a-fA-F]{{{length}}}$"
    short = with_(base, f"dataSource.{where}.checksum", {algo: "a" * (length - 1)})
    # kube-openapi's string validator stops at the first of maxLength, minLength, pattern that fails
    assert causes(rejected("CREATE", obj("VirtualImage", short))) == [
        f'{field}: Invalid value: "{"a" * (length - 1)}": {field} in body should be at least {length} chars long',
    ]
    long = with_(base, f"dataSource.{where}.checksum", {algo: "a" * (length + 1)})
    assert causes(rejected("CREATE", obj("VirtualImage", long)))[:2] == [
        f"{field}: Too long: may not be longer than {length}",
        '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; '
        'correct the existing errors to complete validation',
    ]
    not_hex = with_(base, f"dataSource.{where}.checksum", {algo: "g" * length})
    assert causes(rejected("CREATE", obj("VirtualImage", not_hex))) == [
        f'{field}: Invalid value: "{"g" * length}": {field} in body should match \'{pattern}\'']


def test_required_type_min_and_format_messages() -> None:
    assert causes(rejected("CREATE", obj("VirtualImage", {"storage": "ContainerRegistry"}))) == [
        "spec.dataSource: Required value", CEL_SKIPPED]
    assert causes(rejected("CREATE", obj("VirtualImage", None))) == ["spec: Required value", CEL_SKIPPED]
    assert causes(rejected("CREATE", obj("VirtualMachine", with_(VM, "cpu.cores", "two")))) == [
        'spec.cpu.cores: Invalid value: "string": spec.cpu.cores in body must be of type integer: "string"',
        CEL_SKIPPED]
    assert causes(rejected("CREATE", obj("VirtualMachine", with_(VM, "cpu.cores", 0)))) == [
        "spec.cpu.cores: Invalid value: 0: spec.cpu.cores in body should be greater than or equal to 1"]
    assert causes(rejected("CREATE", obj("VirtualMachine", with_(VM, "blockDeviceRefs", [])))) == [
        "spec.blockDeviceRefs: Invalid value: 0: spec.blockDeviceRefs in body should have at least 1 items"]
    many = [{"kind": "VirtualDisk", "name": f"d{i}"} for i in range(17)]
    assert causes(rejected("CREATE", obj("VirtualMachine", with_(VM, "blockDeviceRefs", many)))) == [
        "spec.blockDeviceRefs: Too many: 17: must have at most 16 items", CEL_SKIPPED]
    assert causes(rejected("CREATE", obj("VirtualImage", {"dataSource": {"type": "ObjectRef", "objectRef": {
        "kind": "VirtualImage", "name": ""}}}))) == [
        'spec.dataSource.objectRef.name: Invalid value: "": spec.dataSource.objectRef.name in body should be at '
        "least 1 chars long"]
    assert causes(rejected("CREATE", obj("VirtualImage", with_(HTTP_VI, "dataSource.http.caBundle", "%%%")))) == [
        'spec.dataSource.http.caBundle: Invalid value: "%%%": spec.dataSource.http.caBundle in body must be of '
        'type byte: "%%%"', CEL_SKIPPED]


# ---- CEL rules -------------------------------------------------------------------------------------

DS_RULES = [
    ({"type": "HTTP"}, "HTTP requires http and cannot have ContainerImage, ObjectRef or Upload."),
    ({"type": "HTTP", "http": {"url": "https://a/b"}, "upload": {}},
     "HTTP requires http and cannot have ContainerImage, ObjectRef or Upload."),
    ({"type": "ContainerImage", "http": {"url": "https://a/b"}},
     "ContainerImage requires containerImage and cannot have HTTP, ObjectRef or Upload."),
    ({"type": "ObjectRef", "containerImage": {"image": "r.io/a:1"}},
     "ObjectRef requires objectRef and cannot have HTTP, ContainerImage or Upload."),
    ({"type": "Upload", "http": {"url": "https://a/b"}}, "Upload cannot have HTTP, ContainerImage or ObjectRef."),
]


@pytest.mark.parametrize("kind", ["VirtualImage", "ClusterVirtualImage", "VirtualDisk"])
@pytest.mark.parametrize(("source", "message"), DS_RULES)
def test_data_source_rules(kind: str, source: dict, message: str) -> None:
    status = rejected("CREATE", obj(kind, {"dataSource": source}))
    assert causes(status) == [f'spec.dataSource: Invalid value: "object": {message}']
    assert status["message"] == (f'{kind}.virtualization.deckhouse.io "x" is invalid: spec.dataSource: '
                                 f'Invalid value: "object": {message}')


def test_cvi_object_ref_namespace_rules() -> None:
    ref = {"type": "ObjectRef", "objectRef": {"kind": "VirtualDisk", "name": "d"}}
    field = 'spec.dataSource.objectRef: Invalid value: "object": '
    assert causes(rejected("CREATE", obj("ClusterVirtualImage", {"dataSource": ref}))) == [
        field + "The namespace is required for VirtualDisk, VirtualImage and VirtualDiskSnapshot",
        field + "The namespace must be no longer than 63 characters."]
    long_ns = with_({"dataSource": ref}, "dataSource.objectRef.namespace", "n" * 64)
    assert causes(rejected("CREATE", obj("ClusterVirtualImage", long_ns))) == [
        field + "The namespace must be no longer than 63 characters."]
    ok = with_({"dataSource": ref}, "dataSource.objectRef.namespace", "n" * 63)
    create(obj("ClusterVirtualImage", ok))


VMOP_RULES = [
    ({"type": "Start", "virtualMachineName": "vm", "force": True}, "spec",
     "The `Start` operation cannot be performed forcibly."),
    ({"type": "Restore", "virtualMachineName": "vm"}, "spec", "Restore requires restore field."),
    ({"type": "Clone", "virtualMachineName": "vm"}, "spec", "Clone requires clone field."),
    ({"type": "Stop", "virtualMachineName": "vm", "migrate": {}}, "spec",
     "spec.migrate can only be set when spec.type is 'Migrate'"),
    ({"type": "Clone", "virtualMachineName": "vm", "clone": {"mode": "Strict"}}, "spec.clone",
     "At least one of customization.namePrefix, customization.nameSuffix, or nameReplacement must be set"),
    ({"type": "Clone", "virtualMachineName": "vm", "clone": {"mode": "Strict", "customization": {
        "namePrefix": "p" * 60}}}, "spec.clone.customization",
     "namePrefix length must be between 1 and 59 characters if set"),
    ({"type": "Clone", "virtualMachineName": "vm", "clone": {"mode": "Strict", "customization": {
        "namePrefix": "p", "nameSuffix": "s" * 60}}}, "spec.clone.customization",
     "nameSuffix length must be between 1 and 59 characters if set"),
]


@pytest.mark.parametrize(("spec", "field", "message"), VMOP_RULES)
def test_vmop_rules(spec: dict, field: str, message: str) -> None:
    assert causes(rejected("CREATE", obj("VirtualMachineOperation", spec))) == [
        f'{field}: Invalid value: "object": {message}']


def test_vmop_name_replacement_rule() -> None:
    spec = {"type": "Clone", "virtualMachineName": "vm", "clone": {"mode": "Strict", "nameReplacement": [
        {"from": {"name": "a"}, "to": "t" * 60}]}}
    assert causes(rejected("CREATE", obj("VirtualMachineOperation", spec))) == [
        'spec.clone.nameReplacement: Invalid value: "array": Each nameReplacement.to must be between 1 and 59 '
        "characters"]


def test_vmop_spec_is_immutable_only_on_update() -> None:
    old = create(obj("VirtualMachineOperation", VMOP)).obj
    old["status"] = {"phase": "InProgress"}
    changed = with_(old, "spec.virtualMachineName", "other")
    assert causes(rejected("UPDATE", changed, old)) == ['spec: Invalid value: "object": .spec is immutable']
    relabeled = with_(old, "metadata.labels", {"a": "b"})
    assert update(relabeled, old).obj["metadata"]["labels"] == {"a": "b"}


VM_RULES = [
    ({"cpu": {"cores": 1, "coreFraction": "0%"}}, None),  # pattern catches it; the CEL rule never sees it pass
    ({"osType": "Legacy", "bootloader": "EFI"}, "The Legacy osType requires the BIOS bootloader."),
    ({"osType": "Legacy", "provisioning": {"type": "UserData", "userData": "#cloud-config"}},
     "The Legacy osType does not support provisioning: such operating systems have no cloud-init or Sysprep "
     "support."),
    ({"osType": "Legacy", "enableParavirtualization": False, "blockDeviceRefs": [
        {"kind": "VirtualDisk", "name": f"d{i}"} for i in range(5)]},
     "The Legacy osType with enableParavirtualization=false supports at most 4 block devices."),
]


@pytest.mark.parametrize(("patch", "message"), VM_RULES[1:])
def test_vm_spec_rules(patch: dict, message: str) -> None:
    spec = {**VM, **patch}
    assert causes(rejected("CREATE", obj("VirtualMachine", spec))) == [f'spec: Invalid value: "object": {message}']


def test_vm_core_fraction_rule_and_pattern() -> None:
    pattern = "^(Auto|(100|[1-9][0-9]?)%)$"
    status = rejected("CREATE", obj("VirtualMachine", with_(VM, "cpu.coreFraction", "0%")))
    assert causes(status) == [
        f"spec.cpu.coreFraction: Invalid value: \"0%\": spec.cpu.coreFraction in body should match '{pattern}'",
        "spec: Invalid value: \"object\": Core fraction must be 'Auto' or a percentage between 1% and 100%."]
    for good in ("Auto", "1%", "50%", "100%"):
        create(obj("VirtualMachine", with_(VM, "cpu.coreFraction", good)))


def test_vm_user_data_size_rule() -> None:
    spec = {**VM, "provisioning": {"type": "UserData", "userData": "x" * 2049}}
    assert causes(rejected("CREATE", obj("VirtualMachine", spec))) == [
        'spec.provisioning.userData: Invalid value: "string": `userData` exceeds 2048 byte limit; should use '
        "`userDataRef` for larger data."]


def test_vm_provisioning_one_of() -> None:
    spec = {**VM, "provisioning": {"type": "UserData", "userData": "a", "userDataRef": {"name": "s"}}}
    got = causes(rejected("CREATE", obj("VirtualMachine", spec)))
    assert got[0] == ('<nil>: Invalid value: "": "spec.provisioning" must validate one and only one schema '
                      "(oneOf). Found none valid")
    ok = {**VM, "provisioning": {"type": "UserDataRef", "userDataRef": {"name": "s"}}}
    assert create(obj("VirtualMachine", ok)).obj["spec"]["provisioning"]["userDataRef"]["kind"] == "Secret"


# ---- defaults, pruning and field validation ---------------------------------------------------------

def test_defaults() -> None:
    vi = create(obj("VirtualImage", HTTP_VI)).obj
    assert vi["spec"]["storage"] == "ContainerRegistry"
    snap = create(obj("VirtualDiskSnapshot", {"virtualDiskName": "d"})).obj
    assert snap["spec"]["requiredConsistency"] is True
    vm = create(obj("VirtualMachine", VM)).obj["spec"]
    assert {k: vm[k] for k in ("runPolicy", "disruptions", "terminationGracePeriodSeconds",
                               "enableParavirtualization", "osType", "bootloader", "liveMigrationPolicy")} == {
        "runPolicy": "AlwaysOnUnlessStoppedManually", "disruptions": {"restartApprovalMode": "Manual"},
        "terminationGracePeriodSeconds": 60, "enableParavirtualization": True, "osType": "Generic",
        "bootloader": "BIOS", "liveMigrationPolicy": "PreferSafe"}
    explicit = create(obj("VirtualMachine", {**VM, "runPolicy": "Manual"})).obj["spec"]
    assert explicit["runPolicy"] == "Manual"


def test_null_is_dropped_then_defaulted() -> None:
    vi = create(obj("VirtualImage", {**HTTP_VI, "storage": None})).obj
    assert vi["spec"]["storage"] == "ContainerRegistry"


UNKNOWN = {**HTTP_VI, "foo": 1, "dataSource": {**HTTP_VI["dataSource"], "bar": {"x": 1}}}


def test_unknown_fields_strict_is_bad_request() -> None:
    o = obj("VirtualImage", UNKNOWN)
    o["metadata"]["colour"] = "red"
    o["extra"] = True
    status = rejected("CREATE", o, field_validation="Strict")
    assert status == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "BadRequest",
        "code": 400,
        "message": 'VirtualImage in version "v1alpha2" cannot be handled as a VirtualImage: strict decoding error: '
                   'unknown field "extra", unknown field "metadata.colour", unknown field "spec.dataSource.bar", '
                   'unknown field "spec.foo"'}


def test_unknown_fields_warn_prunes_and_warns() -> None:
    result = create(obj("VirtualImage", UNKNOWN), field_validation="Warn")
    assert result.warnings == ['unknown field "spec.dataSource.bar"', 'unknown field "spec.foo"']
    assert "foo" not in result.obj["spec"] and "bar" not in result.obj["spec"]["dataSource"]


def test_unknown_fields_ignore_prunes_silently() -> None:
    result = create(obj("VirtualImage", UNKNOWN), field_validation="Ignore")
    assert result.warnings == []
    assert result.obj["spec"] == {**HTTP_VI, "storage": "ContainerRegistry"}


def test_unknown_field_in_array_item_and_preserved_parts() -> None:
    spec = {**VM, "blockDeviceRefs": [{"kind": "VirtualDisk", "name": "d", "size": 1}],
            "affinity": {"anything": {"goes": True}}}
    result = create(obj("VirtualMachine", spec), field_validation="Warn")
    assert result.warnings == ['unknown field "spec.blockDeviceRefs[0].size"']
    assert result.obj["spec"]["affinity"] == {"anything": {"goes": True}}


# ---- status -----------------------------------------------------------------------------------------

def test_status_writes_are_typed() -> None:
    old = create(obj("VirtualImage", HTTP_VI)).obj
    new = with_(old, "status", {"phase": "Provisioning", "progress": "0%", "downloadSpeed": {"avg": "1Mi/s"}})
    assert update(new, old, subresource="status").obj["status"] == new["status"]
    bad = with_(old, "status", {"phase": "Done", "cdrom": "yes"})
    assert causes(rejected("UPDATE", bad, old, subresource="status")) == [
        # the status subresource is validated against the status schema: the type message names the field
        # relative to it, as the real server's does
        'status.cdrom: Invalid value: "string": cdrom in body must be of type boolean: "string"',
        'status.phase: Unsupported value: "Done": supported values: "Pending", "Provisioning", '
        '"WaitForUserUpload", "Ready", "Failed", "Terminating", "ImageLost", "PVCLost"',
        CEL_SKIPPED]
    unknown = with_(old, "status", {"phase": "Pending", "colour": "red"})
    assert "colour" not in update(unknown, old, subresource="status", field_validation="Ignore").obj["status"]


def test_status_condition_shape() -> None:
    old = create(obj("VirtualImage", HTTP_VI)).obj
    cond = {"type": "Ready", "status": "Maybe", "reason": "Bad reason", "message": "",
            "lastTransitionTime": "yesterday"}
    got = causes(rejected("UPDATE", with_(old, "status", {"conditions": [cond]}), old, subresource="status"))
    assert 'status.conditions[0].lastTransitionTime: Invalid value: "yesterday": conditions[0].' \
           'lastTransitionTime in body must be of type date-time: "yesterday"' in got
    assert any(c.startswith('status.conditions[0].reason: Invalid value: "Bad reason"') for c in got)
    assert any(c.startswith('status.conditions[0].status: Unsupported value: "Maybe"') for c in got)
    good = dict(cond, status="True", reason="Ready", lastTransitionTime="2026-08-01T10:00:00Z")
    update(with_(old, "status", {"conditions": [good]}), old, subresource="status")


def test_vmop_status_requires_phase() -> None:
    old = create(obj("VirtualMachineOperation", VMOP)).obj
    assert causes(rejected("UPDATE", with_(old, "status", {"progress": "1%"}), old, subresource="status")) == [
        "status.phase: Required value", CEL_SKIPPED]


def test_delete_passes_through() -> None:
    old = create(obj("VirtualImage", HTTP_VI)).obj
    assert admit(request("DELETE", None, old)).obj == old


def test_error_is_an_exception_with_status() -> None:
    with pytest.raises(AdmissionError) as info:
        create(obj("VirtualImage", with_(HTTP_VI, "dataSource.type", "FTP")))
    assert str(info.value) == info.value.status["message"]


def test_checksum_upload_accepted() -> None:
    spec = {"dataSource": {"type": "Upload", "upload": {"checksum": {"sha256": SHA256.upper()}}}}
    assert create(obj("VirtualImage", spec)).obj["spec"]["dataSource"]["upload"]["checksum"]["sha256"] == \
        SHA256.upper()


# ---- every enum, pattern and rule of every schema ---------------------------------------------------

def _nodes(node: Any, path: str) -> Any:
    if not isinstance(node, dict):
        return
    yield path, node
    for key, child in (node.get("properties") or {}).items():
        yield from _nodes(child, f"{path}.{key}" if path else key)
    if isinstance(node.get("items"), dict):
        yield from _nodes(node["items"], f"{path}[0]")


KIND_NAMES = ["VirtualImage", "ClusterVirtualImage", "VirtualDisk", "VirtualDiskSnapshot", "VirtualMachine",
              "VirtualMachineOperation"]


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_every_enum_and_pattern_rejects_with_apiserver_message(kind: str) -> None:
    from sandbox.api.admission import openapi, schema_for

    enums = patterns = 0
    for path, node in _nodes(schema_for(kind), ""):
        if "enum" in node:
            allowed = ", ".join(f'"{v}"' for v in node["enum"])
            assert [str(e) for e in openapi.validate("Bogus", node, path)] == [
                f'{path}: Unsupported value: "Bogus": supported values: {allowed}']
            enums += 1
        if "pattern" in node:
            # a length within minLength and maxLength: a length error would be reported instead of the pattern
            bad = "!" * min(max(3, node.get("minLength", 0)), node.get("maxLength", 1 << 16))
            errs = [str(e) for e in openapi.validate(bad, node, path)]
            assert f"{path}: Invalid value: \"{bad}\": {path} in body should match '{node['pattern']}'" in errs
            patterns += 1
    assert enums + patterns > 0


TESTED_RULE_MESSAGES = {m for _, m in DS_RULES} | {m for _, _, m in VMOP_RULES} | {m for _, m in VM_RULES[1:]} | {
    "The namespace is required for VirtualDisk, VirtualImage and VirtualDiskSnapshot",
    "The namespace must be no longer than 63 characters.",
    "Each nameReplacement.to must be between 1 and 59 characters",
    ".spec is immutable",
    "Core fraction must be 'Auto' or a percentage between 1% and 100%.",
    "`userData` exceeds 2048 byte limit; should use `userDataRef` for larger data.",
}


def test_every_cel_rule_has_a_rejection_test() -> None:
    from sandbox.api.admission import schema_for

    declared = {r["message"] for kind in KIND_NAMES for _, node in _nodes(schema_for(kind), "")
                for r in node.get("x-kubernetes-validations", [])}
    assert declared == TESTED_RULE_MESSAGES


def test_kinds_we_do_not_model_pass_through() -> None:
    other = {"apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualMachineClass",
             "metadata": {"name": "generic"}, "spec": {"anything": 1}}
    assert admit(request("CREATE", other)).obj == other


def test_ratcheting_lets_unchanged_invalid_values_through() -> None:
    """An object stored under looser rules can still be updated; touching the bad value is checked."""
    stored_obj = create(obj("VirtualImage", HTTP_VI)).obj
    stored_obj["spec"]["storage"] = "Local"  # as if written before the enum existed
    relabeled = with_(stored_obj, "metadata.labels", {"a": "b"})
    assert update(relabeled, stored_obj).obj["metadata"]["labels"] == {"a": "b"}
    status_write = with_(stored_obj, "status", {"phase": "Pending"})
    update(status_write, stored_obj, subresource="status")
    other_change = with_(stored_obj, "spec.dataSource.http.url", "https://example.com/new.img")
    update(other_change, stored_obj)
    still_bad = with_(stored_obj, "spec.storage", "Remote")
    assert causes(rejected("UPDATE", still_bad, stored_obj))[0] == (
        'spec.storage: Unsupported value: "Remote": supported values: "ContainerRegistry", "Kubernetes", '
        '"PersistentVolumeClaim"')


def test_ratcheting_applies_to_cel_rules_and_whole_lists() -> None:
    stored_obj = create(obj("VirtualImage", HTTP_VI)).obj
    stored_obj["spec"]["dataSource"]["upload"] = {}  # breaks the HTTP rule
    update(with_(stored_obj, "metadata.labels", {"a": "b"}), stored_obj)
    changed = with_(stored_obj, "spec.dataSource.http.url", "https://example.com/new.img")
    assert causes(rejected("UPDATE", changed, stored_obj)) == [
        'spec.dataSource: Invalid value: "object": HTTP requires http and cannot have ContainerImage, ObjectRef '
        "or Upload."]
    vm = create(obj("VirtualMachine", VM)).obj
    vm["spec"]["blockDeviceRefs"] = [{"kind": "Pod", "name": "p"}]
    update(with_(vm, "spec.runPolicy", "Manual"), vm)
    grown = with_(vm, "spec.blockDeviceRefs", vm["spec"]["blockDeviceRefs"] + [{"kind": "VirtualDisk", "name": "d"}])
    assert causes(rejected("UPDATE", grown, vm))[0].startswith('spec.blockDeviceRefs[0].kind: Unsupported value')


def test_a_status_write_evaluates_no_rule_under_the_unchanged_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    """Status updates are the controller's hot path: rules on the untouched spec must not run."""
    from sandbox.api.admission import cel

    seen: list[str] = []
    real = cel._rules
    monkeypatch.setattr(cel, "_rules", lambda value, schema, old, path, rules, errs: (
        seen.append(path), real(value, schema, old, path, rules, errs)))
    stored_obj = create(obj("VirtualImage", HTTP_VI)).obj
    seen.clear()
    update(with_(stored_obj, "status", {"phase": "Provisioning", "progress": "10%"}), stored_obj)
    assert not [p for p in seen if p.startswith("spec")]
    update(with_(stored_obj, "spec.dataSource.http.url", "https://example.com/new.img"), stored_obj)
    assert "spec.dataSource" in seen
