#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""List VirtualImages or ClusterVirtualImages (thin: docs, argspec, main)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: virtual_image_info
short_description: List VirtualImages and ClusterVirtualImages of the Deckhouse Virtualization Platform
version_added: 0.1.0
description:
  - Returns the images as the API gives them and a flat summary of each.
  - A cluster without the virtualization API is an error; a namespace without images gives empty lists.
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
    description:
      - Namespace to list C(VirtualImage)s in; all namespaces when omitted. Not used with O(cluster=true).
    type: str
  name:
    description: Only the image with this name.
    type: str
  cluster:
    description: List C(ClusterVirtualImage)s instead of C(VirtualImage)s.
    type: bool
    default: false
  label_selectors:
    description: Label selectors (for example C(os=debian), C(tier in (gold,silver))); all must match.
    type: list
    elements: str
  phase:
    description: Only images in one of these phases.
    type: list
    elements: str
    choices: [Pending, Provisioning, WaitForUserUpload, Ready, Failed, Terminating, ImageLost, PVCLost]
  track:
    description:
      - Only the versions of this catalog track (a catalog entry with C(keep)), oldest to newest (by their
        C(sequence), then C(created)); RV(newest) is then the version carrying the newest label.
      - The name of the track is the entry's name; its versions are named C(<name>-<version>).
    type: str
  catalog:
    description:
      - Only images of this catalog (label C(virtualization.deckhouse.io/ansible-catalog)); with O(track), the
        track of that catalog when two catalogs have tracks of the same name.
    type: str
notes:
  - RV(summary[].in_use) says whether something needs an image now (see RV(summary[].used_by)); the disks, images,
    machines and attachments are listed once per run; C(null) when the credentials may not list them.
"""

EXAMPLES = r"""
- name: All images of a namespace
  deckhouse.virtualization.virtual_image_info:
    namespace: vms
  register: vms_images

- name: Show name, phase and size of each
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.phase }} {{ item.unpacked_size }}"
  loop: "{{ vms_images.summary }}"

- name: Failed cluster images
  deckhouse.virtualization.virtual_image_info:
    cluster: true
    phase: [Failed]

- name: The newest version of the catalog track ubuntu-noble
  deckhouse.virtualization.virtual_image_info:
    namespace: vms
    track: ubuntu-noble
  register: noble

- name: A disk from it
  deckhouse.virtualization.virtual_disk:
    name: web-1-root
    namespace: vms
    source:
      object_ref:
        kind: VirtualImage
        name: "{{ noble.newest.name }}"
  when: noble.newest is not none
"""

RETURN = r"""
images:
  description: The images as the API returns them, sorted by namespace and name.
  returned: always
  type: list
  elements: dict
summary:
  description: One flat dictionary per image, in the same order as RV(images).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name.
      type: str
    namespace:
      description: Namespace (null for ClusterVirtualImages).
      type: str
    kind:
      description: VirtualImage or ClusterVirtualImage.
      type: str
    phase:
      description: C(status.phase).
      type: str
    progress:
      description: C(status.progress).
      type: str
    format:
      description: Image format (qcow2, raw, iso, ...).
      type: str
    cdrom:
      description: Whether the image is an ISO mounted as a CD-ROM.
      type: bool
    stored_size:
      description: Size of the stored data, human form.
      type: str
    unpacked_size:
      description: Virtual size, human form.
      type: str
    registry_url:
      description: Where DVCR keeps the image.
      type: str
    pvc_name:
      description: The PVC holding the image (PersistentVolumeClaim storage).
      type: str
    ready_reason:
      description: Reason of the Ready condition.
      type: str
    ready_message:
      description: Message of the Ready condition.
      type: str
    stored_size_bytes:
      description: Size of the stored data in bytes.
      type: int
    unpacked_size_bytes:
      description: Virtual size in bytes.
      type: int
    in_use:
      description:
        - Whether something uses the image (see RV(summary[].used_by) and RV(summary[].used_in_namespaces)); C(null)
          when disks or machines could not be listed and nothing was found.
      type: bool
    used_by:
      description:
        - What needs the image now, as C(<Kind> <namespace>/<name>) - VirtualDisks and images being filled from it
          (not filled yet), VirtualMachines with it attached, VirtualMachineBlockDeviceAttachments hot-plugging it.
      type: list
      elements: str
    disks:
      description: Every VirtualDisk made from the image, filled ones included (they hold their own copy and no longer need it).
      type: list
      elements: str
    used_in_namespaces:
      description:
        - For a ClusterVirtualImage, the namespaces the platform lists in C(status.usedInNamespaces) (no release
          fills it yet); C(null) for VirtualImages.
      type: list
      elements: str
    track:
      description: The catalog track the image is a version of (label C(virtualization.deckhouse.io/ansible-catalog-track)).
      type: str
    version:
      description: Its version in the track.
      type: str
    newest:
      description: Whether it is the newest Ready version of its track; C(null) when it belongs to no track.
      type: bool
    sequence:
      description: Its place in its track (1 for the first version; C(-1) when unknown); C(null) outside a track.
      type: int
    created:
      description: C(metadata.creationTimestamp).
      type: str
  sample:
    - name: debian-12
      namespace: vms
      kind: VirtualImage
      phase: Ready
      progress: 100%
      format: qcow2
      cdrom: false
      stored_size: 285.3Mi
      unpacked_size: 2Gi
      registry_url: dvcr.d8-virtualization.svc/vi/vms/debian-12:0b5c
      pvc_name: null
      ready_reason: Ready
      ready_message: ""
      stored_size_bytes: 299159552
      unpacked_size_bytes: 2147483648
      in_use: true
      used_by: [VirtualMachine vms/web-1]
      disks: [VirtualDisk vms/web-1-root]
      used_in_namespaces: null
      track: null
      version: null
      newest: null
      sequence: null
      created: "2026-01-01T10:00:00Z"
newest:
  description: With O(track), the summary of the version carrying the newest label (C(null) before any is Ready).
  returned: when O(track) is given
  type: dict
"""

from typing import Any, Dict, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import IMAGE_PHASES
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.glue.module import CollectionModule
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.info import list_images
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.args import (
    AUTH_ARG_SPEC, copy_spec,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.info import ListQuery, image_query


def argument_spec() -> Dict[str, Any]:
    """The options of virtual_image_info: which images, and the connection (no wait: nothing is waited for)."""
    return dict(
        copy_spec(AUTH_ARG_SPEC),
        namespace={"type": "str"},
        name={"type": "str"},
        cluster={"type": "bool", "default": False},
        label_selectors={"type": "list", "elements": "str"},
        phase={"type": "list", "elements": "str", "choices": list(IMAGE_PHASES)},
        track={"type": "str"},
        catalog={"type": "str"},
    )


class InfoModule(CollectionModule[ListQuery]):
    """virtual_image_info."""

    def argument_spec(self) -> Dict[str, Any]:
        return argument_spec()

    def request(self, params: Dict[str, Any]) -> ListQuery:
        return image_query(params)

    def namespace(self, request: ListQuery) -> Optional[str]:
        return request.namespace

    def execute(self, client: Client, request: ListQuery, tracker: Tracker) -> Dict[str, Any]:
        return dict(list_images(client, request), changed=False)


def main() -> None:
    """Entry point: the class above says what the module takes and does; the glue base runs it."""
    InfoModule().main()


if __name__ == "__main__":
    main()
