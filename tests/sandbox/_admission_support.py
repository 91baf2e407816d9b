"""Helpers for the admission unit tests: build requests, read the reference CRDs."""
from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.gate import unavailable
from sandbox.api.admission import AdmissionError, AdmissionRequest, AdmissionResult, admit

GROUP = "virtualization.deckhouse.io"
REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "crds"
# The reference CRDs of each platform line the sandbox serves (sandbox.platform).
REFERENCES = {"dev": REFERENCE, "v1.10": REFERENCE.parent / "crds-v1.10"}
LINES = tuple(REFERENCES)
CRD_FILES = {
    "VirtualImage": "virtualimages.yaml",
    "ClusterVirtualImage": "clustervirtualimages.yaml",
    "VirtualDisk": "virtualdisks.yaml",
    "VirtualDiskSnapshot": "virtualdisksnapshots.yaml",
    "VirtualMachine": "virtualmachines.yaml",
    "VirtualMachineOperation": "virtualmachineoperations.yaml",
}
NAMESPACED = {k for k in CRD_FILES if k != "ClusterVirtualImage"}


def reference_crd(kind: str, line: str = "dev") -> dict:
    """The reference CRD document of a platform line (skips the test when the folder is absent; fails it
    under CI, where a cross-check must compare)."""
    path = REFERENCES[line] / CRD_FILES[kind]
    if not path.exists():
        unavailable(f"reference CRDs not available at {REFERENCES[line]}")
    return copy.deepcopy(_load(str(path)))


@functools.cache
def _load(path: str) -> dict:
    return yaml.safe_load(Path(path).read_text())


def reference_schema(kind: str, line: str = "dev") -> dict:
    return reference_crd(kind, line)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def obj(kind: str, spec: dict | None, name: str = "x", **meta: Any) -> dict:
    """A minimal object of ``kind`` (namespaced kinds get namespace ``ns``)."""
    metadata: dict[str, Any] = {"name": name, **meta}
    if kind in NAMESPACED:
        metadata.setdefault("namespace", "ns")
    o: dict[str, Any] = {"apiVersion": f"{GROUP}/v1alpha2", "kind": kind, "metadata": metadata}
    if spec is not None:
        o["spec"] = copy.deepcopy(spec)
    return o


def request(operation: str, new: dict | None, old: dict | None = None, *, subresource: str | None = None,
            field_validation: str = "Strict") -> AdmissionRequest:
    kind = (new or old or {})["kind"]
    return AdmissionRequest(operation=operation, kind=kind, group=GROUP, version="v1alpha2", obj=new,
                            old_obj=old, subresource=subresource, field_validation=field_validation,
                            dry_run=False, user="admin")


def create(new: dict, **kw: Any) -> AdmissionResult:
    return admit(request("CREATE", new, **kw))


def update(new: dict, old: dict, **kw: Any) -> AdmissionResult:
    return admit(request("UPDATE", new, old, **kw))


def rejected(operation: str, new: dict, old: dict | None = None, **kw: Any) -> dict:
    """The Status body of a write that must be rejected."""
    with pytest.raises(AdmissionError) as info:
        admit(request(operation, new, old, **kw))
    return info.value.status


def stored(new: dict) -> dict:
    """What the server would store after a successful CREATE (defaults applied, generation 1)."""
    return create(new).obj


HTTP_VI = {"dataSource": {"type": "HTTP", "http": {"url": "https://example.com/disk.qcow2"}}}
SHA256 = "78be890d71dde316c412da2ce8332ba47b9ce7a29d573801d2777e01aa20b9b5"
