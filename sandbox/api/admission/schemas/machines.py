"""VirtualMachine: the spec fields that matter to images and power state.

``affinity`` and the label selectors of ``topologySpreadConstraints`` are kept as
preserve-unknown objects (not validated in depth); ``status`` is loosely typed.
"""
from __future__ import annotations

from ....platform import V1_10
from .common import QUANTITY_PATTERN
from .dsl import Schema, array, boolean, integer, obj, preserved, resource, rule, string, string_map

_SECRET_REF = obj({"kind": string(enum=["Secret"], default="Secret"), "name": string(min_len=1)},
                  required=["kind", "name"])


def _exactly(type_name: str, needs: str, forbids: list[str]) -> dict:
    """One oneOf branch: the type, its own block, and none of the others."""
    branch: dict = {"properties": {"type": {"enum": [type_name]}}, "required": [needs],
                    "not": {"anyOf": [{"required": [f]} for f in forbids]}}
    if needs != "userData":
        branch["properties"][needs] = {}
    return branch


def _provisioning() -> Schema:
    return obj(
        {
            "type": string(enum=["UserData", "UserDataRef", "SysprepRef"]),
            "userData": string(rules=[rule(
                "size(self) <= 2048",
                "`userData` exceeds 2048 byte limit; should use `userDataRef` for larger data.")]),
            "userDataRef": _SECRET_REF,
            "sysprepRef": _SECRET_REF,
        },
        required=["type"],
        oneOf=[
            _exactly("SysprepRef", "sysprepRef", ["userData", "userDataRef"]),
            _exactly("UserData", "userData", ["sysprepRef", "userDataRef"]),
            _exactly("UserDataRef", "userDataRef", ["sysprepRef", "userData"]),
        ],
    )


def _spec_rules(line: str) -> list[dict]:
    if line == V1_10:  # no `Auto` core fraction and no Legacy osType on this line
        return [rule("!has(self.cpu.coreFraction) || (self.cpu.coreFraction.endsWith('%') && "
                     "int(self.cpu.coreFraction.replace('%', '')) >= 1 && "
                     "int(self.cpu.coreFraction.replace('%', '')) <= 100)",
                     "Core fraction must be between 1% and 100%.")]
    return [
        rule("!has(self.cpu.coreFraction) || self.cpu.coreFraction == 'Auto' || (self.cpu.coreFraction.endsWith('%')"
             " && int(self.cpu.coreFraction.replace('%', '')) >= 1 && int(self.cpu.coreFraction.replace('%', ''))"
             " <= 100)",
             "Core fraction must be 'Auto' or a percentage between 1% and 100%."),
        rule("has(self.osType) && self.osType == 'Legacy' ? !has(self.bootloader) || self.bootloader == 'BIOS' : true",
             "The Legacy osType requires the BIOS bootloader."),
        rule("has(self.osType) && self.osType == 'Legacy' ? !has(self.provisioning) : true",
             "The Legacy osType does not support provisioning: such operating systems have no cloud-init or "
             "Sysprep support."),
        rule("has(self.osType) && self.osType == 'Legacy' && has(self.enableParavirtualization)"
             " && !self.enableParavirtualization ? size(self.blockDeviceRefs) <= 4 : true",
             "The Legacy osType with enableParavirtualization=false supports at most 4 block devices."),
    ]


def virtual_machine(line: str) -> Schema:
    released = line == V1_10
    network = {"id": integer(), "type": string(enum=["Main", "Network", "ClusterNetwork"]),
               "name": string(min_len=1), "virtualMachineMACAddressName": string(min_len=1)}
    if not released:
        network["ipAddressName"] = string(min_len=1)
    props: dict[str, Schema] = {
        "provisioning": _provisioning(),
        "runPolicy": string(enum=["AlwaysOn", "AlwaysOff", "Manual", "AlwaysOnUnlessStoppedManually"],
                            default="AlwaysOnUnlessStoppedManually"),
        "virtualMachineIPAddressName": string(min_len=1),
        "topologySpreadConstraints": array(obj(
            {"labelSelector": preserved(), "maxSkew": integer(fmt="int32"), "topologyKey": string(),
             "whenUnsatisfiable": string()},
            required=["maxSkew", "topologyKey", "whenUnsatisfiable"],
        )),
        "affinity": preserved(),
        "nodeSelector": string_map(),
        "priorityClassName": string(min_len=1),
        "tolerations": array(obj({
            "effect": string(), "key": string(), "operator": string(),
            "tolerationSeconds": integer(fmt="int64"), "value": string(),
        })),
        "disruptions": obj({"restartApprovalMode": string(enum=["Manual", "Automatic"])},
                           default={"restartApprovalMode": "Manual"}),
        "terminationGracePeriodSeconds": integer(fmt="int64", default=60),
        "enableParavirtualization": boolean(default=True),
        "osType": string(enum=["Windows", "Generic"] + ([] if released else ["Legacy"]), default="Generic"),
        "bootloader": string(enum=["BIOS", "EFI", "EFIWithSecureBoot"], default="BIOS"),
        "virtualMachineClassName": string(min_len=1),
        "cpu": obj({"cores": integer(fmt="int32", minimum=1),
                    "coreFraction": string(pattern=r"^(100|[1-9][0-9]?|[1-9])%$" if released
                                           else r"^(Auto|(100|[1-9][0-9]?)%)$")}, required=["cores"]),
        "memory": obj({"size": string(pattern=QUANTITY_PATTERN)}, required=["size"]),
        "blockDeviceRefs": array(
            obj({"kind": string(enum=["ClusterVirtualImage", "VirtualImage", "VirtualDisk"]),
                 "name": string(min_len=1), "bootOrder": integer(minimum=1)}),
            min_items=1, max_items=16,
        ),
        "liveMigrationPolicy": string(enum=["AlwaysSafe", "PreferSafe", "AlwaysForced", "PreferForced"],
                                      default="PreferSafe"),
        "networks": array(obj(network, required=["type"])),
        "usbDevices": array(obj({"name": string(min_len=1)}, required=["name"]), max_items=8),
    }
    if not released:
        props["gpus"] = array(
            obj({"gpuClassName": string(min_len=1, max_len=253,
                                        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")},
                required=["gpuClassName"]),
            max_items=16, list_type="atomic",
        )
    spec = obj(props, required=["virtualMachineClassName", "cpu", "memory", "blockDeviceRefs"],
               rules=_spec_rules(line))
    status = preserved({
        "phase": string(enum=["Pending", "Running", "Degraded", "Terminating", "Stopped", "Stopping", "Starting",
                              "Migrating", "Pause"]),
        "observedGeneration": integer(fmt="int64"),
    })
    return resource(spec, status)
