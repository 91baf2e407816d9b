#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Manage one VirtualDisk (thin: docs, argspec, main)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: virtual_disk
short_description: Manage a VirtualDisk of the Deckhouse Virtualization Platform
version_added: 0.1.0
description:
  - Create, grow, recreate or delete one C(VirtualDisk) (blank, or filled over HTTP, from a container registry,
    from a C(VirtualImage), C(ClusterVirtualImage) or C(VirtualDiskSnapshot), or from a local file uploaded in the
    same task) and wait until it holds its data.
  - Changes are decided by comparing the wanted spec, labels and annotations with the live disk before any write;
    a run with nothing to change sends no write.
  - Before the disk holds its data a spec change is patched (the platform starts provisioning again). Once it
    does (C(Ready), C(Resizing), C(PVCLost), ...) only O(size) may change, and only upwards, in place (the wait
    goes through C(Resizing)); a smaller size is refused naming both sizes. Any other change is refused naming
    the fields unless O(recreate=true), which deletes and recreates a disk attached to no virtual machine (never
    one a virtual machine uses).
author:
  - Deckhouse virtualization contributors (@deckhouse)
extends_documentation_fragment:
  - deckhouse.virtualization.source.virtual_disk
  - deckhouse.virtualization.auth
  - deckhouse.virtualization.wait.disk
  - deckhouse.virtualization.progress
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Uses the API server's dry run (C(dryRun=All)); nothing is stored.
  diff_mode:
    support: full
  platform:
    platforms: kubernetes
requirements:
  - gostcrypto (only to compute streebog checksums of an uploaded file; it is pure Python and slow, about 80 KiB/s)
options:
  name:
    description: Name of the disk. Lower-case letters, digits and C(-); the platform forbids dots.
    type: str
    required: true
  namespace:
    description: Namespace of the disk.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the disk, V(absent) deletes it (and the pull Secret the module created).
      - Deleting a disk a virtual machine uses (C(status.attachedToVirtualMachines)) is refused before any write,
        naming the virtual machine, unless O(force=true).
    type: str
    choices: [present, absent]
    default: present
  size:
    description:
      - Size of the disk, a Kubernetes quantity such as C(10Gi) (C(spec.persistentVolumeClaim.size)). Required
        without O(source); with one, the size of the source when omitted (it must then be at least that).
      - A larger size on a disk that holds data grows it in place; a smaller one is refused. The disk's size is
        the larger of its spec and its capacity (C(status.capacity)), so a disk made without O(size) grows from
        its source's size. Sizes are compared by value (C(1Gi) is C(1024Mi)). Left out on a later run, the disk
        keeps its size.
    type: str
  storage_class:
    description:
      - StorageClass of the disk's PVC; the default class when omitted. On a class that binds volumes late
        (C(volumeBindingMode=WaitForFirstConsumer)) the disk holds its data only once a virtual machine uses it;
        see O(wait_for).
    type: str
  labels:
    description: Labels to set on the disk (merged into the existing ones).
    type: dict
  annotations:
    description: Annotations to set on the disk (merged into the existing ones).
    type: dict
  recreate:
    description:
      - When the disk already holds data and its spec differs beyond a larger O(size), delete it (waiting until it
        is gone) and create it anew instead of failing. Never done for a disk a virtual machine uses.
    type: bool
    default: false
  force:
    description:
      - With O(state=absent), delete the disk even when a virtual machine uses it. The platform keeps it
        C(Terminating) until the virtual machine lets go; the task then ends with a warning and RV(held_by).
    type: bool
    default: false
  wait_for:
    description:
      - What O(wait) waits for. V(WaitForFirstConsumer) counts a disk on a late-binding storage class that waits
        for its first virtual machine (phase C(WaitForFirstConsumer)) as done, as well as C(Ready). V(Ready) waits
        until the disk holds its data, which on such a class happens only once a virtual machine using it is
        scheduled.
    type: str
    choices: [WaitForFirstConsumer, Ready]
    default: WaitForFirstConsumer
notes:
  - The disk's source object (O(source.object_ref)) must exist when the task writes it.
  - The platform's messages are passed on as they are; C(Failed) and C(PVCLost) end the wait at once.
"""

EXAMPLES = r"""
# The sources are variables: on a cluster, your mirror's URLs; the doc-examples test sets them to the sandbox's.
- name: A blank 1 GiB data disk
  deckhouse.virtualization.virtual_disk:
    name: data
    namespace: vms
    size: 1Gi

- name: Grow it to 2 GiB (in place; waits through Resizing)
  deckhouse.virtualization.virtual_disk:
    name: data
    namespace: vms
    size: 2Gi

- name: A root disk from a VirtualImage, larger than the image
  deckhouse.virtualization.virtual_disk:
    name: web-root
    namespace: vms
    size: 1Gi
    source:
      object_ref:
        kind: VirtualImage
        name: debian-12

