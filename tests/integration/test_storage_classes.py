"""virtual_disk and virtual_image against the platform's storage-class rules (vd storage_class_validator.go and
vi_webhook.go, the same on both lines): a disk past Pending keeps its class (another one would be a volume
migration, which the sandbox's CE build refuses), so the module refuses before any write naming both classes and
``recreate: true``, which makes the disk anew unless a virtual machine uses it; an image on a PVC names an
existing class.

Runs on both platform lines (DVP_SANDBOX_PLATFORM=v1.10 too)."""
from __future__ import annotations

from typing import Any, Dict

import requests

DISK = "deckhouse.virtualization.virtual_disk"
IMAGE = "deckhouse.virtualization.virtual_image"
WAIT = 60
WFFC_CLASS = "local-path-wffc"


def disk(namespace: str, name: str, **options: Any) -> Dict[str, Any]:
    return dict({"name": name, "namespace": namespace, "size": "8Mi", "wait_timeout": WAIT}, **options)


def test_a_disk_keeps_its_class_past_pending_until_recreate_makes_it_anew(play, namespace, kube, admin_writes,
                                                                          sandbox):
    made = play([{DISK: disk(namespace, "moved", storage_class="local-path"), "register": "made"}])
    assert made.rc == 0, made.fatal()
    admin_writes.clear()
    run = play([{DISK: disk(namespace, "moved", storage_class=WFFC_CLASS), "register": "moved",
                 "ignore_errors": True}])
    assert run["moved"]["failed"] is True
    assert run["moved"]["msg"] == (
        'storage_class: VirtualDisk %s/moved is on storage class "local-path" (phase Ready) and the platform does not '
        'move a disk past Pending to another class ("%s"). Set recreate: true to delete the disk and make a new one '
        'on "%s" (the data on the disk is lost); nothing was written' % (namespace, WFFC_CLASS, WFFC_CLASS))
    assert admin_writes(namespace) == []
    # the platform's own answer to that write, which the module spares the user
    refused = requests.patch(
        "%s/apis/virtualization.deckhouse.io/v1alpha2/namespaces/%s/virtualdisks/moved" % (sandbox.api_url, namespace),
        json={"spec": {"persistentVolumeClaim": {"storageClassName": WFFC_CLASS}}}, verify=sandbox.ca_path,
        timeout=30, headers={"Authorization": "Bearer %s" % sandbox.tokens["admin"],
                             "Content-Type": "application/merge-patch+json"})
    assert refused.status_code == 403 and refused.json()["message"].endswith(
        'denied the request: storage class cannot be changed if volume migration is not enabled (EDITION="CE")')
    again = play([{DISK: disk(namespace, "moved", storage_class=WFFC_CLASS, recreate=True), "register": "moved"},
                  {DISK: disk(namespace, "moved", storage_class=WFFC_CLASS), "register": "rerun"}])
    assert again.rc == 0, again.fatal()
    assert again["moved"]["changed"] is True and again["moved"]["phase"] == "WaitForFirstConsumer"
    assert again["moved"]["disk"]["spec"]["persistentVolumeClaim"]["storageClassName"] == WFFC_CLASS
    assert again["moved"]["disk"]["metadata"]["uid"] != made["made"]["disk"]["metadata"]["uid"]
    assert again["rerun"]["changed"] is False
    # Past Pending on the late-binding class too: the class stays until the disk is made anew.
    admin_writes.clear()
    back = play([{DISK: disk(namespace, "moved", storage_class="local-path"), "register": "back",
                  "ignore_errors": True}])
    assert back["back"]["msg"].startswith('storage_class: VirtualDisk %s/moved is on storage class "%s" (phase '
                                          "WaitForFirstConsumer)" % (namespace, WFFC_CLASS)), back["back"]["msg"]
    assert admin_writes(namespace) == []


def test_a_disk_a_virtual_machine_uses_is_not_made_anew_on_another_class(play, namespace, kube, admin_writes):
    kube.make_disk(namespace, "root")
    kube.make_vm(namespace, "web", "root", "AlwaysOnUnlessStoppedManually")
    admin_writes.clear()
    run = play([{DISK: disk(namespace, "root", storage_class=WFFC_CLASS, recreate=True), "register": "root",
                 "ignore_errors": True},
                {DISK: disk(namespace, "root", storage_class="local-path"), "register": "named"}])
    assert run["root"]["failed"] is True
    assert run["root"]["msg"] == (
        'storage_class: VirtualDisk %s/root is on storage class "local-path" (phase Ready) and the platform does not '
        'move a disk past Pending to another class ("%s"), and recreate: true cannot make it anew: it is attached to '
        'VirtualMachine "web" (mounted), and a disk a virtual machine uses is never recreated: detach it first, or '
        "make a new disk; nothing was written" % (namespace, WFFC_CLASS))
    assert run["root"]["attached_to"] == [{"name": "web", "mounted": True}]
    # made without a class, the disk is on the default one: naming it changes nothing (and writes nothing)
    assert run["named"]["changed"] is False
    assert admin_writes(namespace) == []
    assert kube.vm_phase(namespace, "web") == "Running"


def test_an_image_on_a_storage_class_that_does_not_exist_is_named_before_any_write(play, namespace, admin_writes,
                                                                                   sandbox):
    image = {"name": "typo", "namespace": namespace, "storage": "PersistentVolumeClaim", "storage_class": "local-pth",
             "source": {"http": {"url": "https://example.invalid/a.qcow2"}}, "wait": False}
    run = play([{IMAGE: image, "register": "typo", "ignore_errors": True}])
    assert run["typo"]["failed"] is True
    assert run["typo"]["msg"].startswith('storage_class: storage class "local-pth" not found; name an existing '
                                         "StorageClass"), run["typo"]["msg"]
    assert admin_writes(namespace) == []
    body = {"apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualImage",
            "metadata": {"name": "typo", "namespace": namespace},
            "spec": {"storage": "PersistentVolumeClaim", "persistentVolumeClaim": {"storageClassName": "local-pth"},
                     "dataSource": {"type": "HTTP", "http": {"url": "https://example.invalid/a.qcow2"}}}}
    refused = requests.post("%s/apis/virtualization.deckhouse.io/v1alpha2/namespaces/%s/virtualimages"
                            % (sandbox.api_url, namespace), json=body, verify=sandbox.ca_path, timeout=30,
                            headers={"Authorization": "Bearer %s" % sandbox.tokens["admin"]})
    assert refused.status_code == 403 and refused.json()["message"] == (
        'admission webhook "vi.virtualization-controller.validate.d8-virtualization" denied the request: '
        'storage class "local-pth" not found')
    fixed = play([{IMAGE: dict(image, storage_class="local-path"), "register": "fixed"}])
    assert fixed.rc == 0 and fixed["fixed"]["changed"] is True, fixed.fatal()
