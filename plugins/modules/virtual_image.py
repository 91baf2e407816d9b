#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Manage one VirtualImage (thin: docs, argspec, main)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: virtual_image
short_description: Manage a VirtualImage of the Deckhouse Virtualization Platform
version_added: 0.1.0
description:
  - Create, update, recreate or delete one C(VirtualImage) (namespaced disk or ISO image, stored in DVCR or a PVC)
    and wait until it is C(Ready) or gone.
author:
  - Deckhouse virtualization contributors (@deckhouse)
extends_documentation_fragment:
  - deckhouse.virtualization.image_module.virtual_image
  - deckhouse.virtualization.auth
  - deckhouse.virtualization.wait.image
  - deckhouse.virtualization.progress
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
# The sources are variables: on a cluster, your mirror's URLs. The sandbox's env file (`<state dir>/env`:
# `${XDG_STATE_HOME:-~/.local/state}/dvp-sandbox/env` for `dvp-sandbox`, `.sandbox/env` for `python -m sandbox`
# in a checkout; `up` prints its path) exports its addresses, not these variables: after `source`, set them
# from it, e.g. debian_url: "{{ lookup('ansible.builtin.env', 'DVP_SANDBOX_HTTP_URL') }}/disk.qcow2" (made by
# `up --seed`). The doc-examples test sets them to the sandbox's file server and registry.
- name: Import a cloud image over HTTP(S) and wait until it is Ready
  deckhouse.virtualization.virtual_image:
    name: debian-12
    namespace: vms
    source:
      http:
        # e.g. https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-generic-amd64.qcow2
        url: "{{ debian_url }}"
        checksum:
          sha256: "{{ debian_sha256 }}"
    labels:
      os: debian

- name: Import from a private registry (its own CA) into a PVC
  deckhouse.virtualization.virtual_image:
    name: windows-iso
    namespace: vms
    storage: PersistentVolumeClaim
    source:
      container_image:
        image: "{{ windows_iso_image }}"  # e.g. registry.example.com/isos/windows:2022
        ca_bundle: "{{ registry_ca }}"
        registry_credentials:
          username: "{{ registry_user }}"
          password: "{{ registry_token }}"

- name: Change the URL of a Ready image (deletes and recreates it)
  deckhouse.virtualization.virtual_image:
    name: debian-12
    namespace: vms
    recreate: true
    source:
      http:
        url: "{{ debian_mirror_url }}"

- name: Delete the image
  deckhouse.virtualization.virtual_image:
    name: debian-12
    namespace: vms
    state: absent
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

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    STORAGE_CHOICES, VIRTUAL_IMAGE,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.glue.images import ImageModule
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.args import (
    image_spec, with_task_options,
)


def argument_spec() -> Dict[str, Any]:
    """The options of virtual_image: an image's, its namespace and where it is stored (a fresh copy)."""
    return with_task_options(dict(
        image_spec(VIRTUAL_IMAGE),
        namespace={"type": "str"},
        # No default: it would collide with definition and src; images/manifest.py applies it.
        storage={"type": "str", "choices": list(STORAGE_CHOICES)},
        storage_class={"type": "str"},
    ))


class VirtualImageModule(ImageModule):
    """virtual_image: the image modules' run (glue/images.py) for a namespaced image."""

    kind = VIRTUAL_IMAGE

    def argument_spec(self) -> Dict[str, Any]:
        return argument_spec()


def main() -> None:
    """Entry point: the class above says what the module takes and does; the glue base runs it."""
    VirtualImageModule().main()


if __name__ == "__main__":
    main()
