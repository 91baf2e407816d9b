# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""How one file is uploaded: the top-level options of virtual_image_upload and, through ``upload_options``,
the suboptions of ``source.upload`` of virtual_image and cluster_virtual_image (one text for both)."""

from __future__ import annotations

from typing import Any, Dict

from ansible_collections.deckhouse.virtualization.plugins.plugin_utils.doc_yaml import piece, render

# The algorithms of every checksum option (module_utils/options/args.py CHECKSUM_SPEC).
CHECKSUM_ALGORITHMS = r"""
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
"""

GOSTCRYPTO = ("for streebog checksums of an uploaded file: OpenSSL 3's GOST provider (package libengine-gost-openssl "
              "on Debian, Ubuntu and Astra Linux; about 90 MB/s), else the pure-Python gostcrypto (about 80 KiB/s)")

# path, checksum and the transfer options (module_utils/options/args.py UPLOAD_TRANSFER_SPEC); ${at} is where they
# sit (empty at the top level, "source.upload." under the image modules), for references between them.
_UPLOAD_FILE = r"""
path:
  description:
    - The file to upload (qcow2, raw, vmdk, vdi, vhdx, vpc or iso; optionally compressed with gzip or xz, sent as
      it is and decompressed by the platform).
    - "When the module runs on the controller (a C(local) connection, including C(delegate_to: localhost)) the
      path is resolved like C(copy)'s C(src): the role's C(files/), then the playbook directory; a vault-encrypted
      file is decrypted to a temporary file that is removed when the task ends. With any other connection it is
      a path on the managed host, read there."
  type: path
  required: true
checksum:
  description:
    - Checksums the file must have. Every one given is computed while sending and checked before the last byte
      is sent; on a mismatch the upload is stopped so nothing is stored. With a single-buffer file (up to
      1 MiB) nothing is sent at all.
    - When none is given, C(sha1) is computed and recorded (only to tell a re-run whether the file is the same;
      it is the fastest of these algorithms).
    - O(${at}checksum.streebog256) and O(${at}checksum.streebog512) are computed by OpenSSL 3's GOST provider
      (about 90 MB/s) when the package C(libengine-gost-openssl) (Debian, Ubuntu, Astra Linux; C(openssl-gost-engine)
      on Fedora) is installed where the module runs; no OpenSSL configuration is needed. Without it the
      pure-Python gostcrypto library computes them at about 80 KiB/s and the task warns.
  type: dict
endpoint:
  description:
    - Which of C(status.imageUploadURLs) to use. V(in_cluster) is the uploader's service (reachable from inside
      the cluster), V(external) the ingress URL (needs a public domain).
    - V(auto) uses the in-cluster URL when it answers the upload server's C(GET) probe from where the module
      runs, else the external one.
  type: str
  choices: [auto, external, in_cluster]
  default: auto
upload_url:
  description:
    - Send to this URL instead of one from the image's status (for example through a proxy or port-forward).
      The image's phases are still followed through the API.
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
    - How many times a C(Failed) image (interrupted upload, size or checksum mismatch, missed deadline) is
      recreated and the file sent again. V(0) fails with the platform's message instead.
  type: int
  default: 2
"""


def sums_file(names: str, trusted: str = "") -> str:
    """What every checksum option says of a sums file URL given for a digest (module_utils/transfer/sums.py)."""
    return ("A value may be the http(s) URL of the vendor's sums file instead of the digest (as with "
            "C(ansible.builtin.get_url)), for example C(https://cloud-images.ubuntu.com/noble/current/SHA256SUMS): "
            "it is read once per run%s, the line naming the file (%s) is found in GNU form (C(<hex>  <name>)) or "
            "BSD form (the algorithm, the name in parentheses, C(=) and the digest), and its digest is used as if written here. No such line, an HTTP "
            "error or a malformed digest fails the task, naming the option, the sums file and the file, before "
            "anything is written." % (trusted, names))


def checksum_algorithms() -> Dict[str, Any]:
    """The suboptions of a checksum option."""
    return piece(CHECKSUM_ALGORITHMS)


def upload_options(at: str) -> Dict[str, Any]:
    """The options of one file upload, placed at ``at`` (``""`` or ``"source.upload."``)."""
    options = piece(_UPLOAD_FILE, at=at)
    options["checksum"]["suboptions"] = checksum_algorithms()
    options["checksum"]["description"].append(sums_file(
        "the file's own name; a vault-encrypted file is decrypted to a temporary name, so give its digest instead"))
    return options


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """Documentation of virtual_image_upload's path, checksum and transfer options."""

    # Annotated (not a plain assignment): ansible-test's yamllint reads plain assignments as literal YAML.
    DOCUMENTATION: str = render(options=upload_options(""), requirements=[GOSTCRYPTO])
