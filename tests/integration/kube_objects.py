"""Shared helpers for the reliability suites: object snapshots and waits on the sandbox's state."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Dict, Optional

API = "virtualization.deckhouse.io/v1alpha2"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def wait_ready(k8s: Any, namespace: str, name: str, url: str, timeout: float = 60) -> Dict[str, Any]:
    """Create a VirtualImage from url (admin, directly) and poll until its phase is Ready."""
    api = k8s.resources.get(api_version=API, kind="VirtualImage")
    api.create(namespace=namespace, body={"apiVersion": API, "kind": "VirtualImage",
                                          "metadata": {"name": name, "namespace": namespace},
                                          "spec": {"storage": "ContainerRegistry",
                                                   "dataSource": {"type": "HTTP", "http": {"url": url}}}})
    return poll_phase(k8s, "VirtualImage", name, namespace, "Ready", timeout)


def poll_phase(k8s: Any, kind: str, name: str, namespace: Optional[str], phase: str,
               timeout: float = 60) -> Dict[str, Any]:
    """Poll an object's status.phase with a deadline (a server's state, not a sleep-and-hope)."""
    api = k8s.resources.get(api_version=API, kind=kind)
    deadline = time.monotonic() + timeout
    while True:
        try:
            obj = api.get(name=name, namespace=namespace).to_dict()
        except Exception as exc:  # not created yet: keep polling
            if getattr(exc, "status", None) != 404:
                raise
            obj = {}
        if (obj.get("status") or {}).get("phase") == phase:
            return obj
        if time.monotonic() > deadline:
            raise AssertionError("%s %s did not reach %s: %s" % (kind, name, phase, obj.get("status")))
        time.sleep(0.2)


@dataclass(frozen=True)
class Snapshot:
    """name -> resourceVersion of every VI in a namespace and every CVI: equal snapshots = nothing written."""

    images: Dict[str, str]

    @classmethod
    def take(cls, k8s: Any, namespace: str) -> "Snapshot":
        items: Dict[str, str] = {}
        for kind, ns in (("VirtualImage", namespace), ("ClusterVirtualImage", None)):
            listing = k8s.resources.get(api_version=API, kind=kind).get(namespace=ns).to_dict()
            for obj in listing["items"]:
                meta = obj["metadata"]
                items["%s/%s/%s" % (kind, meta.get("namespace", ""), meta["name"])] = meta["resourceVersion"]
        return cls(items)


def admin_writes(sandbox: Any) -> list:
    """The admin's real (not dryRun) writes the audit saw since its last reset."""
    return [a for a in sandbox.audit() if a.get("user") == "admin"
            and a.get("method") in WRITE_METHODS and not a.get("dryRun")]
