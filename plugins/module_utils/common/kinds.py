# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The platform's API facts in one place: kinds, paths, phases, checksum algorithms, storage choices."""

from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

GROUP = "virtualization.deckhouse.io"
VERSION = "v1alpha2"
API_VERSION = GROUP + "/" + VERSION


class Kind(NamedTuple):
    """A kind of the platform's objects (images, disks, snapshots, virtual machines and their operations): what
    URLs and messages need to know about it."""

    kind: str
    plural: str
    namespaced: bool

    def collection_path(self, namespace: Optional[str]) -> str:
        """Path of the list endpoint (all namespaces when ``namespace`` is None)."""
        base = "/apis/%s/%s" % (GROUP, VERSION)
        if self.namespaced and namespace:
            return "%s/namespaces/%s/%s" % (base, namespace, self.plural)
        return "%s/%s" % (base, self.plural)

    def object_path(self, name: str, namespace: Optional[str]) -> str:
        """Path of one object."""
        return "%s/%s" % (self.collection_path(namespace), name)

    def ref(self, name: str, namespace: Optional[str]) -> str:
        """Human reference used in messages: ``VirtualImage ns/name``."""
        return "%s %s" % (self.kind, "%s/%s" % (namespace, name) if self.namespaced else name)


VIRTUAL_IMAGE = Kind("VirtualImage", "virtualimages", True)
CLUSTER_VIRTUAL_IMAGE = Kind("ClusterVirtualImage", "clustervirtualimages", False)
VIRTUAL_DISK = Kind("VirtualDisk", "virtualdisks", True)
VIRTUAL_DISK_SNAPSHOT = Kind("VirtualDiskSnapshot", "virtualdisksnapshots", True)
VIRTUAL_MACHINE = Kind("VirtualMachine", "virtualmachines", True)
VIRTUAL_MACHINE_OPERATION = Kind("VirtualMachineOperation", "virtualmachineoperations", True)
VIRTUAL_MACHINE_BLOCK_DEVICE_ATTACHMENT = Kind("VirtualMachineBlockDeviceAttachment",
                                               "virtualmachineblockdeviceattachments", True)

# Kinds whose paths live under /api/v1 rather than the platform group.
CORE_PATHS = {"secrets": "/api/v1"}


def core_object_path(plural: str, name: Optional[str], namespace: str) -> str:
    """Path of a core/v1 namespaced object (or its collection when name is None)."""
    path = "%s/namespaces/%s/%s" % (CORE_PATHS[plural], namespace, plural)
    return path + "/" + name if name else path


SOURCE_KINDS = ("VirtualImage", "ClusterVirtualImage", "VirtualDisk", "VirtualDiskSnapshot")
# What a VirtualDisk can be made from (dataSource.objectRef.kind): images and snapshots, never another disk.
DISK_SOURCE_KINDS = ("VirtualImage", "ClusterVirtualImage", "VirtualDiskSnapshot")


def object_ref_kinds(target: Kind) -> Tuple[str, ...]:
    """The kinds an object of ``target``'s kind can be copied from (its dataSource.objectRef.kind)."""
    return DISK_SOURCE_KINDS if target.kind == VIRTUAL_DISK.kind else SOURCE_KINDS


# The checksum algorithms the platform verifies, with the hex length of each digest, in the platform's order.
CHECKSUM_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128, "streebog256": 64, "streebog512": 128}
CHECKSUM_ALGORITHMS = tuple(CHECKSUM_LENGTHS)
# Where a VirtualImage keeps its data (spec.storage); the module's default when none is given.
# The checksum algorithms of the released platform line (DVP v1.10): the others came later.
RELEASED_LINE_CHECKSUMS = ("sha256", "md5")
DEFAULT_STORAGE = "ContainerRegistry"
PVC_STORAGE = "PersistentVolumeClaim"
STORAGE_CHOICES = (DEFAULT_STORAGE, PVC_STORAGE)
# Source option name -> dataSource.type and the block's key in the API.
SOURCE_TYPES = {
    "http": ("HTTP", "http"),
    "container_image": ("ContainerImage", "containerImage"),
    "object_ref": ("ObjectRef", "objectRef"),
    "upload": ("Upload", "upload"),
}
TERMINAL_FAILURE_PHASES = ("Failed", "ImageLost", "PVCLost")
# Phases after which the platform rejects spec changes.
PROVISIONED_PHASES = ("Ready", "ImageLost", "PVCLost")
PULL_SECRET_TYPE = "kubernetes.io/dockerconfigjson"
OWNED_SECRET_LABEL = "virtualization.deckhouse.io/ansible-owned-by"
# Every phase an image reports (virtual_image_info filters on them).
IMAGE_PHASES = ("Pending", "Provisioning", "WaitForUserUpload", "Ready", "Failed", "Terminating", "ImageLost",
                "PVCLost")
# Every phase a VirtualDisk reports (virtual_disk_info filters on them).
DISK_PHASES = ("Pending", "Provisioning", "WaitForUserUpload", "WaitForFirstConsumer", "Ready", "Resizing", "Failed",
               "PVCLost", "Exporting", "Terminating", "Migrating")
# Phases after which the platform rejects a disk's data source change (it holds its data): the size may still grow.
DISK_PROVISIONED_PHASES = ("Ready", "Resizing", "Migrating", "Exporting", "PVCLost")
# A disk on a storage class that binds late holds its data once a VM uses it: until then this phase.
FIRST_CONSUMER_PHASE = "WaitForFirstConsumer"
# A disk whose volume the storage module is exporting: its data is intact and the disk is Ready again once the
# export ends (the platform leaves this phase by itself), so a wait goes on through it and names it.
EXPORTING_PHASE = "Exporting"
# The VirtualMachineOperation types the collection drives.
VM_OPERATIONS = ("Start", "Stop", "Restart")
