"""The kinds this API server serves, with the facts discovery, tables and handlers need.

Facts for the virtualization kinds (plural, short names, categories, printer columns) follow the
platform's CRDs; the core kinds follow kube-apiserver.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

VIRT_GROUP = "virtualization.deckhouse.io"
VIRT_VERSION = "v1alpha2"
ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass(frozen=True)
class Column:
    """A printer column: `json_path` (CRD style) or a named computed value (`compute`)."""
    name: str
    type: str
    json_path: str = ""
    priority: int = 0
    description: str = ""
    compute: str = ""


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()      # "status" etc.
    custom: bool = False                    # a CRD: generation on spec, no strategic merge patch
    columns: tuple[Column, ...] = ()
    unconditional_update: bool = True       # PUT without resourceVersion allowed
    field_labels: tuple[str, ...] = ()      # extra field-selector labels beyond metadata.*
    name_first: bool = True                 # tables start with a Name column (not Events)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources


_AGE = Column("Age", "date", ".metadata.creationTimestamp")


def _virt(kind: str, plural: str, short: tuple[str, ...], cats: tuple[str, ...],
          cols: tuple[Column, ...], namespaced: bool = True) -> ResourceType:
    return ResourceType(VIRT_GROUP, VIRT_VERSION, kind, plural, kind.lower(), namespaced, short,
                        cats, ("status",), True, cols, unconditional_update=False)


_IMAGE_COLS = (
    Column("Phase", "string", ".status.phase"),
    Column("CDROM", "boolean", ".status.cdrom"),
    Column("Progress", "string", ".status.progress"),
    Column("StoredSize", "string", ".status.size.stored", 1),
    Column("UnpackedSize", "string", ".status.size.unpacked", 1),
    Column("Registry URL", "string", ".status.target.registryURL", 1),
)

RESOURCES: tuple[ResourceType, ...] = (
    ResourceType("", "v1", "Namespace", "namespaces", "namespace", False, ("ns",),
                 subresources=("status", "finalize"), field_labels=("status.phase",),
                 columns=(Column("Status", "string", ".status.phase"), _AGE)),
    ResourceType("", "v1", "Secret", "secrets", "secret", True, field_labels=("type",),
                 columns=(Column("Type", "string", ".type"),
                          Column("Data", "integer", compute="data_count"), _AGE)),
    ResourceType("", "v1", "ConfigMap", "configmaps", "configmap", True, ("cm",),
                 columns=(Column("Data", "integer", compute="data_count"), _AGE)),
    ResourceType("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims",
                 "persistentvolumeclaim", True, ("pvc",), ("all",), ("status",),
                 columns=(Column("Status", "string", ".status.phase"),
                          Column("Volume", "string", ".spec.volumeName"),
                          Column("Capacity", "string", ".status.capacity.storage"),
                          Column("Access Modes", "string", compute="access_modes"),
                          Column("StorageClass", "string", ".spec.storageClassName"),
                          Column("VolumeAttributesClass", "string",
                                 ".spec.volumeAttributesClassName"), _AGE,
                          Column("VolumeMode", "string", ".spec.volumeMode", 1))),
    ResourceType("", "v1", "Event", "events", "event", True, ("ev",),
                 field_labels=("involvedObject.kind", "involvedObject.namespace",
                               "involvedObject.name", "involvedObject.uid",
                               "involvedObject.apiVersion", "involvedObject.resourceVersion",
                               "involvedObject.fieldPath", "reason", "reportingComponent",
                               "source", "type"),
                 columns=(Column("Last Seen", "string", compute="event_last_seen"),
                          Column("Type", "string", ".type"), Column("Reason", "string", ".reason"),
                          Column("Object", "string", compute="event_object"),
                          Column("Message", "string", ".message"),
                          Column("Name", "string", ".metadata.name", 1)), name_first=False),
    ResourceType("storage.k8s.io", "v1", "StorageClass", "storageclasses", "storageclass", False,
                 ("sc",),
                 columns=(Column("Provisioner", "string", ".provisioner"),
                          Column("ReclaimPolicy", "string", ".reclaimPolicy"),
                          Column("VolumeBindingMode", "string", ".volumeBindingMode"),
                          Column("AllowVolumeExpansion", "boolean", ".allowVolumeExpansion"),
                          _AGE)),
    _virt("VirtualImage", "virtualimages", ("vi",), ("virtualization",),
          _IMAGE_COLS + (Column("TargetPVC", "string", ".status.target.persistentVolumeClaimName",
                                1), _AGE)),
    _virt("ClusterVirtualImage", "clustervirtualimages", ("cvi",), ("virtualization-cluster",),
          _IMAGE_COLS + (_AGE,), namespaced=False),
    _virt("VirtualDisk", "virtualdisks", ("vd",), ("virtualization",), (
        Column("Phase", "string", ".status.phase"),
        Column("Capacity", "string", ".status.capacity"),
        Column("InUse", "string", ".status.conditions[?(@.type=='InUse')].status", 1),
        Column("VirtualMachine", "string",
               ".status.attachedToVirtualMachines[?(@.mounted==true)].name", 0,
               "Name of the virtual machine the disk is attached to."),
        Column("Progress", "string", ".status.progress", 1),
        Column("StorageClass", "string", ".status.storageClassName", 1),
        Column("TargetPVC", "string", ".status.target.persistentVolumeClaimName", 1), _AGE)),
    _virt("VirtualDiskSnapshot", "virtualdisksnapshots", ("vdsnapshot", "vds"), ("virtualization",),
          (Column("Phase", "string", ".status.phase"),
           Column("Consistent", "boolean", ".status.consistent"), _AGE)),
    _virt("VirtualMachine", "virtualmachines", ("vm",), ("all", "virtualization"), (
        Column("Phase", "string", ".status.phase", 0, "Virtual machine phase."),
        Column("Uptime", "date", ".status.stats.lastStartTime", 0,
               "Time since the virtual machine started running."),
        Column("Cores", "string", ".status.resources.cpu.cores", 1),
        Column("CoreFraction", "string", ".status.resources.cpu.coreFraction", 1),
        Column("Memory", "string", ".status.resources.memory.size", 1),
        Column("Need restart", "string",
               ".status.conditions[?(@.type=='AwaitingRestartToApplyConfiguration')].status", 1),
        Column("Agent", "string", ".status.conditions[?(@.type=='AgentReady')].status", 1),
        Column("Migratable", "string", ".status.conditions[?(@.type=='Migratable')].status", 1),
        Column("Node", "string", ".status.nodeName"),
        Column("IPAddress", "string", ".status.ipAddress"),
        Column("Age", "date", ".metadata.creationTimestamp", 0, "Time of resource creation."))),
    _virt("VirtualMachineOperation", "virtualmachineoperations", ("vmop",), ("virtualization",), (
        Column("Phase", "string", ".status.phase", 0, "VirtualMachineOperation phase."),
        Column("Progress", "string", ".status.progress", 0,
               "VirtualMachineOperation progress in percent format."),
        Column("Type", "string", ".spec.type", 0, "VirtualMachineOperation type."),
        Column("VirtualMachine", "string", ".spec.virtualMachineName", 0, "VirtualMachine name."),
        Column("Age", "date", ".metadata.creationTimestamp", 0, "Time of resource creation."))),
)

_BY_PATH: dict[tuple[str, str, str], ResourceType] = {(r.group, r.version, r.plural): r
                                                      for r in RESOURCES}
_BY_KIND: dict[tuple[str, str], ResourceType] = {(r.group, r.kind): r for r in RESOURCES}


def lookup(group: str, version: str, plural: str) -> ResourceType | None:
    return _BY_PATH.get((group, version, plural))


def by_kind(group: str, kind: str) -> ResourceType | None:
    return _BY_KIND.get((group, kind))


def group_versions() -> dict[str, list[str]]:
    """{group: [versions]} in a stable order (core group is "")."""
    out: dict[str, list[str]] = {}
    for r in RESOURCES:
        vs = out.setdefault(r.group, [])
        if r.version not in vs:
            vs.append(r.version)
    return out


def in_group_version(group: str, version: str) -> list[ResourceType]:
    return [r for r in RESOURCES if r.group == group and r.version == version]


def describe(r: ResourceType) -> dict[str, Any]:
    """The resource's APIResource entry (legacy discovery)."""
    entry: dict[str, Any] = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
                             "kind": r.kind, "verbs": list(ALL_VERBS)}
    if r.short_names:
        entry["shortNames"] = list(r.short_names)
    if r.categories:
        entry["categories"] = list(r.categories)
    return entry


def describe_sub(r: ResourceType, sub: str) -> dict[str, Any]:
    verbs = ["update"] if sub == "finalize" else ["get", "patch", "update"]
    return {"name": f"{r.plural}/{sub}", "singularName": "", "namespaced": r.namespaced,
            "kind": r.kind, "verbs": verbs}


