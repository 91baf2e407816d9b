#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Manage one VirtualDiskSnapshot (thin: docs, argspec, main)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: virtual_disk_snapshot
short_description: Take or delete a VirtualDiskSnapshot of a VirtualDisk
version_added: 0.1.0
description:
  - Create one C(VirtualDiskSnapshot) of a C(VirtualDisk) and wait until it is C(Ready)
    (C(Pending), C(InProgress), C(Ready)); or delete it. RV(consistent) says whether the platform took it
    consistently (the virtual machine stopped, or its filesystem frozen through the guest agent).
  - The platform never changes a snapshot's spec; a snapshot of another disk or consistency under the same name
    is refused naming the fields. Labels and annotations are merged in place. A re-run writes nothing.
  - The platform never retries a C(Failed) snapshot. An existing one is refused before any write, unless
    O(recreate=true) deletes it and takes it anew.
  - Disks and images are made from a snapshot with O(deckhouse.virtualization.virtual_disk#module:source.object_ref)
    (kind C(VirtualDiskSnapshot)); M(deckhouse.virtualization.virtual_image_capture) with C(method=snapshot) does
    it for images without stopping the virtual machine.
author:
  - Deckhouse virtualization contributors (@deckhouse)
extends_documentation_fragment:
  - deckhouse.virtualization.auth
  - deckhouse.virtualization.wait.timeout
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
options:
  name:
    description: Name of the snapshot. Lower-case letters, digits and C(-).
    type: str
    required: true
  namespace:
    description: Namespace of the snapshot and of its disk.
    type: str
    required: true
  state:
    description: V(present) takes the snapshot (once), V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  disk:
    description:
      - Name of the C(VirtualDisk) to snapshot (C(spec.virtualDiskName)). Required with O(state=present); a disk
        that does not exist is an error before any write.
    type: str
  required_consistency:
    description:
      - Require a consistent snapshot (C(spec.requiredConsistency)). The platform then fails it, and the task with
        the platform's message, when the disk's virtual machine runs and its filesystem cannot be frozen.
      - With V(false) such a disk is snapshotted anyway (crash-consistent) and RV(consistent) stays unset.
    type: bool
    default: true
  recreate:
    description:
      - When the snapshot exists and is C(Failed) (for example a consistent snapshot refused while the virtual
        machine's guest agent was not running), delete it, wait until it is gone and take it anew.
      - With V(false) such a snapshot fails the task before any write, with the platform's message.
      - A snapshot in any other phase is never recreated; one whose spec differs is refused in every case.
      - In check mode the delete and the create are dry runs.
    type: bool
    default: false
  labels:
    description: Labels to set on the snapshot (merged into the existing ones).
    type: dict
  annotations:
    description: Annotations to set on the snapshot (merged into the existing ones).
    type: dict
  wait:
    description:
      - Wait until the snapshot is C(Ready) (C(Pending), C(InProgress), C(Ready)), or gone when it is deleted.
      - The wait watches the object (no polling) and stops at once on C(Failed) with the platform's message (for
        example a consistent snapshot of a running virtual machine whose filesystem cannot be frozen).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Snapshot the root disk of a running VM (its filesystem is frozen for the moment it takes)
  deckhouse.virtualization.virtual_disk_snapshot:
    name: web-root-before-upgrade
    namespace: vms
    disk: web-root
  register: web_root_snapshot

- name: Say whether it is consistent
  ansible.builtin.debug:
    msg: "{{ web_root_snapshot.phase }}, consistent: {{ web_root_snapshot.consistent }}"

- name: A new disk from the snapshot
  deckhouse.virtualization.virtual_disk:
    name: web-root-copy
    namespace: vms
    source:
      object_ref:
        kind: VirtualDiskSnapshot
        name: web-root-before-upgrade

- name: Take a snapshot again that failed (the platform never retries a Failed one)
  deckhouse.virtualization.virtual_disk_snapshot:
    name: web-root-before-upgrade
    namespace: vms
    disk: web-root
    recreate: true

- name: Delete the snapshot
  deckhouse.virtualization.virtual_disk_snapshot:
    name: web-root-before-upgrade
    namespace: vms
    state: absent
"""

RETURN = r"""
snapshot:
  description: The snapshot as the API returned it last (null after deletion).
  returned: always
  type: dict
phase:
  description: C(status.phase) at the end.
  returned: always
  type: str
  sample: Ready
consistent:
  description: C(status.consistent) (true when the virtual machine was stopped or its filesystem frozen).
  returned: always
  type: bool
volume_snapshot:
  description: The name of the underlying C(VolumeSnapshot) (C(status.volumeSnapshotName)).
  returned: always
  type: str
phases:
  description: The phases seen while running, in order.
  returned: always
  type: list
  elements: dict
duration:
  description: Seconds the task took.
  returned: always
  type: float
diff:
  description: The object before and after (identity, labels, annotations and spec).
  returned: when diff mode is on
  type: dict
differing_fields:
  description: Spec fields that differ from the existing snapshot (on that failure).
  returned: on failure
  type: list
  elements: str
"""

from typing import Any, Dict

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.request import (
    SnapshotRequest, snapshot_request,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.snapshot import SnapshotRunner
from ansible_collections.deckhouse.virtualization.plugins.module_utils.glue.module import CollectionModule
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.args import (
    PRESENCE_SPEC, with_task_options,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.disk import SnapshotOptions


def argument_spec() -> Dict[str, Any]:
    """The options of virtual_disk_snapshot (a fresh copy: AnsibleModule changes it)."""
    return with_task_options(dict(
        name={"type": "str", "required": True},
        namespace={"type": "str", "required": True},
        state=PRESENCE_SPEC,
        disk={"type": "str"},
        required_consistency={"type": "bool", "default": True},
        recreate={"type": "bool", "default": False},
        labels={"type": "dict"},
        annotations={"type": "dict"},
    ))


class SnapshotModule(CollectionModule[SnapshotRequest]):
    """virtual_disk_snapshot."""

    def argument_spec(self) -> Dict[str, Any]:
        return argument_spec()

    def request(self, params: Dict[str, Any]) -> SnapshotRequest:
        return snapshot_request(SnapshotOptions.from_params(params))

    def label(self, request: SnapshotRequest) -> str:
        return request.ref

    def execute(self, client: Client, request: SnapshotRequest, tracker: Tracker) -> Dict[str, Any]:
        return SnapshotRunner(client, request, tracker).run()


def main() -> None:
    """Entry point: the class above says what the module takes and does; the glue base runs it."""
    SnapshotModule().main()


if __name__ == "__main__":
    main()
