"""A resize the storage refuses, as on the platform (the same on v1.10.2 and main).

kube-apiserver's PersistentVolumeClaimResize admission lets a claim grow only when it is Bound and its
StorageClass says `allowVolumeExpansion: true`; the vd ResizingHandler (`vd/internal/resizing.go`) quotes its
Forbidden error in Resizing False NotAvailable, or says the StorageClass is not ready, and the disk stays
Ready at its old capacity until the class allows the resize.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest
from _controller_support import GROUP, Api, Recorder, api, cond  # noqa: F401

NOT_EXPANDABLE = ("only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc "
                  "must support resize")


def storage_class(name: str, expandable: bool | None) -> dict:
    sc: dict = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
                "provisioner": "rancher.io/local-path", "volumeBindingMode": "Immediate"}
    if expandable is not None:
        sc["allowVolumeExpansion"] = expandable
    return sc


@pytest.fixture
def fixed_class(api: Api, namespace: str) -> Iterator[str]:
    """A class made through the API that leaves allowVolumeExpansion unset (it defaults to no expansion)."""
    name = f"fixed-{namespace}"
    api.create(storage_class(name, None))
    yield name
    api.delete("StorageClass", None, name)


@pytest.fixture
def vds(api: Api, namespace: str) -> Iterator[Recorder]:
    rec = Recorder(api, "VirtualDisk", namespace)
    yield rec
    rec.stop()


def grow_claim(api: Api, ns: str, name: str, size: str) -> Any:
    return api.s.patch(api.base + api.path("PersistentVolumeClaim", ns, name),
                       json={"spec": {"resources": {"requests": {"storage": size}}}},
                       headers={"Content-Type": "application/merge-patch+json"}, verify=api.ca, timeout=30)


def claim(ns: str, name: str, sc: str) -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": ns},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": sc,
                     "resources": {"requests": {"storage": "1Mi"}}}}


def test_a_claim_grows_only_when_bound_on_an_expandable_class(api: Api, namespace: str, fixed_class: str) -> None:
    api.create(claim(namespace, "fixed", fixed_class))
    r = grow_claim(api, namespace, "fixed", "2Mi")
    assert (r.status_code, r.json()["reason"], r.json()["message"]) == (
        403, "Forbidden", 'persistentvolumeclaims "fixed" is forbidden: Only bound persistent volume claims can be '
                          "expanded")
    api.req("PATCH", api.path("PersistentVolumeClaim", namespace, "fixed") + "/status",
            {"status": {"phase": "Bound"}}, "application/merge-patch+json")
    r = grow_claim(api, namespace, "fixed", "2Mi")
    assert (r.status_code, r.json()["message"]) == (403, f'persistentvolumeclaims "fixed" is forbidden: {NOT_EXPANDABLE}')
    assert grow_claim(api, namespace, "fixed", "1Mi").status_code == 200       # no growth: nothing to check
    api.patch("StorageClass", None, fixed_class, {"allowVolumeExpansion": True})
    r = grow_claim(api, namespace, "fixed", "2Mi")
    assert r.status_code == 200, r.text
    assert r.json()["spec"]["resources"]["requests"]["storage"] == "2Mi"


def test_a_disk_on_a_class_without_expansion_stays_ready_until_the_class_allows_it(
        api: Api, namespace: str, fixed_class: str, vds: Recorder) -> None:
    api.create({"apiVersion": GROUP, "kind": "VirtualDisk", "metadata": {"name": "fixed", "namespace": namespace},
                "spec": {"persistentVolumeClaim": {"size": "8Mi", "storageClassName": fixed_class}}})
    ready = vds.wait_phase("fixed", "Ready", 30)
    pvc = ready["status"]["target"]["persistentVolumeClaimName"]
    api.patch("VirtualDisk", namespace, "fixed", {"spec": {"persistentVolumeClaim": {"size": "12Mi"}}})

    def resizing(o: dict) -> tuple[str, str, str]:
        c = cond(o, "Resizing") or {}
        return c.get("status", ""), c.get("reason", ""), c.get("message", "")

    refused = ("False", "NotAvailable",
               f'Disk resizing is not allowed: persistentvolumeclaims "{pvc}" is forbidden: {NOT_EXPANDABLE}.')
    obj = vds.wait("fixed", lambda o: resizing(o) == refused, 30, "Resizing refused")
    assert (obj["status"]["phase"], obj["status"]["capacity"]) == ("Ready", "8Mi")
    assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
    assert [h["status"]["phase"] for h in vds.history("fixed") if h.get("status")].count("Resizing") == 0
    assert api.get("PersistentVolumeClaim", namespace, pvc)["spec"]["resources"]["requests"]["storage"] == "8Mi"

    api.delete("StorageClass", None, fixed_class)
    gone = ("False", "NotAvailable", "Disk resizing is not allowed: the StorageClass is not ready.")
    obj = vds.wait("fixed", lambda o: resizing(o) == gone, 30, "Resizing: class not ready")
    assert cond(obj, "StorageClassReady")["status"] == "False" and obj["status"]["phase"] == "Ready"

    api.create(storage_class(fixed_class, True))
    done = vds.wait("fixed", lambda o: o["status"].get("phase") == "Ready" and o["status"].get("capacity") == "12Mi",
                    30, "grown once the class allows it")
    assert cond(done, "Resizing") is None
    assert "Resizing" in [h["status"]["phase"] for h in vds.history("fixed") if h.get("status")]
