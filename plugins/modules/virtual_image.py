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
  - Changes are decided by comparing the wanted spec, labels and annotations with the live object before any
    write; a run with nothing to change sends no write.
  - Before the image is C(Ready) a spec change is patched (the platform restarts the import). Once provisioned
    the platform rejects spec changes; the module then fails naming the differing fields unless O(recreate=true).
  - Labels and annotations are merged into the live ones (keys not given are left alone) and always patched in place.
author:
  - Deckhouse virtualization contributors (@deckhouse)
extends_documentation_fragment:
  - deckhouse.virtualization.auth
  - deckhouse.virtualization.wait
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
    description:
      - Name of the image. Lower-case letters, digits and C(-); the platform forbids dots.
      - Required unless given in O(definition) or O(src).
    type: str
  namespace:
    description:
      - Namespace of the image. Required unless given in O(definition) or O(src).
    type: str
  state:
    description:
      - V(present) creates or updates the image, V(absent) deletes it (and the pull Secret the module created).
    type: str
    choices: [present, absent]
    default: present
  source:
    description:
      - Where the image data comes from; exactly one of the suboptions. Required for O(state=present) unless
        O(definition) or O(src) is used.
    type: dict
    suboptions:
      http:
        description: Import from an HTTP or HTTPS URL.
        type: dict
        suboptions:
          url:
            description: URL of the file (qcow2, raw, vmdk, vdi, vhdx, vpc or iso; optionally .gz or .xz).
            type: str
            required: true
          checksum:
            description: Checksums the downloaded file must match (every one given).
            type: dict
            suboptions: &checksum
              md5:
                description: 32 hex characters.
                type: str
              sha1:
                description: 40 hex characters.
                type: str
              sha256:
                description: 64 hex characters.
                type: str
              sha512:
                description: 128 hex characters.
                type: str
              streebog256:
                description: GOST R 34.11-2012 256 bits, 64 hex characters.
                type: str
              streebog512:
                description: GOST R 34.11-2012 512 bits, 128 hex characters.
                type: str
          ca_bundle:
            description: PEM text of the CA chain to verify the server with (the module base64-encodes it).
            type: str
      container_image:
        description: Import from an image in a TLS container registry holding the disk file under C(/disk/).
        type: dict
        suboptions:
          image:
            description: Image reference, for example C(registry.example.com/images/debian:12).
            type: str
            required: true
          image_pull_secret:
            description:
              - Name of a C(kubernetes.io/dockerconfigjson) Secret in the image's namespace.
              - With O(source.container_image.registry_credentials), the name of the Secret the module manages
                (default C(<name>-registry-credentials)).
            type: str
          ca_bundle:
            description: PEM text of the CA chain to verify the registry with.
            type: str
          registry_credentials:
            description:
              - Registry credentials. The module creates and owns a C(kubernetes.io/dockerconfigjson) Secret for
                them (owner reference to the image and a label), updates it when they change, deletes it with
                the image and points C(imagePullSecret) at it.
            type: dict
            suboptions:
              username:
                description: Registry user name.
                type: str
                required: true
              password:
                description: Registry password or token.
                type: str
                required: true
      object_ref:
        description: Copy from an existing object in the same namespace (or a C(ClusterVirtualImage)).
        type: dict
        suboptions:
          kind:
            description: Kind of the source object.
            type: str
            required: true
            choices: [VirtualImage, ClusterVirtualImage, VirtualDisk, VirtualDiskSnapshot]
          name:
            description: Name of the source object.
            type: str
            required: true
      upload:
        description:
          - Upload a local file in the same task. The module creates the image, waits for C(WaitForUserUpload),
            streams the file (constant memory, checksums computed while sending) and waits until C(Ready).
          - Behaves like M(deckhouse.virtualization.virtual_image_upload) (a C(Ready) image whose recorded checksum
            matches the file is left alone, a different file follows O(recreate)) and takes its transfer options;
            see that module for details, for progress at C(-v) and for the C(async)/C(poll) pattern.
        type: dict
        suboptions:
          path:
            description:
              - Path of the file to upload. On the controller (a C(local) connection) it is resolved like C(copy)'s
                C(src) (role C(files/), playbook directory; vault-encrypted files are decrypted to a temporary file);
                otherwise it is a path on the managed host.
            type: path
            required: true
          checksum:
            description:
              - Checksums of the file, also put in C(spec.dataSource.upload.checksum) so the server checks them.
              - Verified before the last byte is sent; when none is given, C(sha1) is computed and recorded.
            type: dict
            suboptions: *checksum
          endpoint:
            description:
              - Which issued URL to send to; as O(deckhouse.virtualization.virtual_image_upload#module:endpoint).
            type: str
            choices: [auto, external, in_cluster]
            default: auto
          upload_url:
            description:
              - Send to this URL instead (a proxy or port-forward); as O(deckhouse.virtualization.virtual_image_upload#module:upload_url). It is a credential.
            type: str
          upload_validate_certs:
            description:
              - Verify the upload server's TLS certificate; as O(deckhouse.virtualization.virtual_image_upload#module:upload_validate_certs).
            type: bool
            default: true
          upload_ca_cert:
            description:
              - PEM file of the CA to verify the upload server with; as O(deckhouse.virtualization.virtual_image_upload#module:upload_ca_cert).
            type: path
          retries:
            description:
              - How many times a failed upload is retried by recreating the image; as O(deckhouse.virtualization.virtual_image_upload#module:retries).
            type: int
            default: 2
  storage:
    description:
      - Where the platform keeps the image. When omitted, V(ContainerRegistry) (DVCR).
    type: str
    choices: [ContainerRegistry, PersistentVolumeClaim]
  storage_class:
    description:
      - StorageClass of the PVC (O(storage=PersistentVolumeClaim) only); the default class when omitted.
    type: str
  labels:
    description: Labels to set on the image (merged into the existing ones).
    type: dict
  annotations:
    description: Annotations to set on the image (merged into the existing ones).
    type: dict
  definition:
    description:
      - A whole C(VirtualImage) manifest (dictionary or YAML text) instead of the typed options.
      - O(name) and O(namespace), when given, override the manifest's.
    type: raw
  src:
    description:
      - Path of a file holding a C(VirtualImage) manifest, read on the controller (like kubernetes.core's C(src)).
      - Mutually exclusive with O(definition) and the typed options.
    type: path
  recreate:
    description:
      - When the image is already provisioned and its spec differs, delete it (waiting until it is gone) and
        create it anew instead of failing.
    type: bool
    default: false
"""

EXAMPLES = r"""
# The sources are variables: on a cluster, your mirror's URLs; `source .sandbox/env` and the
# doc-examples test set them to the sandbox's file server and registry.
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

from ansible_collections.deckhouse.virtualization.plugins.module_utils.kinds import VIRTUAL_IMAGE
from ansible_collections.deckhouse.virtualization.plugins.module_utils.runner import ImageModule


def main() -> None:
    """Entry point: the collection's glue (module_utils/runner.py) does the work."""
    ImageModule(VIRTUAL_IMAGE).main()


if __name__ == "__main__":
    main()
