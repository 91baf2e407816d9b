"""VirtualMachineOperation."""
from __future__ import annotations

from .common import conditions
from .dsl import Schema, array, boolean, integer, obj, resource, rule, string, string_map

_MODES = ["DryRun", "Strict", "BestEffort"]


def _clone() -> Schema:
    return obj(
        {
            "customization": obj(
                {"namePrefix": string(), "nameSuffix": string()},
                rules=[
                    rule("!has(self.namePrefix) || (size(self.namePrefix) >= 1 && size(self.namePrefix) <= 59)",
                         "namePrefix length must be between 1 and 59 characters if set"),
                    rule("!has(self.nameSuffix) || (size(self.nameSuffix) >= 1 && size(self.nameSuffix) <= 59)",
                         "nameSuffix length must be between 1 and 59 characters if set"),
                ],
            ),
            "mode": string(enum=_MODES),
            "nameReplacement": array(
                obj(
                    {"from": obj({"kind": string(min_len=1), "name": string(min_len=1)}, required=["name"]),
                     "to": string(min_len=1)},
                    required=["from", "to"],
                ),
                rules=[rule("self.all(nr, has(nr.to) && size(nr.to) >= 1 && size(nr.to) <= 59)",
                            "Each nameReplacement.to must be between 1 and 59 characters")],
            ),
        },
        required=["mode"],
        rules=[rule(
            "(has(self.customization) && ((has(self.customization.namePrefix) && size(self.customization.namePrefix)"
            " > 0) || (has(self.customization.nameSuffix) && size(self.customization.nameSuffix) > 0)))"
            " || (has(self.nameReplacement) && size(self.nameReplacement) > 0)",
            "At least one of customization.namePrefix, customization.nameSuffix, or nameReplacement must be set",
        )],
    )


def virtual_machine_operation(line: str) -> Schema:
    spec = obj(
        {
            "clone": _clone(),
            "force": boolean(),
            "migrate": obj({"nodeSelector": string_map()}),
            "restore": obj(
                {"mode": string(enum=_MODES), "virtualMachineSnapshotName": string(min_len=1)},
                required=["mode", "virtualMachineSnapshotName"],
            ),
            "type": string(enum=["Restart", "Start", "Stop", "Migrate", "Evict", "Restore", "Clone"]),
            "virtualMachineName": string(min_len=1),
        },
        required=["type", "virtualMachineName"],
        rules=[
            rule("self == oldSelf", ".spec is immutable"),
            rule("self.type == 'Start' ? !has(self.force) || !self.force : true",
                 "The `Start` operation cannot be performed forcibly."),
            rule("self.type == 'Restore' ? has(self.restore) : true", "Restore requires restore field."),
            rule("self.type == 'Clone' ? has(self.clone) : true", "Clone requires clone field."),
            rule("!(has(self.migrate)) || self.type == 'Migrate'",
                 "spec.migrate can only be set when spec.type is 'Migrate'"),
        ],
    )
    status = obj(
        {
            "conditions": conditions(),
            "observedGeneration": integer(fmt="int64"),
            "phase": string(enum=["Pending", "InProgress", "Completed", "Failed", "Terminating", "Superseded"]),
            "progress": string(),
            "resources": array(obj(
                {"apiVersion": string(), "kind": string(), "message": string(), "name": string(),
                 "status": string(enum=["InProgress", "Completed", "Failed"])},
                required=["apiVersion", "kind", "message", "name", "status"],
            )),
        },
        required=["phase"],
    )
    return resource(spec, status)
