"""Objects on the sandbox for the integration suites: read them, make them, wait on their state, snapshot them.

Imported only by conftest.py, which hands a `KubeObjects` to tests as the `kube` fixture.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Union

API = "virtualization.deckhouse.io/v1alpha2"
WAIT = 60


@dataclass(frozen=True)
class Snapshot:
    """name -> resourceVersion of every VI in a namespace and every CVI: equal snapshots = nothing written."""

    images: Dict[str, str]


class KubeObjects:
    """Virtualization objects through an admin DynamicClient; every wait polls the server with a deadline."""

    def __init__(self, k8s: Any) -> None:
        self.k8s = k8s

    def api(self, kind: str) -> Any:
        return self.k8s.resources.get(api_version=API, kind=kind)

    def get(self, kind: str, namespace: Optional[str], name: str) -> Optional[Dict[str, Any]]:
        """The object as a dict, or None."""
        api = self.api(kind)
        try:
            obj = api.get(name=name, namespace=namespace) if namespace else api.get(name=name)
        except Exception as exc:  # NotFoundError
            if getattr(exc, "status", None) == 404:
                return None
            raise
        return obj.to_dict()

    @staticmethod
    def poll(what: Union[str, Callable[[], str]], probe: Callable[[], Any], timeout: float = WAIT) -> Any:
        """The first truthy probe() result; a server state polled with a deadline (`what` names it on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value:
                return value
            assert time.monotonic() < deadline, "timed out waiting for " + (what() if callable(what) else what)
            time.sleep(0.2)

    def poll_phase(self, kind: str, name: str, namespace: Optional[str], phase: str,
                   timeout: float = WAIT) -> Dict[str, Any]:
        """Poll an object's status.phase with a deadline (a server's state, not a sleep-and-hope)."""
        seen: Dict[str, Any] = {}

        def reached() -> Optional[Dict[str, Any]]:
            seen["obj"] = self.get(kind, namespace, name) or {}
            return seen["obj"] if (seen["obj"].get("status") or {}).get("phase") == phase else None

        return self.poll(lambda: "%s %s to reach %s: %s" % (kind, name, phase, seen["obj"].get("status")),
                         reached, timeout)

    def vm_phase(self, namespace: str, name: str) -> Optional[str]:
        return ((self.get("VirtualMachine", namespace, name) or {}).get("status") or {}).get("phase")

    def make_disk(self, namespace: str, name: str) -> Dict[str, Any]:
        """A blank 8Mi VirtualDisk, Ready."""
        self.api("VirtualDisk").create(namespace=namespace, body={
            "apiVersion": API, "kind": "VirtualDisk", "metadata": {"name": name, "namespace": namespace},
            "spec": {"persistentVolumeClaim": {"size": "8Mi"}}})
        return self.poll_phase("VirtualDisk", name, namespace, "Ready")

    def make_vm(self, namespace: str, name: str, disk: str, policy: str) -> None:
        """A VM mounting the disk, Running."""
        self.api("VirtualMachine").create(namespace=namespace, body={
            "apiVersion": API, "kind": "VirtualMachine", "metadata": {"name": name, "namespace": namespace},
            "spec": {"virtualMachineClassName": "generic", "runPolicy": policy, "cpu": {"cores": 1},
                     "memory": {"size": "1Gi"}, "blockDeviceRefs": [{"kind": "VirtualDisk", "name": disk}]}})
        self.poll("VM Running", lambda: self.vm_phase(namespace, name) == "Running")

    def ready_image(self, namespace: str, name: str, url: str, timeout: float = WAIT) -> Dict[str, Any]:
        """Create a VirtualImage from url (admin, directly) and poll until its phase is Ready."""
        self.api("VirtualImage").create(namespace=namespace, body={
            "apiVersion": API, "kind": "VirtualImage", "metadata": {"name": name, "namespace": namespace},
            "spec": {"storage": "ContainerRegistry", "dataSource": {"type": "HTTP", "http": {"url": url}}}})
        return self.poll_phase("VirtualImage", name, namespace, "Ready", timeout)

    def upload_image(self, namespace: str, name: str) -> Dict[str, Any]:
        """A VirtualImage waiting for its upload (its status carries the secret upload URLs)."""
        self.api("VirtualImage").create(namespace=namespace, body={
            "apiVersion": API, "kind": "VirtualImage", "metadata": {"name": name, "namespace": namespace},
            "spec": {"storage": "ContainerRegistry", "dataSource": {"type": "Upload"}}})
        return self.poll_phase("VirtualImage", name, namespace, "WaitForUserUpload")

    def snapshot(self, namespace: str) -> Snapshot:
        """The resourceVersions of the namespace's VirtualImages and of every ClusterVirtualImage."""
        items: Dict[str, str] = {}
        for kind, ns in (("VirtualImage", namespace), ("ClusterVirtualImage", None)):
            for obj in self.api(kind).get(namespace=ns).to_dict()["items"]:
                meta = obj["metadata"]
                items["%s/%s/%s" % (kind, meta.get("namespace", ""), meta["name"])] = meta["resourceVersion"]
        return Snapshot(items)
