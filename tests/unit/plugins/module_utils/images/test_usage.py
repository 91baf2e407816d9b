# -*- coding: utf-8 -*-
"""What uses an image, and a deletion held by the platform's protection finalizer named at once (v1.10 has no
InUse condition to say so)."""
from __future__ import annotations

import json

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client, HttpResponse
from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.waiter import DONE, FAIL, WAIT
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    CLUSTER_VIRTUAL_IMAGE, VIRTUAL_IMAGE,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.usage import (
    UsageIndex, absent_unless_held,
)

VM = {"metadata": {"name": "web", "namespace": "ns"},
      "status": {"blockDeviceRefs": [{"kind": "VirtualImage", "name": "iso"}]}}
OTHER_NS_VM = {"metadata": {"name": "db", "namespace": "team"},
               "spec": {"blockDeviceRefs": [{"kind": "ClusterVirtualImage", "name": "iso"}]}}


def client(items, forbidden=()):
    def send(method, path, query, headers, payload, stream, timeout):
        plural = path.rsplit("/", 1)[1]
        if plural in forbidden:
            return HttpResponse(403, {}, json.dumps({"kind": "Status", "reason": "Forbidden", "message": "no"}).encode())
        return HttpResponse(200, {}, json.dumps({"items": items.get(plural, [])}).encode())
    return Client(send)


def deleted(finalizers, conditions=()):
    return {"metadata": {"name": "iso", "namespace": "ns", "deletionTimestamp": "2026-11-30T00:00:00Z",
                         "resourceVersion": "1", "finalizers": list(finalizers)},
            "status": {"phase": "Terminating", "conditions": list(conditions)}}


def test_a_deletion_held_by_the_protection_finalizer_names_the_machine_at_once():
    predicate, _text = absent_unless_held(client({"virtualmachines": [VM]}), VIRTUAL_IMAGE)
    verdict = predicate(deleted(["virtualization.deckhouse.io/vi-protection"]))
    assert verdict.state == FAIL
    assert verdict.message.startswith('the VirtualImage is in use by the VirtualMachine "web"; detach it or stop')


def test_a_cleanup_still_running_or_no_machine_found_keeps_waiting():
    predicate, _text = absent_unless_held(client({"virtualmachines": [VM]}), VIRTUAL_IMAGE)
    assert predicate(deleted(["virtualization.deckhouse.io/vi-cleanup",
                              "virtualization.deckhouse.io/vi-protection"])).state == WAIT
    idle, _text = absent_unless_held(client({}), VIRTUAL_IMAGE)
    assert idle(deleted(["virtualization.deckhouse.io/vi-protection"])).state == WAIT
    assert idle(None).state == DONE


def test_cluster_images_count_disks_and_machines_of_every_namespace_and_a_forbidden_list_is_unknown():
    disk = {"metadata": {"name": "root", "namespace": "team"},
            "spec": {"dataSource": {"type": "ObjectRef", "objectRef": {"kind": "ClusterVirtualImage", "name": "iso"}}}}
    usage = UsageIndex(client({"virtualdisks": [disk], "virtualmachines": [OTHER_NS_VM]})).of(
        {"metadata": {"name": "iso"}, "status": {"usedInNamespaces": ["x"]}}, CLUSTER_VIRTUAL_IMAGE)
    assert usage.users == ["VirtualDisk team/root", "VirtualMachine team/db"] and usage.namespaces == ["x"]
    forbidden = UsageIndex(client({}, forbidden=("virtualmachines",)))
    unknown = forbidden.of({"metadata": {"name": "iso"}}, CLUSTER_VIRTUAL_IMAGE)
    assert not unknown.in_use and not unknown.complete


def test_a_filled_disk_no_longer_needs_its_image_but_is_listed_as_made_from_it():
    filled = {"metadata": {"name": "root", "namespace": "ns"}, "status": {"phase": "Ready"},
              "spec": {"dataSource": {"type": "ObjectRef", "objectRef": {"kind": "VirtualImage", "name": "iso"}}}}
    waiting = dict(filled, metadata={"name": "late", "namespace": "ns"}, status={"phase": "WaitForFirstConsumer"})
    copying = dict(filled, metadata={"name": "copy", "namespace": "ns"}, status={"phase": "Provisioning"})
    attachment = {"metadata": {"name": "hotplug", "namespace": "ns"},
                  "spec": {"blockDeviceRef": {"kind": "VirtualImage", "name": "iso"}}}
    usage = UsageIndex(client({"virtualdisks": [filled, waiting], "virtualimages": [copying],
                               "virtualmachineblockdeviceattachments": [attachment]})).of(
        {"metadata": {"name": "iso", "namespace": "ns"}}, VIRTUAL_IMAGE)
    assert usage.users == ["VirtualDisk ns/late", "VirtualImage ns/copy",
                           "VirtualMachineBlockDeviceAttachment ns/hotplug"]
    assert usage.disks == ["VirtualDisk ns/late", "VirtualDisk ns/root"]
