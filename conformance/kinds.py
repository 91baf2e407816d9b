"""The kinds the collection writes, with sample bodies the scenarios vary.

Samples avoid what only the platform's webhooks decide (the real CRD server has none): no dots in
names, blank disks carry a size, no `Kubernetes` storage, no `Migrate` operations, no spec changes of
VirtualDiskSnapshots, and each VirtualMachineOperation names a VM of its own (the VMOP webhook refuses a
second unfinished operation of one VM, and nothing finishes them here).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable

GROUP = "virtualization.deckhouse.io"
VERSION = "v1alpha2"
URL = "https://example.com/images/disk.qcow2"


@dataclass(frozen=True)
class Kind:
    short: str                   # case id part: vi, cvi, vd, vds, vmop
    kind: str
    plural: str
    namespaced: bool
    spec: Callable[[], dict[str, Any]]           # a valid spec
    defaulted: tuple[str, ...] = ()              # spec keys sample() leaves for the server to default
    change: Callable[[dict[str, Any]], None] | None = None   # a valid, allowed spec change
    invalid: tuple[tuple[str, Callable[[dict[str, Any]], None]], ...] = ()   # (label, breaks the spec)
    immutable: Callable[[dict[str, Any]], None] | None = None   # a change a CEL rule forbids
    has_http: bool = False
    own: Callable[[dict[str, Any], str], None] | None = None   # makes a sample spec the named object's own

    def name(self, name: str, ns: str) -> str:
        """Cluster-scoped objects of different cases share one scope: prefix them with the case's namespace."""
        return name if self.namespaced or not name else f"{ns}-{name}"

    def path(self, ns: str, name: str = "", sub: str = "") -> str:
        p = f"/apis/{GROUP}/{VERSION}/"
        if self.namespaced:
            p += f"namespaces/{ns}/"
        p += self.plural
        if name:
            p += f"/{self.name(name, ns)}"
        if sub:
            p += f"/{sub}"
        return p

    def obj(self, name: str, ns: str, spec: dict[str, Any] | None = None, **meta: Any) -> dict[str, Any]:
        md: dict[str, Any] = {"name": self.name(name, ns), **meta}
        if self.namespaced:
            md["namespace"] = ns
        body_spec = copy.deepcopy(spec) if spec is not None else self.spec()
        if self.own is not None:
            self.own(body_spec, md["name"])
        return {"apiVersion": f"{GROUP}/{VERSION}", "kind": self.kind, "metadata": md, "spec": body_spec}


SAMPLE_VM = "vm-a"


def _own_vm(spec: dict[str, Any], name: str) -> None:
    """The sample's VM becomes one named after the operation (a spec a case changed is left alone)."""
    if spec.get("virtualMachineName") == SAMPLE_VM:
        spec["virtualMachineName"] = f"vm-{name}"


def _http(url: str = URL) -> dict[str, Any]:
    return {"type": "HTTP", "http": {"url": url}}


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(spec: dict[str, Any]) -> None:
        node = spec
        keys = path.split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    return apply


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def apply(spec: dict[str, Any]) -> None:
        node = spec
        keys = path.split(".")
        for k in keys[:-1]:
            node = node[k]
        node.pop(keys[-1], None)
    return apply


_IMAGE_INVALID = (
    ("enum", _set("dataSource.type", "Bogus")),
    ("pattern", _set("dataSource.http.url", "ftp://example.com/x.img")),
    ("cel", _set("dataSource", {"type": "HTTP", "containerImage": {"image": "registry.example.com/a:1"}})),
    ("type", _set("dataSource.http", "not-an-object")),
    ("maxlength", _set("dataSource.http.checksum", {"md5": "0" * 33})),
    ("required", _drop("dataSource.http.url")),
)

KINDS: tuple[Kind, ...] = (
    Kind("vi", "VirtualImage", "virtualimages", True,
         lambda: {"dataSource": _http()}, defaulted=("storage",),
         change=_set("dataSource.http.url", URL + "?v=2"),
         invalid=_IMAGE_INVALID + (("enum2", _set("storage", "Floppy")),), has_http=True),
    Kind("cvi", "ClusterVirtualImage", "clustervirtualimages", False,
         lambda: {"dataSource": _http()},
         change=_set("dataSource.http.url", URL + "?v=2"),
         invalid=_IMAGE_INVALID + (("cel2", _set("dataSource", {"type": "ObjectRef", "objectRef": {
             "kind": "VirtualImage", "name": "x"}})),), has_http=True),
    Kind("vd", "VirtualDisk", "virtualdisks", True,
         lambda: {"persistentVolumeClaim": {"size": "1Gi"}},
         change=_set("persistentVolumeClaim.size", "2Gi"),
         invalid=(("pattern", _set("persistentVolumeClaim.size", "1 Gi")),
                  ("enum", _set("dataSource", {"type": "ObjectRef", "objectRef": {"kind": "VirtualDisk", "name": "x"}})),
                  ("cel", _set("dataSource", {"type": "HTTP"})),
                  ("type", _set("persistentVolumeClaim", ["1Gi"])),
                  ("required", _set("dataSource", {"type": "ObjectRef", "objectRef": {"kind": "VirtualImage"}}))),
         has_http=False),
    Kind("vds", "VirtualDiskSnapshot", "virtualdisksnapshots", True,
         lambda: {"virtualDiskName": "disk-a"}, defaulted=("requiredConsistency",),
         invalid=(("type", _set("requiredConsistency", "yes")),
                  ("required", _drop("virtualDiskName")),
                  ("type2", _set("virtualDiskName", 42)))),
    Kind("vmop", "VirtualMachineOperation", "virtualmachineoperations", True,
         lambda: {"type": "Restart", "virtualMachineName": SAMPLE_VM},
         invalid=(("enum", _set("type", "Reboot")),
                  ("cel", lambda s: s.update(type="Start", force=True)),
                  ("required", _drop("virtualMachineName")),
                  ("type", _set("force", "yes")),
                  ("cel2", lambda s: s.update(type="Clone", clone={"mode": "Strict"}))),
         immutable=_set("virtualMachineName", "vm-b"), own=_own_vm),
)
