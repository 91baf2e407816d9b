# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The options of virtual_image and cluster_virtual_image, written once.

The two modules differ in a few places only (a namespace and the storage options for VirtualImages;
namespaced references to Secrets and objects for ClusterVirtualImages); those are filled in per kind.
Use ``deckhouse.virtualization.image_module.virtual_image`` or
``deckhouse.virtualization.image_module.cluster_virtual_image``. (Not named ``image``: the plugin loader
would then also take ``deckhouse.virtualization.wait.image`` for this file.)
"""

from __future__ import annotations

from typing import Any, Dict

from ansible_collections.deckhouse.virtualization.plugins.doc_fragments.source import source_option
from ansible_collections.deckhouse.virtualization.plugins.doc_fragments.upload import GOSTCRYPTO
from ansible_collections.deckhouse.virtualization.plugins.plugin_utils.doc_yaml import piece, render

# module_utils/options/args.py image_arg_spec; ${kind} is VirtualImage or ClusterVirtualImage.
_IMAGE = r"""
name:
  description:
    - Name of the image. Lower-case letters, digits and C(-); the platform forbids dots.
    - Required unless given in O(definition) or O(src).
  type: str
state:
  description:
    - V(present) creates or updates the image, V(absent) deletes it (and the pull Secret the module created).
  type: str
  choices: [present, absent]
  default: present
labels:
  description: Labels to set on the image (merged into the existing ones).
  type: dict
annotations:
  description: Annotations to set on the image (merged into the existing ones).
  type: dict
definition:
  description:
    - A whole C(${kind}) manifest (dictionary or YAML text) instead of the typed options.
    - A checksum under C(spec.dataSource.http.checksum) may be the http(s) URL of the vendor's sums file, as in
      O(source.http.checksum); the digest of the line naming the URL's file is written instead.
  type: raw
src:
  description:
    - Path of a file holding a C(${kind}) manifest, read on the controller whatever the connection (like
      kubernetes.core's C(src)) and passed to the module as O(definition). It is found like C(copy)'s C(src)
      (the role's C(files/), then the playbook directory) and may be vault-encrypted.
    - Mutually exclusive with O(definition) and the typed options.
  type: path
recreate:
  description:
    - When the image is already provisioned and its spec differs, delete it (waiting until it is gone) and
      create it anew instead of failing.
  type: bool
  default: false
force:
  description:
    - With O(state=absent), delete the image even while something uses it (a virtual machine it is attached to,
      a disk or an image being filled from it). Without it such a delete is refused before anything is written,
      naming the users. The platform keeps an image a virtual machine uses C(Terminating) until the machine lets
      go; the task then ends with a warning and RV(held_by).
  type: bool
  default: false
"""

_NAMESPACED = r"""
namespace:
  description:
    - Namespace of the image. Required unless given in O(definition) or O(src).
  type: str
storage:
  description:
    - Where the platform keeps the image. When omitted, V(ContainerRegistry) (DVCR).
  type: str
  choices: [ContainerRegistry, PersistentVolumeClaim]
storage_class:
  description:
    - StorageClass of the PVC (O(storage=PersistentVolumeClaim) only); the default class when omitted.
  type: str
"""

_ATTRIBUTES = r"""
check_mode:
  support: full
  details: Uses the API server's dry run (C(dryRun=All)); nothing is stored.
diff_mode:
  support: full
platform:
  platforms: kubernetes
"""

# ${provisioned}: when the platform starts rejecting spec changes of this kind.
_NOTES = r"""
- Changes are decided by comparing the wanted spec, labels and annotations with the live object before any
  write; a run with nothing to change sends no write.
- Before the image is C(Ready) a spec change is patched (the platform restarts the import). ${provisioned}
  the platform rejects spec changes; the module then fails naming the differing fields unless O(recreate=true).
- Labels and annotations are merged into the live ones (keys not given are left alone) and always patched in place.
"""


def image_options(cluster: bool) -> Dict[str, Any]:
    """The options of cluster_virtual_image (``cluster``) or virtual_image."""
    kind = "ClusterVirtualImage" if cluster else "VirtualImage"
    options = piece(_IMAGE, kind=kind)
    options["source"] = source_option(kind)
    if cluster:
        options["name"]["description"].append("Also see M(deckhouse.virtualization.virtual_image) for namespaced images.")
        options["definition"]["description"].append("O(name), when given, overrides the manifest's.")
    else:
        options["definition"]["description"].append("O(name) and O(namespace), when given, override the manifest's.")
        options.update(piece(_NAMESPACED))
    return options


def _fragment(cluster: bool) -> str:
    provisioned = "Once C(Ready)" if cluster else "Once provisioned"
    return render(options=image_options(cluster), attributes=piece(_ATTRIBUTES),
                  notes=piece(_NOTES, provisioned=provisioned), requirements=[GOSTCRYPTO])


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """Documentation of the options of the two image modules, one variable per kind."""

    # Annotated (not plain assignments): ansible-test's yamllint reads plain assignments as literal YAML.
    VIRTUAL_IMAGE: str = _fragment(cluster=False)
    CLUSTER_VIRTUAL_IMAGE: str = _fragment(cluster=True)
