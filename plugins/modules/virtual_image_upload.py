#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Upload a local file into an existing Upload image (thin: docs, argspec, main)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: virtual_image_upload
short_description: Upload a local file into a VirtualImage or ClusterVirtualImage waiting for an upload
version_added: 0.1.0
description:
  - Streams a local disk image file into an image that already exists with C(dataSource.type=Upload) (created
    by someone else, for example GitOps), then waits until it is C(Ready). To create the image and upload in
    one task use M(deckhouse.virtualization.virtual_image) with O(deckhouse.virtualization.virtual_image#module:source.upload).
  - The file is read once and sent with an exact C(Content-Length) and constant memory; checksums are computed
    while it is sent, in worker threads beside the socket writes.
  - Idempotent. After a successful upload the module records the file's checksums and size in the annotation
    C(virtualization.deckhouse.io/ansible-upload-checksum) (the image's C(spec.dataSource.upload.checksum) is used
    when there is no annotation). A C(Ready) image whose record matches the file is left alone (no byte is sent);
    one that differs fails naming the difference unless O(recreate=true).
  - The platform treats an interrupted upload, a size or checksum mismatch and a missed upload deadline as
    terminal (phase C(Failed)) and uploads cannot resume. While O(retries) last the module deletes the image,
    creates it again with the same spec, labels and annotations, and sends the whole file again. An image
    already C(Failed) when the task starts is handled the same way.
  - A C(503) answer (another upload is running) and connection errors before the request starts are retried
    with backoff until O(wait_timeout).
  - The upload URL is a credential. It never appears in the result, in messages or in logs (it is shown as
    C(<scheme>://<host>/<redacted>)) unless O(show_upload_url=true).
  - "Long uploads: run with C(-v) to see progress lines (bytes, percent, rate) while the task runs on the
    controller, or run the task with C(async: 3600) and C(poll: 0) and collect it later with
    C(ansible.builtin.async_status) (retries/delay), keeping O(wait_timeout) below the async limit."
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
    details: Nothing is created, deleted or sent; the result says whether an upload (or a recreate) would happen.
  diff_mode:
    support: full
    details: Shows the annotation that would be recorded, or the image that would be recreated.
  platform:
    platforms: kubernetes
requirements:
  - "for streebog checksums of an uploaded file: OpenSSL 3's GOST provider (package libengine-gost-openssl on Debian,
    Ubuntu and Astra Linux; about 90 MB/s), else the pure-Python gostcrypto (about 80 KiB/s)"
options:
  name:
    description: Name of the image.
    type: str
    required: true
  namespace:
    description: Namespace of the C(VirtualImage). Required unless O(cluster=true).
    type: str
  cluster:
    description: The image is a C(ClusterVirtualImage) (no namespace).
    type: bool
    default: false
  show_upload_url:
    description: Return the URL used as RV(upload_url). It is a credential; off by default.
    type: bool
    default: false
  recreate:
    description:
      - When the image is C(Ready) but its recorded checksum or size differs from the file (or nothing is
        recorded), delete it, create it anew and upload, instead of failing.
    type: bool
    default: false
  path:
    description:
      - The file to upload (qcow2, raw, vmdk, vdi, vhdx, vpc or iso; optionally compressed with gzip or xz, sent as it
        is and decompressed by the platform).
      - "When the module runs on the controller (a C(local) connection, including C(delegate_to: localhost)) the path
        is resolved like C(copy)'s C(src): the role's C(files/), then the playbook directory; a vault-encrypted file
        is decrypted to a temporary file that is removed when the task ends. With any other connection it is a path on
        the managed host, read there."
    type: path
    required: true
  checksum:
    description:
      - Checksums the file must have. Every one given is computed while sending and checked before the last byte is
        sent; on a mismatch the upload is stopped so nothing is stored. With a single-buffer file (up to 1 MiB)
        nothing is sent at all.
      - When none is given, C(sha1) is computed and recorded (only to tell a re-run whether the file is the same; it
        is the fastest of these algorithms).
      - O(checksum.streebog256) and O(checksum.streebog512) are computed by OpenSSL 3's GOST provider (about 90 MB/s)
        when the package C(libengine-gost-openssl) (Debian, Ubuntu, Astra Linux; C(openssl-gost-engine) on Fedora) is
        installed where the module runs; no OpenSSL configuration is needed. Without it the pure-Python gostcrypto
        library computes them at about 80 KiB/s and the task warns.
      - "A value may be the http(s) URL of the vendor's sums file instead of the digest (as with
        C(ansible.builtin.get_url)), for example C(https://cloud-images.ubuntu.com/noble/current/SHA256SUMS): it is
        read once per run, the line naming the file (the file's own name; a vault-encrypted file is decrypted to a
        temporary name, so give its digest instead) is found in GNU form (C(<hex>  <name>)) or BSD form (the
        algorithm, the name in parentheses, C(=) and the digest), and its digest is used as if written here. No such
        line, an HTTP error or a malformed digest fails the task, naming the option, the sums file and the file,
        before anything is written."
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
      - Which of C(status.imageUploadURLs) to use. V(in_cluster) is the uploader's service (reachable from inside the
        cluster), V(external) the ingress URL (needs a public domain).
      - V(auto) uses the in-cluster URL when it answers the upload server's C(GET) probe from where the module runs,
        else the external one.
    type: str
    default: auto
    choices: [auto, external, in_cluster]
  upload_url:
    description:
      - Send to this URL instead of one from the image's status (for example through a proxy or port-forward). The
        image's phases are still followed through the API.
      - Like the URLs the image publishes, it is a credential; messages and logs show it redacted.
    type: str
  upload_validate_certs:
    description: Verify the upload server's TLS certificate (independent of the API server's O(validate_certs)).
    type: bool
    default: true
  upload_ca_cert:
    description: PEM file of the CA to verify the upload server with (the system CAs when omitted).
    type: path
  retries:
    description:
      - How many times a C(Failed) image (interrupted upload, size or checksum mismatch, missed deadline) is recreated
        and the file sent again. V(0) fails with the platform's message instead.
    type: int
    default: 2
