#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Manage one ClusterVirtualImage (thin: docs, argspec, main)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_virtual_image
short_description: Manage a ClusterVirtualImage of the Deckhouse Virtualization Platform
version_added: 0.1.0
description:
  - Create, update, recreate or delete one C(ClusterVirtualImage) (a disk or ISO image visible to all namespaces,
    always stored in DVCR) and wait until it is C(Ready) or gone.
author:
  - Deckhouse virtualization contributors (@deckhouse)
extends_documentation_fragment:
  - deckhouse.virtualization.image_module.cluster_virtual_image
  - deckhouse.virtualization.auth
  - deckhouse.virtualization.wait.image
  - deckhouse.virtualization.progress
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Publish an ISO to every namespace
  deckhouse.virtualization.cluster_virtual_image:
    name: alpine-3-20
    source:
      http:
        # e.g. https://dl-cdn.alpinelinux.org/alpine/v3.20/releases/x86_64/alpine-virt-3.20.0-x86_64.iso
        url: "{{ alpine_iso_url }}"
        checksum:
          sha256: "{{ alpine_sha256 }}"

- name: Publish a namespaced image cluster-wide
  deckhouse.virtualization.cluster_virtual_image:
    name: golden-debian
    source:
      object_ref:
        kind: VirtualImage
        name: debian-12
        namespace: vms

- name: Delete it without waiting
  deckhouse.virtualization.cluster_virtual_image:
    name: golden-debian
    state: absent
    wait: false
"""

RETURN = r"""
image:
  description: The image as the API returned it last (null after deletion).
  returned: always
  type: dict
phase:
  description: C(status.phase) of the image at the end.
  returned: always
  type: str
  sample: Ready
progress:
  description: C(status.progress) of the image at the end.
  returned: always
  type: str
  sample: 100%
summary:
  description:
    - The image as one flat dictionary, as M(deckhouse.virtualization.virtual_image_info) gives it (C(phase),
      C(format), C(unpacked_size), C(unpacked_size_bytes), C(registry_url), C(track), C(version), C(newest), ...),
      the same shape M(deckhouse.virtualization.virtual_disk) returns for a disk.
  returned: when the image exists at the end and no file was uploaded
  type: dict
held_by:
  description: What holds a force-deleted image C(Terminating) (C(<Kind> <namespace>/<name>)).
  returned: when a forced delete is held
  type: list
  elements: str
phases:
  description: The phases seen while running, in order, with the progress when each was first seen.
  returned: always
  type: list
  elements: dict
  sample: [{"phase": "Pending", "progress": null, "time": "2026-01-01T10:00:00.000000Z"}]
duration:
  description: Seconds the task took.
  returned: always
  type: float
bytes:
  description: Bytes uploaded (0 when the image already held the file).
  returned: with O(source.upload)
  type: int
throughput:
  description: Bytes per second of the upload, to the server's answer.
  returned: with O(source.upload)
  type: float
checksums:
  description: Checksums computed from the file (the given algorithms, C(sha1) when none was given).
  returned: with O(source.upload)
  type: dict
attempts:
  description: Requests sent to the upload server.
  returned: with O(source.upload)
  type: int
diff:
  description: The object before and after (identity, labels, annotations and spec).
  returned: when diff mode is on
  type: dict
differing_fields:
  description: Spec fields that differ from a provisioned image (on that failure).
  returned: on failure
  type: list
  elements: str
  sample: [spec.dataSource.http.url]
conditions:
  description: The image's status conditions (on a failure of the image).
  returned: on failure
  type: list
  elements: dict
"""

from typing import Any, Dict

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import CLUSTER_VIRTUAL_IMAGE
from ansible_collections.deckhouse.virtualization.plugins.module_utils.glue.images import ImageModule
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.args import (
    image_spec, with_task_options,
)


def argument_spec() -> Dict[str, Any]:
    """The options of cluster_virtual_image: an image's, without a namespace or a storage (always DVCR)."""
    return with_task_options(image_spec(CLUSTER_VIRTUAL_IMAGE))


class ClusterVirtualImageModule(ImageModule):
    """cluster_virtual_image: the image modules' run (glue/images.py) for a cluster-wide image."""

    kind = CLUSTER_VIRTUAL_IMAGE

    def argument_spec(self) -> Dict[str, Any]:
        return argument_spec()


def main() -> None:
    """Entry point: the class above says what the module takes and does; the glue base runs it."""
    ClusterVirtualImageModule().main()


if __name__ == "__main__":
    main()
