"""VirtualDisks as the platform's vd controller shows them: every source, late binding, resize,
the InUse rules and protection, and the fault hooks (disk-error, pvc-lost)."""
from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from _controller_support import (GROUP, Api, Recorder, api, check_progress, cond, http_source,  # noqa: F401
                                 image_source, pull_secret, seeded, vi, vis)


def vd(ns: str, name: str, source: dict | None = None, size: str | None = "8Mi", sc: str | None = None,
       annotations: dict | None = None) -> dict:
    pvc: dict = {}
    if size:
        pvc["size"] = size
    if sc:
        pvc["storageClassName"] = sc
    spec: dict = {"persistentVolumeClaim": pvc}
    if source:
        spec["dataSource"] = source
    md: dict = {"name": name, "namespace": ns}
    if annotations:
        md["annotations"] = annotations
    return {"apiVersion": GROUP, "kind": "VirtualDisk", "metadata": md, "spec": spec}


def vm(ns: str, name: str, disks: list[str], policy: str = "AlwaysOnUnlessStoppedManually",
       annotations: dict | None = None) -> dict:
    md: dict = {"name": name, "namespace": ns}
    if annotations:
        md["annotations"] = annotations
    return {"apiVersion": GROUP, "kind": "VirtualMachine", "metadata": md,
            "spec": {"virtualMachineClassName": "generic", "runPolicy": policy, "cpu": {"cores": 1},
                     "memory": {"size": "1Gi"}, "blockDeviceRefs": [{"kind": "VirtualDisk", "name": d} for d in disks]}}


def ready_of(obj: dict) -> tuple[str, str, str]:
    c = cond(obj, "Ready") or {}
    return c.get("status", ""), c.get("reason", ""), c.get("message", "")


def messages(rec: Recorder, name: str) -> list[str]:
    out: list[str] = []
    for h in rec.history(name):
        msg = ready_of(h)[2] if h.get("status") else ""
        if msg and (not out or out[-1] != msg):
            out.append(msg)
    return out


@pytest.fixture
def vds(api: Api, namespace: str):
    rec = Recorder(api, "VirtualDisk", namespace)
    yield rec
    rec.stop()


@pytest.fixture
def vms(api: Api, namespace: str):
    rec = Recorder(api, "VirtualMachine", namespace)
    yield rec
    rec.stop()


def volume(sandbox: Any, disk: dict) -> Path:
    pvc = disk["status"]["target"]["persistentVolumeClaimName"]
    return sandbox.state_dir / "controller" / "volumes" / disk["metadata"]["namespace"] / f"{pvc}.img"