notes:
  - O(wait) only controls the wait for C(Ready) after the upload; the module always waits (up to O(wait_timeout))
    for the image to publish its upload URLs, since there is nothing to send to before that.
  - O(wait_timeout) bounds the whole task, including the transfer.
"""

EXAMPLES = r"""
- name: Upload a disk into an image created by GitOps (file in the role's files/ or next to the playbook)
  deckhouse.virtualization.virtual_image_upload:
    name: ubuntu-24
    namespace: vms
    path: ubuntu-24.04.qcow2
    checksum:
      sha256: "{{ ubuntu_sha256 }}"

- name: Upload a compressed ISO into a ClusterVirtualImage through its external URL
  deckhouse.virtualization.virtual_image_upload:
    name: installer
    cluster: true
    path: "{{ images_dir }}/installer.iso.xz"  # e.g. /srv/images
    endpoint: external
    upload_ca_cert: "{{ ingress_ca_file }}"  # e.g. /etc/pki/ingress-ca.pem

- name: A long upload in the background, allowing 50 minutes
  deckhouse.virtualization.virtual_image_upload:
    name: big-disk
    namespace: vms
    path: "{{ images_dir }}/big.raw"
    wait_timeout: 3000
  async: 3600
  poll: 0
  register: upload_job

- name: Collect the background upload
  ansible.builtin.async_status:
    jid: "{{ upload_job.ansible_job_id }}"
  register: upload_result
  until: upload_result.finished
  retries: 600
  delay: 5
"""

RETURN = r"""
image:
  description: The image at the end (upload URLs redacted).
  returned: always
  type: dict
phase:
  description: C(status.phase) at the end.
  returned: always
  type: str
  sample: Ready
progress:
  description: C(status.progress) at the end.
  returned: always
  type: str
  sample: 100%
bytes:
  description: Bytes sent by the successful upload (0 when nothing was sent).
  returned: always
  type: int
  sample: 1073741824
seconds:
  description: Seconds from the start of the successful upload to the server's answer (it answers after storing).
  returned: always
  type: float
throughput:
  description: RV(bytes) / RV(seconds), bytes per second.
  returned: always
  type: float
transfer_seconds:
  description: Seconds from the first to the last byte of the body (RV(seconds) also covers the server storing it).
  returned: always
  type: float
checksums:
  description: Checksums computed from the file (the given algorithms, C(sha1) when none was given).
  returned: always
  type: dict
  sample: {"sha1": "5f2b..."}
attempts:
  description: Requests sent to the upload server (retries of 503 and of failed uploads included).
  returned: always
  type: int
endpoint:
  description: The endpoint used (V(in_cluster), V(external) or V(upload_url)); null when nothing was sent.
  returned: always
  type: str
upload_url:
  description: The URL the file was sent to.
  returned: when O(show_upload_url=true) and a URL was used
  type: str
phases:
  description: The phases seen, in order, with the progress when each was first seen.
  returned: always
  type: list
  elements: dict
duration:
  description: Seconds the task took.
  returned: always
  type: float
differing_fields:
  description: What differs between a C(Ready) image and the file (on that failure).
  returned: on failure
  type: list
  elements: str
conditions:
  description: The image's status conditions (on a failure of the image).
  returned: on failure
  type: list
  elements: dict
"""

from typing import Any, Dict, List

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    CLUSTER_VIRTUAL_IMAGE, VIRTUAL_IMAGE,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.glue.module import CollectionModule
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.args import (
    UPLOAD_OPTIONS_SPEC, copy_spec, with_task_options,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.upload import (
    UploadOptions, UploadRequest,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.validation import (
    validate_upload, validate_upload_target,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.sums import ChecksumBlock
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload import UploadRunner


def argument_spec() -> Dict[str, Any]:
    """The options of virtual_image_upload: which image, how the file is sent (shared with source.upload)."""
    return with_task_options(dict(
        name={"type": "str", "required": True},
        namespace={"type": "str"},
        cluster={"type": "bool", "default": False},
        **copy_spec(UPLOAD_OPTIONS_SPEC)
    ))


class UploadModule(CollectionModule[UploadRequest]):
    """virtual_image_upload."""

    def argument_spec(self) -> Dict[str, Any]:
        return argument_spec()

    def checksum_blocks(self, params: Dict[str, Any]) -> List[ChecksumBlock]:
        return [ChecksumBlock(params, "checksum")]

    def request(self, params: Dict[str, Any]) -> UploadRequest:
        kind = CLUSTER_VIRTUAL_IMAGE if params["cluster"] else VIRTUAL_IMAGE
        validate_upload_target(params, kind)
        opts = UploadOptions.from_params(params)
        validate_upload(opts)
        return UploadRequest(kind, params["name"], None if params["cluster"] else params["namespace"], opts)

    def label(self, request: UploadRequest) -> str:
        return request.kind.ref(request.name, request.namespace)

    def execute(self, client: Client, request: UploadRequest, tracker: Tracker) -> Dict[str, Any]:
        return UploadRunner(client, request.kind, request.name, request.namespace, request.options, tracker).run()


def main() -> None:
    """Entry point: the class above says what the module takes and does; the glue base runs it."""
    UploadModule().main()


if __name__ == "__main__":
    main()