- name: A disk imported over HTTP(S), checked against its checksum
  deckhouse.virtualization.virtual_disk:
    name: tools
    namespace: vms
    source:
      http:
        url: "{{ tools_url }}"
        checksum:
          sha256: "{{ tools_sha256 }}"

- name: A disk from a local file, uploaded in the same task
  deckhouse.virtualization.virtual_disk:
    name: appliance
    namespace: vms
    source:
      upload:
        path: "{{ appliance_file }}"

- name: A disk on a late-binding storage class (done once it waits for its first VM)
  deckhouse.virtualization.virtual_disk:
    name: scratch
    namespace: vms
    size: 1Gi
    storage_class: "{{ late_binding_class }}"

- name: Delete the data disk
  deckhouse.virtualization.virtual_disk:
    name: data
    namespace: vms
    state: absent
"""

RETURN = r"""
disk:
  description: The disk as the API returned it last (null after deletion), upload URLs redacted.
  returned: always
  type: dict
phase:
  description: C(status.phase) of the disk at the end.
  returned: always
  type: str
  sample: Ready
progress:
  description: C(status.progress) of the disk at the end.
  returned: always
  type: str
  sample: 100%
summary:
  description:
    - The disk as one flat dictionary, as M(deckhouse.virtualization.virtual_disk_info) gives it (C(phase),
      C(size), C(capacity), C(storage_class), C(source), C(attached_to), C(mounted_by), C(image_being_made), ...).
  returned: when the disk exists at the end and no file was uploaded
  type: dict
held_by:
  description: The virtual machines that hold a force-deleted disk C(Terminating).
  returned: when a forced delete is held
  type: list
  elements: str
phases:
  description: The phases seen while running, in order, with the progress when each was first seen.
  returned: always
  type: list
  elements: dict
duration:
  description: Seconds the task took.
  returned: always
  type: float
bytes:
  description: Bytes uploaded (0 when the disk already held the file).
  returned: with O(source.upload)
  type: int
checksums:
  description: Checksums computed from the file (the given algorithms, C(sha1) when none was given).
  returned: with O(source.upload)
  type: dict
verified_by:
  description: Who checked the uploaded bytes against a checksum (C(module), C(platform)).
  returned: with O(source.upload)
  type: list
  elements: str
diff:
  description: The object before and after (identity, labels, annotations and spec).
  returned: when diff mode is on
  type: dict
differing_fields:
  description: Spec fields that differ from a disk that holds data (on that failure).
  returned: on failure
  type: list
  elements: str
  sample: [spec.dataSource.http.url]
attached_to:
  description: The virtual machines using the disk, each with C(name) and C(mounted) (on a refused delete or recreate).
  returned: on failure
  type: list
  elements: dict
conditions:
  description: The disk's status conditions (on a failure of the disk).
  returned: on failure
  type: list
  elements: dict
"""

from typing import Any, Dict, List

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import VIRTUAL_DISK
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.request import DiskRequest, disk_request
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.runner import DiskRunner
from ansible_collections.deckhouse.virtualization.plugins.module_utils.glue.module import (
    CollectionModule, source_checksum_blocks,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.args import (
    PRESENCE_SPEC, source_spec, with_task_options,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.disk import DiskOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.sums import ChecksumBlock

WAIT_FOR_CHOICES = ("WaitForFirstConsumer", "Ready")


def argument_spec() -> Dict[str, Any]:
    """The options of virtual_disk (a fresh copy: AnsibleModule changes it)."""
    return with_task_options(dict(
        name={"type": "str", "required": True},
        namespace={"type": "str", "required": True},
        state=PRESENCE_SPEC,
        source=source_spec(VIRTUAL_DISK),
        size={"type": "str"},
        storage_class={"type": "str"},
        labels={"type": "dict"},
        annotations={"type": "dict"},
        recreate={"type": "bool", "default": False},
        force={"type": "bool", "default": False},
        wait_for={"type": "str", "default": WAIT_FOR_CHOICES[0], "choices": list(WAIT_FOR_CHOICES)},
    ))


class DiskModule(CollectionModule[DiskRequest]):
    """virtual_disk."""

    def argument_spec(self) -> Dict[str, Any]:
        return argument_spec()

    def request(self, params: Dict[str, Any]) -> DiskRequest:
        return disk_request(DiskOptions.from_params(params))

    def checksum_blocks(self, params: Dict[str, Any]) -> List[ChecksumBlock]:
        return source_checksum_blocks(params)

    def label(self, request: DiskRequest) -> str:
        return request.ref

    def execute(self, client: Client, request: DiskRequest, tracker: Tracker) -> Dict[str, Any]:
        return DiskRunner(client, request, tracker).run()


def main() -> None:
    """Entry point: the class above says what the module takes and does; the glue base runs it."""
    DiskModule().main()


if __name__ == "__main__":
    main()
