"""virtual_disk when the platform cannot give the size asked for: growing a disk on a StorageClass that does not
allow volume expansion, and (v1.10 only) a disk restored from a snapshot with a size below the snapshot's.

Each fails fast with the platform's words, leaves nothing half-made, and a re-run once the cause is fixed
converges. Runs on both platform lines (DVP_SANDBOX_PLATFORM=v1.10 too)."""
from __future__ import annotations

from typing import Any, Dict, Iterator

import pytest
import requests

DISK = "deckhouse.virtualization.virtual_disk"
SNAPSHOT = "deckhouse.virtualization.virtual_disk_snapshot"
WAIT = 60
NOT_EXPANDABLE = ("only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc "
                  "must support resize")


def disk(namespace: str, name: str, **options: Any) -> Dict[str, Any]:
    return dict({"name": name, "namespace": namespace, "wait_timeout": WAIT}, **options)


@pytest.fixture
def fixed_class(k8s: Any, namespace: str) -> Iterator[str]:
    """A StorageClass made through the API that does not allow volume expansion."""
    classes = k8s.resources.get(api_version="storage.k8s.io/v1", kind="StorageClass")
    name = "fixed-%s" % namespace
    classes.create(body={"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
                         "provisioner": "rancher.io/local-path", "allowVolumeExpansion": False})
    yield name
    classes.delete(name=name)


def test_growing_a_disk_on_a_class_without_expansion(play, namespace, sandbox, kube, k8s, fixed_class, admin_writes):
    def data(size: str) -> Dict[str, Any]:
        return disk(namespace, "data", size=size, storage_class=fixed_class)

    made = play([{DISK: data("8Mi"), "register": "made"}])
    assert made["made"]["phase"] == "Ready", made.fatal()
    admin_writes.clear()
    run = play([{DISK: data("16Mi"), "register": "grow", "ignore_errors": True},
                {DISK: data("8Mi"), "register": "same"}])
    grow = run["grow"]
    assert grow["failed"] is True
    assert grow["msg"].startswith('size: growing VirtualDisk %s/data from 8Mi to 16Mi needs its StorageClass "%s" '
                                  "to allow volume expansion" % (namespace, fixed_class)), grow["msg"]
    assert "allowVolumeExpansion: true" in grow["msg"] and "nothing was written" in grow["msg"]
    assert run["same"]["changed"] is False, run["same"]       # the old size converges
    assert run["same"]["disk"]["status"]["phase"] == "Ready"
    assert admin_writes(namespace) == []

    # the larger size asked for without the module (or by a run that could not read the class): the wait fails
    # at once with the platform's words, the disk Ready at its old size
    patched = requests.patch("%s/apis/virtualization.deckhouse.io/v1alpha2/namespaces/%s/virtualdisks/data"
                             % (sandbox.api_url, namespace), json={"spec": {"persistentVolumeClaim": {"size": "16Mi"}}},
                             headers={"Authorization": "Bearer %s" % sandbox.tokens["admin"],
                                      "Content-Type": "application/merge-patch+json"},
                             verify=sandbox.ca_path, timeout=30)
    assert patched.status_code == 200, patched.text
    pvc = made["made"]["disk"]["status"]["target"]["persistentVolumeClaimName"]
    refused = play([{DISK: data("16Mi"), "register": "wait", "ignore_errors": True}])["wait"]
    assert refused["failed"] is True and refused["duration"] < WAIT / 2, refused
    assert ('Disk resizing is not allowed: persistentvolumeclaims "%s" is forbidden: %s.' % (pvc, NOT_EXPANDABLE)
            in refused["msg"]), refused["msg"]
    assert "the resize cannot happen, the disk stays at 8Mi" in refused["msg"]
    live = kube.get("VirtualDisk", namespace, "data")
    assert (live["status"]["phase"], live["status"]["capacity"]) == ("Ready", "8Mi")

    k8s.resources.get(api_version="storage.k8s.io/v1", kind="StorageClass").patch(
        name=fixed_class, body={"allowVolumeExpansion": True}, content_type="application/merge-patch+json")
    again = play([{DISK: data("24Mi"), "register": "grown"}])
    assert again["grown"]["phase"] == "Ready" and again["grown"]["summary"]["capacity"] == "24Mi", again.fatal()


def test_a_disk_smaller_than_its_snapshot(play, namespace, sandbox, admin_writes):
    made = play([{DISK: disk(namespace, "origin", size="8Mi")},
                 {SNAPSHOT: {"name": "snap", "namespace": namespace, "disk": "origin", "wait_timeout": WAIT}}])
    assert made.rc == 0, made.fatal()
    source = {"object_ref": {"kind": "VirtualDiskSnapshot", "name": "snap"}}
    run = play([{DISK: disk(namespace, "small", size="4Mi", source=source), "register": "small",
                 "ignore_errors": True}])
    small = run["small"]
    if sandbox.platform == "v1.10":
        assert small["failed"] is True and small["duration"] < WAIT / 2, small
        assert "phase Failed: The specified pvc size is insufficient: 4194304 (4Mi) < 8388608." in small["msg"]
        assert not (small["disk"]["status"].get("target") or {}).get("persistentVolumeClaimName")
        assert admin_writes.real(namespace, "persistentvolumeclaims") == []
        fixed = play([{DISK: disk(namespace, "small", size="8Mi", source=source), "register": "fixed"}])["fixed"]
        assert fixed["phase"] == "Ready" and fixed["summary"]["capacity"] == "8Mi", fixed
    else:     # main grows the disk to the snapshot's restore size
        assert small["changed"] is True and small["phase"] == "Ready", run.fatal()
        assert small["summary"]["capacity"] in ("8Mi", "8388608")
