"""Lifecycle: PVC storage, spec changes, deletion and protection, ImageLost."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from _controller_support import (GROUP, Api, Recorder, api, check_progress, cond, http_source, seeded,  # noqa: F401
                                 unique, vi, vis)

SLOW = {"sandbox.deckhouse.io/import-rate": str(512 * 1024)}   # 4 MiB raw: ~8 s


def _storage_class(name: str, default: bool = False) -> dict:
    md: dict = {"name": name}
    if default:
        md["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": md,
            "provisioner": "sandbox.local/files", "volumeBindingMode": "Immediate"}


def test_pvc_storage_on_a_missing_class_is_refused_and_one_deleted_later_is_waited_for(
        sandbox: Any, api: Api, namespace: str, vis: Recorder, seeded: Path) -> None:
    """vi_webhook.go: the class of an image on a PVC must exist when the image is made (403); one deleted after
    that leaves the image Pending with StorageClassNotReady until it is back (held here on a source that does not
    exist yet, so the class goes before the image looks for it)."""
    http = sandbox.components["fileserver"]["http_url"]
    sc = unique("sc")
    on_pvc = {"storage": "PersistentVolumeClaim", "persistentVolumeClaim": {"storageClassName": sc}}
    r = api.s.post(api.base + api.path("VirtualImage", namespace),
                   json=vi(namespace, "early", http_source(f"{http}/disk.raw"), **on_pvc), verify=api.ca, timeout=30)
    assert (r.status_code, r.json()["message"]) == (
        403, 'admission webhook "vi.virtualization-controller.validate.d8-virtualization" denied the request: '
             f'storage class "{sc}" not found')
    assert api.get("VirtualImage", namespace, "early") is None
    api.create(_storage_class(sc))
    try:
        api.create(vi(namespace, "late", {"type": "ObjectRef", "objectRef": {"kind": "VirtualImage", "name": "base"}},
                      **on_pvc))
        vis.wait_phase("late", "Pending", 30)
        api.delete("StorageClass", None, sc)
        api.create(vi(namespace, "base", http_source(f"{http}/disk.raw")))
        vis.wait_phase("base", "Ready", 60)
        obj = vis.wait("late", lambda o: (cond(o, "StorageClassReady") or {}).get("status") == "False", 60)
        assert obj["status"]["phase"] == "Pending"
        assert cond(obj, "Ready")["reason"] == "StorageClassNotReady"
        api.create(_storage_class(sc))
        vis.wait_phase("late", "Ready", 60)
    finally:
        api.delete("StorageClass", None, sc)


def test_pvc_storage_splits_progress(sandbox: Any, api: Api, namespace: str, vis: Recorder, seeded: Path) -> None:
    http = sandbox.components["fileserver"]["http_url"]
    sc = unique("sc")
    api.create(_storage_class(sc))
    try:
        api.create(vi(namespace, "onpvc", http_source(f"{http}/disk.qcow2.gz"), storage="PersistentVolumeClaim",
                      persistentVolumeClaim={"storageClassName": sc}))
        obj = vis.wait_phase("onpvc", "Ready", 60)
        st = obj["status"]
        pvc = f"d8v-vi-onpvc-{obj['metadata']['uid']}"
        assert st["target"] == {"persistentVolumeClaimName": pvc}
        assert st["storageClassName"] == sc and cond(obj, "StorageClassReady")["status"] == "True"
        assert st["format"] == "raw" and st["size"]["storedBytes"] == str((seeded / "disk.qcow2.gz").stat().st_size)
        claim = api.get("PersistentVolumeClaim", namespace, pvc)
        assert claim and claim["spec"]["storageClassName"] == sc
        values = check_progress(vis.history("onpvc"))
        assert values[0] == "0%" and values[-1] == "100%"
        assert any(50.0 <= float(v[:-1]) < 100 for v in values), values   # the PVC stage is 50-100%
        api.delete("VirtualImage", namespace, "onpvc")
        vis.wait_gone("onpvc", 30)
        assert api.get("PersistentVolumeClaim", namespace, pvc) is None
        # a PVC that disappears under a Ready image: PVCLost
        api.create(vi(namespace, "gone", http_source(f"{http}/disk.vdi"), storage="PersistentVolumeClaim",
                      persistentVolumeClaim={"storageClassName": sc}))
        obj = vis.wait_phase("gone", "Ready", 60)
        api.delete("PersistentVolumeClaim", namespace, obj["status"]["target"]["persistentVolumeClaimName"])
        lost = vis.wait_phase("gone", "PVCLost", 30)
        assert cond(lost, "Ready")["status"] == "False" and cond(lost, "Ready")["reason"] == "PVCLost"
    finally:
        api.delete("StorageClass", None, sc)


def test_spec_change_before_ready_restarts_and_after_ready_only_metadata(
        sandbox: Any, api: Api, namespace: str, vis: Recorder, seeded: Path) -> None:
    http = sandbox.components["fileserver"]["http_url"]
    api.create(vi(namespace, "change", http_source(f"{http}/disk.raw"), annotations=SLOW))
    vis.wait("change", lambda o: (o.get("status") or {}).get("progress") not in (None, "0%"), 30, "progress")
    api.patch("VirtualImage", namespace, "change", {"spec": {"dataSource": {"http": {"url": f"{http}/disk.vdi"}}}})
    obj = vis.wait_phase("change", "Ready", 60)
    assert obj["status"]["format"] == "vdi" and obj["status"]["observedGeneration"] == 2
    history = vis.history("change")
    after = [h for h in history if h["metadata"].get("generation") == 2 and h.get("status")]
    assert after[0]["status"].get("phase") in ("Pending", "Provisioning")  # status was reset, not carried on
    reasons = [e["reason"] for e in api.events(namespace) if e["involvedObject"]["name"] == "change"]
    assert "VirtualImageSpecHasBeenChanged" in reasons
    # Failed is terminal, but a spec change restarts it
    api.create(vi(namespace, "broken", http_source(f"{http}/fault/404/x")))
    vis.wait_phase("broken", "Failed", 30)
    api.patch("VirtualImage", namespace, "broken", {"spec": {"dataSource": {"http": {"url": f"{http}/disk.vdi"}}}})
    vis.wait_phase("broken", "Ready", 60)
    # after Ready: labels change freely and nothing is re-imported
    api.patch("VirtualImage", namespace, "change", {"metadata": {"labels": {"team": "a"}}})
    final = api.get("VirtualImage", namespace, "change")
    assert final["status"]["phase"] == "Ready" and final["status"]["progress"] == "100%"


def test_delete_waits_for_the_vm_using_the_image(sandbox: Any, api: Api, namespace: str, vis: Recorder,
                                                 seeded: Path) -> None:
    http = sandbox.components["fileserver"]["http_url"]
    api.create(vi(namespace, "free", http_source(f"{http}/cd.iso")))
    api.create(vi(namespace, "used", http_source(f"{http}/cd.iso")))
    vis.wait_phase("free", "Ready", 60)
    vis.wait_phase("used", "Ready", 60)
    api.delete("VirtualImage", namespace, "free")
    vis.wait_gone("free", 30)
    api.create({"apiVersion": GROUP, "kind": "VirtualMachine", "metadata": {"name": "vm", "namespace": namespace},
                "spec": {"virtualMachineClassName": "generic", "runPolicy": "AlwaysOn", "cpu": {"cores": 1},
                         "memory": {"size": "1Gi"}, "blockDeviceRefs": [{"kind": "VirtualImage", "name": "used"}]}})
    obj = vis.wait("used", lambda o: (cond(o, "InUse") or {}).get("status") == "True", 30, "InUse")
    assert cond(obj, "InUse")["reason"] == "AttachedToVirtualMachine"
    assert cond(obj, "InUse")["message"] == ('The VirtualImage is in use by the VirtualMachine "vm"; detach it or '
                                             "stop the VirtualMachine to release the VirtualImage.")
    assert "virtualization.deckhouse.io/vi-protection" in obj["metadata"]["finalizers"]
    api.delete("VirtualImage", namespace, "used")
    term = vis.wait_phase("used", "Terminating", 30)
    assert term["metadata"].get("deletionTimestamp")
    assert api.get("VirtualImage", namespace, "used") is not None
    api.patch("VirtualMachine", namespace, "vm", {"spec": {"runPolicy": "AlwaysOff"}})
    vis.wait_gone("used", 30)


def test_image_lost_and_found(sandbox: Any, api: Api, namespace: str, vis: Recorder, seeded: Path) -> None:
    http = sandbox.components["fileserver"]["http_url"]
    api.create(vi(namespace, "lost", http_source(f"{http}/disk.vdi"),
                  annotations={"sandbox.deckhouse.io/image-check-interval": "0.5"}))
    obj = vis.wait_phase("lost", "Ready", 60)
    host, _, rest = obj["status"]["target"]["registryURL"].partition("/")
    repo, _, tag = rest.rpartition(":")
    s = requests.Session()
    s.trust_env = False
    head = s.head(f"https://{host}/v2/{repo}/manifests/{tag}", verify=sandbox.ca_path,
                  headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    digest = head.headers["Docker-Content-Digest"]
    manifest = s.get(f"https://{host}/v2/{repo}/manifests/{digest}", verify=sandbox.ca_path,
                     headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}).content
    assert s.delete(f"https://{host}/v2/{repo}/manifests/{digest}", verify=sandbox.ca_path).status_code == 202
    lost = vis.wait_phase("lost", "ImageLost", 30)
    assert cond(lost, "Ready")["status"] == "False" and cond(lost, "Ready")["reason"] == "ImageLost"
    put = s.put(f"https://{host}/v2/{repo}/manifests/{tag}", data=manifest, verify=sandbox.ca_path,
                headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    assert put.status_code == 201
    assert cond(vis.wait_phase("lost", "Ready", 30), "Ready")["status"] == "True"
