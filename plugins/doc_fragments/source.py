# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The ``source`` option of the modules that make an image or a disk, written once
(module_utils/options/args.py ``source_spec``: the same blocks for VirtualImage, ClusterVirtualImage, VirtualDisk).

What differs per kind is filled in: the object kinds it can be copied from, namespaced references for
ClusterVirtualImages, the pull Secret's shape. The checksum and upload texts come from upload.py. The image modules
compose ``source_option`` into their own fragment; virtual_disk extends ``deckhouse.virtualization.source.virtual_disk``.
"""

from __future__ import annotations

from typing import Any, Dict

from ansible_collections.deckhouse.virtualization.plugins.doc_fragments.upload import (
    checksum_algorithms, sums_file, upload_options,
)
from ansible_collections.deckhouse.virtualization.plugins.plugin_utils.doc_yaml import piece, render

# ${what} is "image" or "disk".
_SOURCE = r"""
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
          - Registry credentials. The module creates and owns a C(kubernetes.io/dockerconfigjson) Secret for
            them (owner reference to the ${what} and a label), updates it when they change, deletes it with
            the ${what} and points C(imagePullSecret) at it.
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
    type: dict
    suboptions:
      kind:
        description: Kind of the source object.
        type: str
        required: true
      name:
        description: Name of the source object.
        type: str
        required: true
  upload:
    description:
      - Upload a local file in the same task. The module creates the ${what}, waits for C(WaitForUserUpload),
        streams the file (constant memory, checksums computed while sending) and waits until C(Ready).
      - Behaves like M(deckhouse.virtualization.virtual_image_upload) (a C(Ready) ${what} whose recorded checksum
        matches the file is left alone, a different file follows O(recreate)); see that module for progress at
        C(-v) and for the C(async)/C(poll) pattern.
    type: dict
"""

_NAMESPACED_PULL_SECRET = r"""
description:
  - Name of a C(kubernetes.io/dockerconfigjson) Secret in the ${what}'s namespace.
  - With O(source.container_image.registry_credentials), the name of the Secret the module manages
    (default C(<name>-registry-credentials)).
type: str
"""

_CLUSTER_PULL_SECRET = r"""
description:
  - A C(kubernetes.io/dockerconfigjson) Secret; both fields are required without
    O(source.container_image.registry_credentials).
  - With O(source.container_image.registry_credentials), where the Secret the module manages goes
    (default name C(<name>-registry-credentials) in namespace C(default)).
type: dict
suboptions:
  name:
    description: Name of the Secret.
    type: str
  namespace:
    description: Namespace of the Secret.
    type: str
"""

_CLUSTER_OBJECT_NAMESPACE = r"""
description: Namespace of the source object; required for all kinds but C(ClusterVirtualImage).
type: str
"""

# Per kind: what it is ("image" or "disk"), the kinds it copies from, how object_ref reads, its own description.
_KINDS: Dict[str, Dict[str, Any]] = {
    "VirtualImage": {
        "what": "image",
        "from": ["VirtualImage", "ClusterVirtualImage", "VirtualDisk", "VirtualDiskSnapshot"],
        "object_ref": "Copy from an existing object in the same namespace (or a C(ClusterVirtualImage)).",
        "description": ["Where the image data comes from; exactly one of the suboptions. Required for "
                        "O(state=present) unless O(definition) or O(src) is used."],
    },
    "ClusterVirtualImage": {
        "what": "image",
        "from": ["VirtualImage", "ClusterVirtualImage", "VirtualDisk", "VirtualDiskSnapshot"],
        "object_ref": "Copy from an existing object.",
        "description": ["Where the image data comes from; exactly one of the suboptions. Required for "
                        "O(state=present) unless O(definition) or O(src) is used."],
    },
    "VirtualDisk": {
        "what": "disk",
        "from": ["VirtualImage", "ClusterVirtualImage", "VirtualDiskSnapshot"],
        "object_ref": ("Fill the disk from a C(VirtualImage) or a C(VirtualDiskSnapshot) in the same namespace, or a "
                       "C(ClusterVirtualImage). The object must exist: a name that does not is an error before any "
                       "write (the platform would wait for it for ever)."),
        "description": ["Where the disk's data comes from; at most one of the suboptions.",
                        "Without it the disk is blank, of O(size)."],
    },
}


def source_option(kind: str) -> Dict[str, Any]:
    """The ``source`` option of the module that makes a ``kind`` object."""
    facts = _KINDS[kind]
    option = piece(_SOURCE, what=facts["what"])
    option["description"] = list(facts["description"])
    blocks = option["suboptions"]
    blocks["http"]["suboptions"]["checksum"]["suboptions"] = checksum_algorithms()
    checksum = blocks["http"]["suboptions"]["checksum"]
    checksum["description"] = [checksum["description"], sums_file(
        "the last part of the URL", " (with O(source.http.ca_bundle) trusted, when given, instead of the system's CAs)")]
    cluster = kind == "ClusterVirtualImage"
    blocks["container_image"]["suboptions"]["image_pull_secret"] = piece(
        _CLUSTER_PULL_SECRET if cluster else _NAMESPACED_PULL_SECRET, what=facts["what"])
    blocks["object_ref"]["description"] = facts["object_ref"]
    blocks["object_ref"]["suboptions"]["kind"]["choices"] = list(facts["from"])
    if cluster:
        blocks["object_ref"]["suboptions"]["namespace"] = piece(_CLUSTER_OBJECT_NAMESPACE)
    upload = upload_options("source.upload.")
    upload["checksum"]["description"].insert(
        1, "Also put in C(spec.dataSource.upload.checksum), so that the platform checks them too.")
    blocks["upload"]["suboptions"] = upload
    return option


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """Documentation of the ``source`` option, one variable per kind made."""

    # Annotated (not plain assignments): ansible-test's yamllint reads plain assignments as literal YAML.
    VIRTUAL_IMAGE: str = render(options={"source": source_option("VirtualImage")})
    CLUSTER_VIRTUAL_IMAGE: str = render(options={"source": source_option("ClusterVirtualImage")})
    VIRTUAL_DISK: str = render(options={"source": source_option("VirtualDisk")})
