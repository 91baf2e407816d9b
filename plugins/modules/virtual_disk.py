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
  - deckhouse.virtualization.auth
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
        keeps its size. While the disk is C(Migrating) the platform takes no size change, so none is sent.
      - Growing needs the disk's StorageClass to allow volume expansion (C(allowVolumeExpansion=true)). On one
        that does not, the growth is refused before any write when the class can be read; otherwise the wait
        fails at once quoting the platform (C(Disk resizing is not allowed)), the disk staying at its old size.
      - On DVP v1.10 a disk from a C(VirtualDiskSnapshot) with a size below the snapshot's restore size fails at
        once with the platform's message (C(The specified pvc size is insufficient)); later platforms grow it.
    type: str
  storage_class:
    description:
      - StorageClass of the disk's PVC; the default class when omitted. On a class that binds volumes late
        (C(volumeBindingMode=WaitForFirstConsumer)) the disk holds its data only once a virtual machine uses it;
        see O(wait_for).
      - A class that does not exist is refused before any write. Past C(Pending) (C(Provisioning),
        C(WaitForFirstConsumer), C(Failed), C(Ready), ...) the platform keeps a disk on its class, so another one
        is refused before any write naming both classes, unless O(recreate=true) (never for a disk a virtual
        machine uses). Naming the default class for a disk made without one changes nothing.
    type: str
  labels:
    description: Labels to set on the disk (merged into the existing ones).
    type: dict
  annotations:
    description: Annotations to set on the disk (merged into the existing ones).
    type: dict
  recreate:
    description:
      - When the disk already holds data and its spec differs beyond a larger O(size), or when it is past
        C(Pending) and O(storage_class) names another class, delete it (waiting until it is gone) and create it
        anew instead of failing. Never done for a disk a virtual machine uses.
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
  source:
    description:
      - Where the disk's data comes from; at most one of the suboptions.
      - Without it the disk is blank, of O(size).
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
                (owner reference to the disk and a label), updates it when they change, deletes it with the disk and
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
              - Name of a C(kubernetes.io/dockerconfigjson) Secret in the disk's namespace.
              - With O(source.container_image.registry_credentials), the name of the Secret the module manages
                (default C(<name>-registry-credentials)).
            type: str
      object_ref:
        description: "Fill the disk from a C(VirtualImage) or a C(VirtualDiskSnapshot) in the same namespace, or a
          C(ClusterVirtualImage). The object must exist: a name that does not is an error before any write (the
          platform would wait for it for ever)."
        type: dict
        suboptions:
          kind:
            description: Kind of the source object.
            type: str
            required: true
            choices: [VirtualImage, ClusterVirtualImage, VirtualDiskSnapshot]
          name:
            description: Name of the source object.
            type: str
            required: true
      upload:
        description:
          - Upload a local file in the same task. The module creates the disk, waits for C(WaitForUserUpload), streams
            the file (constant memory, checksums computed while sending) and waits until C(Ready).
          - Behaves like M(deckhouse.virtualization.virtual_image_upload) (a C(Ready) disk whose recorded checksum
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
  wait:
    description:
      - Wait until the disk holds its data and its full size (C(Ready), after C(Resizing) when it grew), or is gone
        when it is deleted; O(wait_for) says whether C(WaitForFirstConsumer) counts as done.
      - The wait watches the object (no polling) and stops at once on C(Failed) or C(PVCLost) with the platform's
        message.
      - While the disk is blocked (C(Pending) with a C(DatasourceReady) or C(StorageClassReady) reason, such as the
        source image not ready or the storage class missing) the wait goes on; the reason is named if it times out.
      - A forced delete of a disk a virtual machine uses ends when the platform holds it C(Terminating) for the
        virtual machine (the result and a warning say so), not when it is gone.
    type: bool
    default: true
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
