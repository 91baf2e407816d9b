#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""List VirtualDisks (thin: docs, argspec, main)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: virtual_disk_info
short_description: List VirtualDisks of the Deckhouse Virtualization Platform
version_added: 0.1.0
description:
  - Get one C(VirtualDisk) or list them (by namespace, label selectors and phase), with a flat summary of each
    (phase, size, capacity, storage class, source, the virtual machines it is attached to, and whether an image is
    being made from it).
  - A cluster that does not serve the C(VirtualDisk) API is an error, not an empty list.
author:
  - Deckhouse virtualization contributors (@deckhouse)
extends_documentation_fragment:
  - deckhouse.virtualization.auth
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
  platform:
    platforms: kubernetes
options:
  namespace:
    description: Namespace to list C(VirtualDisk)s in; all namespaces when omitted.
    type: str
  name:
    description: Only the disk with this name.
    type: str
  label_selectors:
    description: Label selectors (for example C(app=web), C(tier in (gold,silver))); all must match.
    type: list
    elements: str
  phase:
    description: Only disks in one of these phases.
    type: list
    elements: str
    choices: [Pending, Provisioning, WaitForUserUpload, WaitForFirstConsumer, Ready, Resizing, Failed, PVCLost,
              Exporting, Terminating, Migrating]
"""

EXAMPLES = r"""
- name: All disks of a namespace
  deckhouse.virtualization.virtual_disk_info:
    namespace: vms
  register: vms_disks

- name: Show each disk's phase, capacity and virtual machines
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.phase }} {{ item.capacity }} on {{ item.attached_to | join(', ') or 'no VM' }}"
  loop: "{{ vms_disks.summary }}"

- name: Disks that wait for their first virtual machine
  deckhouse.virtualization.virtual_disk_info:
    phase: [WaitForFirstConsumer]
"""

RETURN = r"""
disks:
  description: The disks as the API returns them, sorted by namespace and name (upload URLs redacted).
  returned: always
  type: list
  elements: dict
summary:
  description: One flat dictionary per disk, in the same order as RV(disks).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name.
      type: str
    namespace:
      description: Namespace.
      type: str
    phase:
      description: C(status.phase).
      type: str
    progress:
      description: C(status.progress).
      type: str
    size:
      description: The size asked for (C(spec.persistentVolumeClaim.size)).
      type: str
    capacity:
      description: The size the storage gave (C(status.capacity)).
      type: str
    storage_class:
      description: The disk's storage class (C(status.storageClassName), else the spec's).
      type: str
    source:
      description: C(blank), C(http <url>), C(registry <image>), C(upload), or C(<Kind> <name>) of an object.
      type: str
    attached_to:
      description: The virtual machines whose block devices name the disk.
      type: list
      elements: str
    mounted_by:
      description: Those of them that are not stopped (they hold the disk).
      type: list
      elements: str
    image_being_made:
      description: Whether an image is being made from the disk (C(InUse) for C(UsedForImageCreation)).
      type: bool
    pvc_name:
      description: The PVC holding the disk.
      type: str
    ready_reason:
      description: Reason of the Ready condition.
      type: str
    ready_message:
      description: Message of the Ready condition.
      type: str
  sample:
    - name: web-root
      namespace: vms
      phase: Ready
      progress: 100%
      size: 10Gi
      capacity: 10Gi
      storage_class: local-path
      source: VirtualImage debian-12
      attached_to: [web]
      mounted_by: [web]
      image_being_made: false
      pvc_name: vd-web-root-3f2c
      ready_reason: Ready
      ready_message: ""
"""

from typing import Any, Dict, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import DISK_PHASES
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.info import list_disks
from ansible_collections.deckhouse.virtualization.plugins.module_utils.glue.module import CollectionModule
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.args import (
    AUTH_ARG_SPEC, copy_spec,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.info import ListQuery, disk_query


def argument_spec() -> Dict[str, Any]:
    """The options of virtual_disk_info: which disks, and the connection (no wait: nothing is waited for)."""
    return dict(
        copy_spec(AUTH_ARG_SPEC),
        namespace={"type": "str"},
        name={"type": "str"},
        label_selectors={"type": "list", "elements": "str"},
        phase={"type": "list", "elements": "str", "choices": list(DISK_PHASES)},
    )


class DiskInfoModule(CollectionModule[ListQuery]):
    """virtual_disk_info."""

    def argument_spec(self) -> Dict[str, Any]:
        return argument_spec()

    def request(self, params: Dict[str, Any]) -> ListQuery:
        return disk_query(params)

    def namespace(self, request: ListQuery) -> Optional[str]:
        return request.namespace

    def execute(self, client: Client, request: ListQuery, tracker: Tracker) -> Dict[str, Any]:
        return dict(list_disks(client, request), changed=False)


def main() -> None:
    """Entry point: the class above says what the module takes and does; the glue base runs it."""
    DiskInfoModule().main()


if __name__ == "__main__":
    main()