def test_storage_classes_are_served_default_binds_at_once(api: Api) -> None:
    items = {sc["metadata"]["name"]: sc for sc in api.req("GET", api.path("StorageClass", None))["items"]}
    assert items["local-path"]["volumeBindingMode"] == "Immediate"
    assert items["local-path"]["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert items["local-path-wffc"]["volumeBindingMode"] == "WaitForFirstConsumer"
    assert "annotations" not in items["local-path-wffc"]["metadata"]
    assert api.get("StorageClass", None, "local-path-wffc")["allowVolumeExpansion"] is True


def test_blank_disk(sandbox: Any, api: Api, namespace: str, vds: Recorder) -> None:
    api.create(vd(namespace, "blank", size="10Mi"))
    obj = vds.wait_phase("blank", "Ready", 30)
    st = obj["status"]
    assert ready_of(obj) == ("True", "Ready", "")
    assert st["capacity"] == "10Mi" and st["progress"] == "100%" and st["storageClassName"] == "local-path"
    pvc = st["target"]["persistentVolumeClaimName"]
    assert pvc == f"d8v-vd-blank-{obj['metadata']['uid']}"
    assert (cond(obj, "StorageClassReady")["status"], cond(obj, "InUse")["reason"]) == ("True", "NotInUse")
    assert cond(obj, "DatasourceReady") is None            # removed once provisioned
    assert obj["metadata"]["finalizers"] == ["virtualization.deckhouse.io/vd-cleanup"]
    assert volume(sandbox, obj).stat().st_size == 10 * 2**20
    assert api.get("PersistentVolumeClaim", namespace, pvc)["status"]["phase"] == "Bound"
    assert f'Waiting for the PersistentVolumeClaim "{pvc}" to be Bound.' in messages(vds, "blank")
    assert [h["status"].get("progress") for h in vds.history("blank") if h.get("status", {}).get("phase") == "Pending"
            ] == [None] * len([h for h in vds.history("blank") if h.get("status", {}).get("phase") == "Pending"])


def test_http_disk_goes_through_dvcr_then_the_pvc(sandbox: Any, api: Api, namespace: str, vds: Recorder,
                                                  seeded: Path) -> None:
    http = sandbox.components["fileserver"]["http_url"]
    src = (seeded / "disk.qcow2").read_bytes()
    slow = {"sandbox.deckhouse.io/import-rate": str(len(src) // 2 or 1)}
    api.create(vd(namespace, "web", http_source(f"{http}/disk.qcow2",
                                                checksum={"sha256": hashlib.sha256(src).hexdigest()}),
                  size=None, annotations=slow))
    obj = vds.wait_phase("web", "Ready", 60)
    msgs = messages(vds, "web")
    assert msgs[:2] == ["DVCR Provisioner not found: create the new one.",
                        "Import is in the process of provisioning to DVCR."]
    assert "Import is in the process of provisioning to the PersistentVolumeClaim." in msgs
    assert check_progress(vds.history("web"))[-1] == "100%"
    assert any(h["status"].get("progress") == "50.0%" for h in vds.history("web") if h.get("status"))
    assert any("currentBytes" in (h.get("status") or {}).get("downloadSpeed", {}) for h in vds.history("web"))
    # no size asked: the image's virtual size (4 MiB, already aligned to 1 MiB: kept as a plain number)
    info = obj["status"]
    assert info["capacity"] == "4194304" and "sourceUID" not in info

    api.create(vd(namespace, "bad", http_source(f"{http}/disk.qcow2", checksum={"md5": "0" * 32})))
    bad = vds.wait_phase("bad", "Failed", 60)
    status, reason, msg = ready_of(bad)
    assert (status, reason) == ("False", "ProvisioningFailed")
    assert msg == (f"Provisioning failed: Pod {namespace}/d8v-vd-importer-{bad['metadata']['uid']} reported: "
                   f"source streaming error: md5 sum mismatch: {'0' * 32} != {hashlib.md5(src).hexdigest()}.")


def test_registry_disk_and_missing_secret(sandbox: Any, api: Api, namespace: str, vds: Recorder,
                                          seeded: Path) -> None:
    api.create(vd(namespace, "ci", image_source(sandbox, "demo/disk:latest", "pull"), size="16Mi"))
    obj = vds.wait("ci", lambda o: (cond(o, "DatasourceReady") or {}).get("reason")
                   == "ContainerRegistrySecretNotFound", 30)
    assert obj["status"]["phase"] == "Pending" and "progress" not in obj["status"]
    assert cond(obj, "DatasourceReady")["message"] == "Container registry secret not found."
    assert ready_of(obj) == ("False", "DatasourceIsNotReady", "Container registry secret not found.")
    api.create(pull_secret(sandbox, namespace, "pull"))
    assert vds.wait_phase("ci", "Ready", 60)["status"]["capacity"] == "16Mi"


def test_disks_from_images_wait_for_them(sandbox: Any, api: Api, namespace: str, vds: Recorder, vis: Recorder,
                                         seeded: Path) -> None:
    http = sandbox.components["fileserver"]["http_url"]
    api.create(vd(namespace, "fromvi", {"type": "ObjectRef", "objectRef": {"kind": "VirtualImage", "name": "base"}}))
    obj = vds.wait("fromvi", lambda o: (cond(o, "DatasourceReady") or {}).get("reason") == "ImageNotFound", 30)
    assert cond(obj, "DatasourceReady")["message"] == 'VirtualImage "base" not found.'
    assert ready_of(obj) == ("False", "DatasourceIsNotFound", 'VirtualImage "base" not found.')
    api.create(vd(namespace, "fromcvi", {"type": "ObjectRef", "objectRef": {"kind": "ClusterVirtualImage",
                                                                            "name": "no-such-cvi"}}))
    obj = vds.wait("fromcvi", lambda o: (cond(o, "DatasourceReady") or {}).get("reason") == "ClusterImageNotFound", 30)
    assert ready_of(obj)[1:] == ("DatasourceIsNotFound", 'ClusterVirtualImage "no-such-cvi" not found.')
    api.create(vi(namespace, "base", http_source(f"{http}/disk.qcow2")))
    base = vis.wait_phase("base", "Ready", 60)
    disk = vds.wait_phase("fromvi", "Ready", 60)
    assert disk["status"]["sourceUID"] == base["metadata"]["uid"] and disk["status"]["capacity"] == "8Mi"
    assert "Import is in the process of provisioning to the PersistentVolumeClaim." in messages(vds, "fromvi")
    # the disk's volume holds the image as raw data
    raw = volume(sandbox, disk).read_bytes()
    assert len(raw) == 8 * 2**20

    api.create(vd(namespace, "small", {"type": "ObjectRef", "objectRef": {"kind": "VirtualImage", "name": "base"}},
                  size="1Mi"))
    small = vds.wait_phase("small", "Failed", 30)
    assert ready_of(small) == ("False", "ProvisioningFailed",
                               "The specified pvc size is insufficient: 1048576 (1Mi) < "
                               f"{base['status']['size']['unpackedBytes']}.")


def test_upload_into_a_disk(sandbox: Any, api: Api, namespace: str, vds: Recorder, seeded: Path) -> None:
    src = seeded / "disk.qcow2"
    data = src.read_bytes()
    api.create(vd(namespace, "up", {"type": "Upload", "upload": {"checksum": {
        "sha256": hashlib.sha256(data).hexdigest()}}}, size="12Mi"))
    obj = vds.wait_phase("up", "WaitForUserUpload", 30)
    uid = obj["metadata"]["uid"]
    assert ready_of(obj) == ("False", "WaitForUserUpload", "Waiting for the image to be uploaded.")
    assert obj["status"]["progress"] == "0%"
    urls = obj["status"]["imageUploadURLs"]
    assert urls["external"].startswith("https://127.0.0.1:") and urls["inCluster"].endswith("/upload")
    assert (f'Waiting for the uploader "d8v-vd-uploader-up-{uid}" to be ready to process the user\'s upload.'
            in messages(vds, "up"))
    r = requests.put(urls["external"], data=data, verify=sandbox.ca_path, timeout=60)
    assert r.status_code == 200
    ready = vds.wait_phase("up", "Ready", 60)
    assert ready["status"]["capacity"] == "12Mi" and ready["status"]["imageUploadURLs"] == urls
    assert "Import is in the process of provisioning to DVCR." in messages(vds, "up")

    api.create(vd(namespace, "wrong", {"type": "Upload", "upload": {"checksum": {"md5": "1" * 32}}}))
    urls = vds.wait_phase("wrong", "WaitForUserUpload", 30)["status"]["imageUploadURLs"]
    assert requests.put(urls["external"], data=data, verify=sandbox.ca_path, timeout=60).status_code == 500
    bad = vds.wait_phase("wrong", "Failed", 30)
    assert ready_of(bad)[1] == "ProvisioningFailedTerminally"
    assert ready_of(bad)[2] == (f"Provisioning failed: Pod {namespace}/d8v-vd-uploader-wrong-{bad['metadata']['uid']} "
                                f"reported: md5 sum mismatch: {'1' * 32} != {hashlib.md5(data).hexdigest()}.")

    api.create(vd(namespace, "late", {"type": "Upload"}, annotations={"sandbox.deckhouse.io/upload-deadline": "1"}))
    late = vds.wait_phase("late", "Failed", 30)
    assert ready_of(late) == ("False", "WaitForUserUploadTimeout", "The image was not uploaded within 10 minutes. "
                              "Recreate the VirtualDisk to upload the image again.")
    assert "imageUploadURLs" not in late["status"]


def test_late_binding_waits_for_the_first_consumer(sandbox: Any, api: Api, namespace: str, vds: Recorder,
                                                   vms: Recorder, seeded: Path) -> None:
    http = sandbox.components["fileserver"]["http_url"]
    api.create(vd(namespace, "lazy", sc="local-path-wffc"))
    api.create(vd(namespace, "lazyweb", http_source(f"{http}/disk.qcow2"), sc="local-path-wffc"))
    lazy = vds.wait_phase("lazy", "WaitForFirstConsumer", 30)
    wffc = ("False", "WaitingForFirstConsumer",
            "Awaiting the creation and scheduling of the VirtualMachine with the attached VirtualDisk.")
    assert ready_of(lazy) == wffc and lazy["status"]["storageClassName"] == "local-path-wffc"
    assert lazy["status"]["progress"] == "0%"
    pvc = api.get("PersistentVolumeClaim", namespace, lazy["status"]["target"]["persistentVolumeClaimName"])
    assert pvc["status"]["phase"] == "Pending"
    web = vds.wait_phase("lazyweb", "WaitForFirstConsumer", 60)
    assert ready_of(web) == wffc and web["status"]["progress"] == "50.0%"
    time.sleep(0.5)
    assert vds.last("lazy")["status"]["phase"] == "WaitForFirstConsumer"
    # a VM that is not started yet: the imported disk says the VM is not scheduled
    api.create(vm(namespace, "later", ["lazyweb"], policy="Manual"))
    vds.wait("lazyweb", lambda o: ready_of(o)[2] == "Awaiting the scheduling of the VirtualMachine with the "
             "attached VirtualDisk.", 30)
    api.create(vm(namespace, "user", ["lazy"]))
    vms.wait_phase("user", "Running", 60)
    assert vds.wait_phase("lazy", "Ready", 30)["status"]["capacity"] == "8Mi"
    assert "Starting" in [h["status"]["phase"] for h in vms.history("user") if h.get("status")]
    assert vds.last("lazyweb")["status"]["phase"] == "WaitForFirstConsumer"


def test_resize_grows_and_shrink_is_refused(sandbox: Any, api: Api, namespace: str, vds: Recorder) -> None:
    api.create(vd(namespace, "grow", size="8Mi", annotations={"sandbox.deckhouse.io/resize-step": "0.5"}))
    obj = vds.wait_phase("grow", "Ready", 30)
    api.patch("VirtualDisk", namespace, "grow", {"spec": {"persistentVolumeClaim": {"size": "12Mi"}}})
    resizing = vds.wait_phase("grow", "Resizing", 30)
    c = cond(resizing, "Resizing")
    assert (c["status"], c["reason"], c["message"]) == ("True", "InProgress", "The virtual disk resizing has started.")
    done = vds.wait(("grow"), lambda o: o["status"]["phase"] == "Ready" and o["status"]["capacity"] == "12Mi", 30)
    assert cond(done, "Resizing") is None and ready_of(done) == ("True", "Ready", "")
    assert volume(sandbox, obj).stat().st_size == 12 * 2**20
    reasons = [e["reason"] for e in api.events(namespace) if e["involvedObject"]["name"] == "grow"]
    assert "VirtualDiskResizingStarted" in reasons and "VirtualDiskResizingCompleted" in reasons
    r = api.s.patch(api.base + api.path("VirtualDisk", namespace, "grow"),
                    json={"spec": {"persistentVolumeClaim": {"size": "4Mi"}}},
                    headers={"Content-Type": "application/merge-patch+json"}, verify=api.ca, timeout=30)
    assert r.status_code == 403, r.text
    assert r.json()["message"] == ('admission webhook "vd.virtualization-controller.validate.d8-virtualization" '
                                   "denied the request: spec.persistentVolumeClaim.size value (4Mi) should be "
                                   "greater than or equal to the current value (12Mi)")


def test_attached_disk_is_protected_until_the_vm_lets_go(sandbox: Any, api: Api, namespace: str, vds: Recorder,
                                                         vms: Recorder) -> None:
    api.create(vd(namespace, "root"))
    api.create(vm(namespace, "vm", ["root"]))
    vms.wait_phase("vm", "Running", 60)
    obj = vds.wait("root", lambda o: (cond(o, "InUse") or {}).get("status") == "True", 30)
    assert obj["status"]["attachedToVirtualMachines"] == [{"name": "vm", "mounted": True}]
    in_use = cond(obj, "InUse")
    assert (in_use["reason"], in_use["message"]) == (
        "AttachedToVirtualMachine",
        'The VirtualDisk is in use by the VirtualMachine "vm"; detach it or stop the VirtualMachine to release the '
        "VirtualDisk.")
    obj = vds.wait("root", lambda o: "virtualization.deckhouse.io/vd-protection" in o["metadata"].get("finalizers", []),
                   30)
    api.delete("VirtualDisk", namespace, "root")
    term = vds.wait_phase("root", "Terminating", 30)
    time.sleep(1.0)
    assert api.get("VirtualDisk", namespace, "root") is not None
    assert cond(vds.last("root"), "Terminating") is None and cond(vds.last("root"), "InUse")["status"] == "True"
    assert term["metadata"]["finalizers"] == ["virtualization.deckhouse.io/vd-cleanup",
                                              "virtualization.deckhouse.io/vd-protection"]
    api.patch("VirtualMachine", namespace, "vm", {"spec": {"runPolicy": "AlwaysOff"}})
    vds.wait_gone("root", 30)


def test_fault_hooks_disk_error_and_pvc_lost(sandbox: Any, api: Api, namespace: str, vds: Recorder,
                                             seeded: Path) -> None:
    http = sandbox.components["fileserver"]["http_url"]
    api.create(vd(namespace, "broken", http_source(f"{http}/disk.qcow2"),
                  annotations={"sandbox.deckhouse.io/disk-error": "disk is on fire"}))
    obj = vds.wait_phase("broken", "Failed", 30)
    assert ready_of(obj) == ("False", "ProvisioningFailed", f"Provisioning failed: Pod {namespace}/d8v-vd-importer-"
                             f"{obj['metadata']['uid']} reported: disk is on fire.")
    api.create(vd(namespace, "blankfail", annotations={"sandbox.deckhouse.io/disk-error": "x"}))
    assert ready_of(vds.wait_phase("blankfail", "Failed", 30)) == ("False", "ProvisioningFailed",
                                                                   "VirtualDisk importer Pod failed.")
    api.create(vd(namespace, "lost"))
    ready = vds.wait_phase("lost", "Ready", 30)
    api.patch("VirtualDisk", namespace, "lost", {"metadata": {"annotations": {"sandbox.deckhouse.io/pvc-lost": "true"}}})
    lost = vds.wait_phase("lost", "PVCLost", 30)
    pvc = ready["status"]["target"]["persistentVolumeClaimName"]
    assert ready_of(lost) == ("False", "PVCLost", f'The PersistentVolumeClaim "{pvc}" not found.')


@pytest.fixture(scope="module")
def v110(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A full sandbox (controller included) serving the released line v1.10."""
    from sandbox.handle import Sandbox
    sb = Sandbox(tmp_path_factory.mktemp("v110-disks"))
    try:
        sb.up(platform="v1.10")
        yield sb
    finally:
        sb.down()


def test_v110_disk_differences(v110: Any) -> None:
    """v1.10.2: `Waiting for the user upload.`, upload failures ProvisioningFailed, no upload deadline, InUse
    without messages."""
    api = Api(v110)
    ns = f"v110-{time.monotonic_ns() % 10**8}"
    api.req("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    rec, vms = Recorder(api, "VirtualDisk", ns), Recorder(api, "VirtualMachine", ns)
    try:
        api.create(vd(ns, "up", {"type": "Upload"}, annotations={"sandbox.deckhouse.io/upload-deadline": "1"}))
        obj = rec.wait_phase("up", "WaitForUserUpload", 30)
        assert ready_of(obj) == ("False", "WaitForUserUpload", "Waiting for the user upload.")
        time.sleep(1.5)                       # no deadline on this line
        assert rec.last("up")["status"]["phase"] == "WaitForUserUpload"
        url = obj["status"]["imageUploadURLs"]["external"]
        r = requests.put(url, data=iter([b"x" * 10]), verify=v110.ca_path, timeout=30)     # chunked: refused
        assert r.status_code == 500
        assert ready_of(rec.wait_phase("up", "Failed", 30))[1] == "ProvisioningFailed"
        api.create(vd(ns, "root"))
        api.create(vm(ns, "vm", ["root"]))
        vms.wait_phase("vm", "Running", 60)
        used = rec.wait("root", lambda o: (cond(o, "InUse") or {}).get("status") == "True", 30)
        assert (cond(used, "InUse")["reason"], cond(used, "InUse")["message"]) == ("AttachedToVirtualMachine", "")
    finally:
        rec.stop()
        vms.stop()
        api.delete("Namespace", None, ns)


def test_a_storage_class_that_does_not_exist_is_refused_at_admission(sandbox: Any, api: Api, namespace: str,
                                                                      vds: Recorder) -> None:
    """vd storage_class_validator.go: named at create, or changed while Pending, the class must exist (403 from the
    vd webhook); a disk on an existing class is admitted and a Pending one may move to another existing class."""
    hook = 'admission webhook "vd.virtualization-controller.validate.d8-virtualization" denied the request: '
    r = api.s.post(api.base + api.path("VirtualDisk", namespace), json=vd(namespace, "lost", sc="no-such-class"),
                   verify=api.ca, timeout=30)
    assert (r.status_code, r.json()["message"]) == (403, hook + 'storage class "no-such-class" not found')
    assert api.get("VirtualDisk", namespace, "lost") is None
    waiting = vd(namespace, "waiting", source={"type": "ObjectRef", "objectRef": {"kind": "VirtualImage",
                                                                                   "name": "not-yet"}}, sc="local-path")
    api.create(waiting)
    vds.wait_phase("waiting", "Pending", 30)
    r = api.s.patch(api.base + api.path("VirtualDisk", namespace, "waiting"),
                    json={"spec": {"persistentVolumeClaim": {"storageClassName": "gone-class"}}},
                    headers={"Content-Type": "application/merge-patch+json"}, verify=api.ca, timeout=30)
    assert (r.status_code, r.json()["message"]) == (403, hook + 'target storage class "gone-class" not found')
    api.patch("VirtualDisk", namespace, "waiting", {"spec": {"persistentVolumeClaim": {
        "storageClassName": "local-path-wffc"}}})


def test_a_storage_class_changed_past_pending_is_refused_as_a_volume_migration(api: Api, namespace: str,
                                                                               vds: Recorder, vms: Recorder) -> None:
    """vd storage_class_validator.go (v1.10.2 and main): past Pending a new class asks for a volume migration, which
    the CE build the sandbox claims never enables: refused whether or not a running VM mounts the disk, and the
    disk stays on its class; a size change and dropping the class from the spec still pass."""
    hook = 'admission webhook "vd.virtualization-controller.validate.d8-virtualization" denied the request: '
    refused = hook + 'storage class cannot be changed if volume migration is not enabled (EDITION="CE")'

    def move(name: str) -> tuple[int, str]:
        r = api.s.patch(api.base + api.path("VirtualDisk", namespace, name),
                        json={"spec": {"persistentVolumeClaim": {"storageClassName": "local-path-wffc"}}},
                        headers={"Content-Type": "application/merge-patch+json"}, verify=api.ca, timeout=30)
        return r.status_code, r.json().get("message", "")

    api.create(vd(namespace, "kept", sc="local-path"))
    vds.wait_phase("kept", "Ready", 30)
    assert move("kept") == (403, refused)
    disk = api.get("VirtualDisk", namespace, "kept")
    assert disk["spec"]["persistentVolumeClaim"]["storageClassName"] == "local-path"
    assert disk["status"]["storageClassName"] == "local-path" and disk["metadata"]["generation"] == 1
    api.create(vm(namespace, "runner", ["kept"]))
    vms.wait_phase("runner", "Running", 60)
    assert move("kept") == (403, refused)
    api.patch("VirtualDisk", namespace, "kept", {"spec": {"persistentVolumeClaim": {"size": "16Mi"}}})
    api.patch("VirtualDisk", namespace, "kept", {"spec": {"persistentVolumeClaim": {"storageClassName": None}}})
    assert "storageClassName" not in api.get("VirtualDisk", namespace, "kept")["spec"]["persistentVolumeClaim"]
