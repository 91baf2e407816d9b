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
  - deckhouse.virtualization.auth
  - deckhouse.virtualization.wait.image
  - deckhouse.virtualization.wait.image_timeout
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
  - "for streebog checksums of an uploaded file: OpenSSL 3's GOST provider (package libengine-gost-openssl on Debian,
    Ubuntu and Astra Linux; about 90 MB/s), else the pure-Python gostcrypto (about 80 KiB/s)"
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
    default: present
    choices: [present, absent]
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
            description:
              - Checksums the downloaded file must match (every one given).
              - "A value may be the http(s) URL of the vendor's sums file instead of the digest (as with
                C(ansible.builtin.get_url)), for example C(https://cloud-images.ubuntu.com/noble/current/SHA256SUMS):
                it is read once per run (with O(source.http.ca_bundle) trusted, when given, instead of the system's
                CAs), the line naming the file (the last part of the URL) is found in GNU form (C(<hex>  <name>)) or
                BSD form (the algorithm, the name in parentheses, C(=) and the digest), and its digest is used as if
                written here. No such line, an HTTP error or a malformed digest fails the task, naming the option, the
                sums file and the file, before anything is written."
            type: dict
            suboptions:
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
          ca_bundle:
            description: PEM text of the CA chain to verify the registry with.
            type: str
          registry_credentials:
            description:
              - Registry credentials. The module creates and owns a C(kubernetes.io/dockerconfigjson) Secret for them
                (owner reference to the image and a label), updates it when they change, deletes it with the image and
                points C(imagePullSecret) at it.
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
          image_pull_secret:
            description:
              - Name of a C(kubernetes.io/dockerconfigjson) Secret in the image's namespace.
              - With O(source.container_image.registry_credentials), the name of the Secret the module manages
                (default C(<name>-registry-credentials)).
            type: str
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
            matches the file is left alone, a different file follows O(recreate)); see that module for progress at
            C(-v) and for the C(async)/C(poll) pattern.
        type: dict
        suboptions:
          path:
            description:
              - The file to upload (qcow2, raw, vmdk, vdi, vhdx, vpc or iso; optionally compressed with gzip or xz,
                sent as it is and decompressed by the platform).
              - "When the module runs on the controller (a C(local) connection, including C(delegate_to: localhost))
                the path is resolved like C(copy)'s C(src): the role's C(files/), then the playbook directory; a
                vault-encrypted file is decrypted to a temporary file that is removed when the task ends. With any
                other connection it is a path on the managed host, read there."
            type: path
            required: true
          checksum:
            description:
              - Checksums the file must have. Every one given is computed while sending and checked before the last
                byte is sent; on a mismatch the upload is stopped so nothing is stored. With a single-buffer file (up
                to 1 MiB) nothing is sent at all.
              - Also put in C(spec.dataSource.upload.checksum), so that the platform checks them too.
              - When none is given, C(sha1) is computed and recorded (only to tell a re-run whether the file is the
                same; it is the fastest of these algorithms).
              - O(source.upload.checksum.streebog256) and O(source.upload.checksum.streebog512) are computed by
                OpenSSL 3's GOST provider (about 90 MB/s) when the package C(libengine-gost-openssl) (Debian, Ubuntu,
                Astra Linux; C(openssl-gost-engine) on Fedora) is installed where the module runs; no OpenSSL
                configuration is needed. Without it the pure-Python gostcrypto library computes them at about 80 KiB/s
                and the task warns.
              - "A value may also be the http(s) URL of the vendor's sums file, read as for
                O(source.http.checksum); the line naming the file's own name gives the digest (a vault-encrypted file
                is decrypted to a temporary name, so give its digest instead)."
            type: dict
            suboptions:
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
          endpoint:
            description:
              - Which of C(status.imageUploadURLs) to use. V(in_cluster) is the uploader's service (reachable from
                inside the cluster), V(external) the ingress URL (needs a public domain).
              - V(auto) uses the in-cluster URL when it answers the upload server's C(GET) probe from where the module
                runs, else the external one.
            type: str
            default: auto
            choices: [auto, external, in_cluster]
          upload_url:
            description:
              - Send to this URL instead of one from the image's status (for example through a proxy or port-forward).
                The image's phases are still followed through the API.
              - Like the URLs the image publishes, it is a credential; messages and logs show it redacted.
            type: str
          upload_validate_certs:
            description: Verify the upload server's TLS certificate (independent of the API server's
              O(validate_certs)).
            type: bool
            default: true
          upload_ca_cert:
            description: PEM file of the CA to verify the upload server with (the system CAs when omitted).
            type: path
          retries:
            description:
              - How many times a C(Failed) image (interrupted upload, size or checksum mismatch, missed deadline) is
                recreated and the file sent again. V(0) fails with the platform's message instead.
            type: int
            default: 2
  storage:
    description:
      - Where the platform keeps the image. When omitted, V(ContainerRegistry) (DVCR).
    type: str
    choices: [ContainerRegistry, PersistentVolumeClaim]
  storage_class:
    description:
      - StorageClass of the PVC (O(storage=PersistentVolumeClaim) only); the default class when omitted. A class
        that does not exist is refused before any write.
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
      - A checksum under C(spec.dataSource.http.checksum) may be the http(s) URL of the vendor's sums file, as in
        O(source.http.checksum); the digest of the line naming the URL's file is written instead.
      - O(name) and O(namespace), when given, override the manifest's.
    type: raw
  src:
    description:
      - Path of a file holding a C(VirtualImage) manifest, read on the controller whatever the connection (like
        kubernetes.core's C(src)) and passed to the module as O(definition). It is found like C(copy)'s C(src) (the
        role's C(files/), then the playbook directory) and may be vault-encrypted.
      - Mutually exclusive with O(definition) and the typed options.
    type: path
  recreate:
    description:
      - When the image is already provisioned and its spec differs, delete it (waiting until it is gone) and create it
        anew instead of failing.
    type: bool
    default: false
  force:
    description:
      - With O(state=absent), delete the image even while something uses it (a virtual machine it is attached to, a
        disk or an image being filled from it). Without it such a delete is refused before anything is written, naming
        the users. The platform keeps an image a virtual machine uses C(Terminating) until the machine lets go; the
        task then ends with a warning and RV(held_by).
    type: bool
    default: false
notes:
  - Changes are decided by comparing the wanted spec, labels and annotations with the live object before any write; a
    run with nothing to change sends no write.
  - Before the image is C(Ready) a spec change is patched (the platform restarts the import). Once provisioned the
    platform rejects spec changes; the module then fails naming the differing fields unless O(recreate=true).
  - Labels and annotations are merged into the live ones (keys not given are left alone) and always patched in place.
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
