#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Apply a whole image catalog in one run (thin: docs, argspec, main)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: image_catalog_apply
short_description: Seed a catalog of VirtualImages or ClusterVirtualImages in one run
version_added: 0.1.0
description:
  - Makes a set of images exist in a set of namespaces (or cluster-wide), all at once, and waits for all of them
    side by side, so seeding N images takes about as long as the slowest one.
  - Each namespace is listed once; what to create, patch or delete is decided from those lists before any write.
    A re-run on a catalog already in place sends no write at all.
  - Every image the module creates carries the label C(virtualization.deckhouse.io/ansible-catalog=<catalog>);
    it only ever changes or deletes images with its own label, so several catalogs can live side by side.
  - A failing image (for example a URL answering 404) fails the task naming it, after every other image has
    finished; every image is reported in RV(images) and RV(table).
  - The roles C(deckhouse.virtualization.image_catalog) and C(deckhouse.virtualization.cluster_image_catalog)
    are the usual way to call it.
author:
  - Deckhouse virtualization contributors (@deckhouse)
extends_documentation_fragment:
  - deckhouse.virtualization.auth
  - deckhouse.virtualization.progress
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Writes are sent with the API server's dry run (C(dryRun=All)); RV(pruned) lists what would be deleted.
  diff_mode:
    support: full
    details: Before and after of every image the run creates, patches, recreates or prunes, and of the track
      versions whose newest-version label moves or which are deleted, keyed by C(VirtualImage <namespace>/<name>)
      (or C(ClusterVirtualImage <name>)); in check mode, what the run would write. Namespaces made by
      O(create_namespaces) and fan-out sources retired (RV(retired_hubs)) are not shown.
  platform:
    platforms: kubernetes
options:
  cluster:
    description:
      - V(false) manages C(VirtualImage)s in O(namespaces), V(true) manages C(ClusterVirtualImage)s.
    type: bool
    default: false
  catalog:
    description:
      - Name of the catalog, recorded as the value of the ownership label on every image.
    type: str
    default: default
  namespaces:
    description:
      - Namespaces to seed every entry into. Required unless O(cluster=true).
    type: list
    elements: str
  create_namespaces:
    description:
      - Create namespaces of O(namespaces) that do not exist. Without it a missing namespace fails the run before
        any write.
    type: bool
    default: false
  images:
    description:
      - The catalog entries, each a mapping with C(name) and exactly one source field. The fields are checked
        by the module (before any request) so that messages can name the entry, e.g. C(images[2] (debian-12)).
      - C(name) (required) name of the image in every namespace (lower-case letters, digits and C(-)).
      - C(url) import from this HTTP or HTTPS URL; C(image) import from this container image (disk file under
        C(/disk/), TLS registry); C(path) upload this file (found and decrypted on the controller as
        O(deckhouse.virtualization.virtual_image_upload#module:path) is, when the module runs there; with any
        other connection a path on the managed host); C(from) copy from an object, C({kind, name}) (and
        C(namespace) for ClusterVirtualImages copying from a namespaced object).
      - C(checksum) a mapping of C(md5), C(sha1), C(sha256), C(sha512), C(streebog256), C(streebog512) (for
        C(url) and C(path)); C(ca_bundle) PEM text (for C(url) and C(image)); C(image_pull_secret) the name of a
        C(kubernetes.io/dockerconfigjson) Secret (a C({name, namespace}) mapping for ClusterVirtualImages).
      - A checksum value may be the http(s) URL of the vendor's sums file instead of the digest
        (C(sha256=https://mirror.example.com/noble/current/SHA256SUMS)). It is read once per run (with the
        entry's C(ca_bundle) trusted, when given, instead of the system's CAs), the line naming the image's file (the last part of
        C(url), or the name of C(path)) is found in GNU form (C(<hex>  <name>)) or BSD form (the algorithm, the
        name in parentheses, C(=) and the digest), and its digest is used as if written in the entry. A missing line, an HTTP error or a malformed
        digest fails the run, naming the entry, before anything is written.
      - C(keep) (a number, at least 1) makes the entry a track that keeps versions of an image whose source changes
        (a vendor's C(current) build). Each version is an image C(<name>-<version>), where the version is
        C(version) when given (lower-case letters, digits and C(-)), else the first 12 characters of the digest
        (so a new build in the sums file is a new version). When today's version is C(Ready) it takes the label
        C(virtualization.deckhouse.io/ansible-catalog-newest=true) from the older ones, and versions past the
        newest C(keep) are deleted, oldest first, unless a VirtualDisk or an image is being filled from them (a
        filled disk holds its own copy), a VirtualMachine has them attached or a VirtualMachineBlockDeviceAttachment
        hot-plugs them (for ClusterVirtualImages, in any namespace; a namespace in C(status.usedInNamespaces) counts
        too, though no platform release fills that field yet); such a version is kept and RV(tracks[].kept) says
        what uses it. A version that fails moves no label and deletes nothing. A version is never replaced in
        place - with C(version) given, a changed source is refused until the version changes too (O(recreate) does
        not apply to tracks). With O(fanout=cluster) each build has its own hub, retired (RV(retired_hubs)) once
        no version wants it. With O(prune), the versions of a track whose entry left the catalog are deleted,
        except those in use. Every version is labelled C(virtualization.deckhouse.io/ansible-catalog-track=<name>) and
        C(virtualization.deckhouse.io/ansible-catalog-version=<version>).
      - C(storage) (C(ContainerRegistry) or C(PersistentVolumeClaim)) and C(storage_class), VirtualImages only;
        C(labels) a mapping (the ownership label is added).
    type: list
    elements: dict
    default: []
  images_option:
    description: How messages name O(images) (the roles pass their variable's name).
    type: str
    default: images
  manifests:
    description:
      - Paths or globs of YAML files holding image manifests (several documents per file are fine); their images
        join the catalog.
      - The action plugin reads them on the controller, whatever the connection, and passes their documents to
        the module as O(definitions). A relative pattern is found as the C(ansible.builtin.fileglob) lookup finds
        it (its directories in the role's C(files/), then the playbook directory; a bare pattern in the
        C(files/) of each search path, then the path itself); a pattern that matches no file fails the task.
        Vault-encrypted files are decrypted.
      - A manifest without a namespace is seeded into every namespace of O(namespaces); one with a namespace only
        into that one (which must be listed in O(namespaces)).
    type: list
    elements: str
    default: []
  definitions:
    description:
      - Manifests already read, as C({origin, manifest}) mappings (C(origin) names the manifest in messages and
        RV(images), for example a file name; C(manifest) is the image manifest). They join the catalog like
        O(manifests), before them.
      - The action plugin appends the documents it reads from O(manifests), named by file (C(<file>#<n>) for a
        file holding several).
    type: list
    elements: dict
    default: []
  prune:
    description:
      - Delete images this catalog owns (by label) that are no longer listed, including those in namespaces no
        longer listed when the credentials may list images cluster-wide. Never touches anything else.
    type: bool
    default: false
  recreate:
    description:
      - An image this catalog owns that is already provisioned cannot have its spec changed (the platform
        rejects it). With V(true), such an image is deleted and created anew with the listed spec (the name is
        freed first, whatever O(wait) says); with V(false), the run fails for that entry and names the
        differing fields, while the other images still finish.
      - In check mode only the deletion is tried (server-side dry run).
    type: bool
    default: false
  fanout:
    description:
      - V(cluster) downloads each distinct remote source (C(url) entries, and C(image) entries without a pull
        Secret) once into a ClusterVirtualImage named C(<catalog>-src-<hash>) and has every namespace copy it
        in-cluster, instead of every namespace downloading it again. Only for VirtualImages.
    type: str
    choices: [none, cluster]
    default: none
  wait:
    description:
      - Wait until every image is C(Ready) (and every pruned one gone), all side by side. Each image's wait stops
        at once on C(Failed), C(ImageLost) or C(PVCLost) with the platform's message; the others go on.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the whole catalog.
    type: int
    default: 1800
"""

EXAMPLES = r"""
- name: Seed two namespaces with a catalog, downloading each source once
  deckhouse.virtualization.image_catalog_apply:
    catalog: base-images
    namespaces: [team-a, team-b]
    create_namespaces: true
    fanout: cluster
    images:
      - name: debian-12
        url: "{{ debian_url }}"  # e.g. https://mirror.example.com/debian-12.qcow2
        checksum:
          sha256: "{{ debian_sha256 }}"
      - name: tools-iso
        url: "{{ tools_iso_url }}"  # e.g. https://mirror.example.com/isos/tools-1.0.iso
        ca_bundle: "{{ mirror_ca }}"  # PEM of the mirror's CA
    manifests:
      - catalog/*.yaml  # VirtualImage manifests next to the playbook
    prune: true
  register: catalog

- name: A vendor's current cloud image, verified against its sums file, the newest two builds kept
  deckhouse.virtualization.image_catalog_apply:
    catalog: golden
    namespaces: [team-a]
    images:
      - name: ubuntu-noble
        url: "{{ noble_url }}"  # e.g. https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img
        checksum:
          sha256: "{{ noble_sums_url }}"  # e.g. https://cloud-images.ubuntu.com/noble/current/SHA256SUMS
        keep: 2
  register: golden

- name: Say which version is the newest
  ansible.builtin.debug:
    msg: "{{ golden.tracks[0].newest }} (kept: {{ golden.tracks[0].kept | map(attribute='name') | list }})"

- name: Print the summary
  ansible.builtin.debug:
    msg: "{{ catalog.table }}"
"""

RETURN = r"""
images:
  description: One entry per image of the catalog, in namespace order then entry order.
  returned: always
  type: list
  elements: dict
  contains:
    ref:
      description: C(VirtualImage <namespace>/<name>) or C(ClusterVirtualImage <name>).
      type: str
    namespace:
      description: Namespace (null for ClusterVirtualImages).
      type: str
    name:
      description: Name of the image.
      type: str
    entry:
      description: The catalog entry it comes from, e.g. C(images[2] (debian-12)).
      type: str
    action:
      description: C(create), C(patch), C(keep), C(delete), C(refuse) (an image the catalog may not change) or
        C(held) (a prune not done because something uses the image; see RV(images[].note)).
      type: str
    result:
      description: C(created), C(updated), C(unchanged), C(deleted), C(refused), C(in use, not pruned), C(failed),
        or C(would ...) in check mode.
      type: str
    changed:
      description: Whether this run wrote the image.
      type: bool
    phase:
      description: C(status.phase) at the end.
      type: str
    size:
      description: Unpacked (virtual) size, as the platform reports it.
      type: str
    stored_size:
      description: Stored size.
      type: str
    format:
      description: Disk format.
      type: str
    seconds:
      description: Seconds this run spent on the image (writing and waiting).
      type: float
    error:
      description: Why it failed; empty when it did not.
      type: str
    note:
      description: "For C(held), who holds it, for example C(not pruned: used by VirtualMachine vms/web; a later run
        prunes it once nothing uses it), or C(being deleted; the platform holds it while it is used by ...) for an
        image deleted already; null otherwise."
      type: str
fanout:
  description: The fan-out ClusterVirtualImages (same fields as RV(images)).
  returned: always
  type: list
  elements: dict
pruned:
  description: Images deleted (or, in check mode, that would be deleted) by O(prune), and those it leaves because
    something uses them (the platform would hold their delete; RV(images[].action) C(held)).
  returned: always
  type: list
  elements: dict
created_namespaces:
  description: Namespaces created (or that would be, in check mode).
  returned: always
  type: list
  elements: str
tracks:
  description: One entry per track (an entry with C(keep)) and namespace.
  returned: always
  type: list
  elements: dict
  contains:
    track:
      description: The entry's name.
      type: str
    namespace:
      description: Namespace (null for ClusterVirtualImages).
      type: str
    newest:
      description: Today's version, C(<name>-<version>).
      type: str
    newest_ready:
      description: Whether today's version is C(Ready) (in check mode, also when it would be created).
      type: bool
    label:
      description: What happened to the newest label, C(set), C(moved), C(unchanged), C(waiting) (today's version
        is not Ready), C(retired) (the entry left the catalog, O(prune)), or C(would set)/C(would move) in check
        mode.
      type: str
    entry:
      description: The catalog entry of the track (null for a retired one).
      type: str
    previous_newest:
      description: The version that carried the newest label before.
      type: str
    deleted:
      description: Versions deleted (or that would be, in check mode), oldest first.
      type: list
      elements: str
    kept:
      description: Older versions kept, each C({name, reason, used_by}).
      type: list
      elements: dict
    held:
      description: Older versions deleted already that the platform keeps Terminating while something uses them,
        each C({name, reason, used_by}); not kept, only not gone yet.
      type: list
      elements: dict
    error:
      description: Why moving the label or deleting failed; empty when nothing did.
      type: str
  sample:
    - track: ubuntu-noble
      namespace: vms
      keep: 2
      newest: ubuntu-noble-5f2a0c1b9e3d
      version: 5f2a0c1b9e3d
      newest_ready: true
      label: moved
      previous_newest: ubuntu-noble-77c1d0e4a2b8
      deleted: []
      kept:
        - name: ubuntu-noble-0a9e6b3c7d21
          reason: used by VirtualMachine vms/web-1
          used_by: [VirtualMachine vms/web-1]
        - name: ubuntu-noble-77c1d0e4a2b8
          reason: one of the newest 2
          used_by: []
      note: ""
      error: ""
retired_hubs:
  description: Fan-out ClusterVirtualImages of older builds of a track deleted because no version wants them.
  returned: always
  type: list
  elements: str
table:
  description: The summary as aligned text lines (namespace, image, result, phase, size, format, time), then the
    tracks (namespace, track, newest version, label, versions kept and why, versions deleted).
  returned: always
  type: list
  elements: str
failed_images:
  description: "C(<ref> [<entry>]: <message>) for every image that failed."
  returned: always
  type: list
  elements: str
duration:
  description: Seconds the task took.
  returned: always
  type: float
"""

from typing import Any, Dict, List

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.apply import CatalogRun, kind_of
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.entries import (
    definition_checksum_blocks, entry_checksum_blocks,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.options import CatalogOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.rules import (
    FANOUT_CHOICES, refuse_module_side_manifests,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.glue.module import CollectionModule
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.args import with_task_options
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.sums import ChecksumBlock


def argument_spec() -> Dict[str, Any]:
    """image_catalog_apply's options (a fresh dict each call: AnsibleModule changes it). Entries are plain dicts
    here: the module checks them itself (catalog/rules.py), so a message can name the entry."""
    spec: Dict[str, Any] = {
        "cluster": {"type": "bool", "default": False},
        "catalog": {"type": "str", "default": "default"},
        "namespaces": {"type": "list", "elements": "str"},
        "create_namespaces": {"type": "bool", "default": False},
        "images": {"type": "list", "elements": "dict", "default": []},
        "images_option": {"type": "str", "default": "images"},
        "manifests": {"type": "list", "elements": "str", "default": []},
        "definitions": {"type": "list", "elements": "dict", "default": []},
        "prune": {"type": "bool", "default": False},
        "recreate": {"type": "bool", "default": False},
        "fanout": {"type": "str", "choices": list(FANOUT_CHOICES), "default": "none"},
    }
    return with_task_options(spec)


class CatalogModule(CollectionModule[CatalogOptions]):
    """image_catalog_apply."""

    def argument_spec(self) -> Dict[str, Any]:
        return argument_spec()

    def checksum_blocks(self, params: Dict[str, Any]) -> List[ChecksumBlock]:
        """The checksums of the entries and of the definitions; first (before a sums file is fetched) the refusal
        of ``manifests`` the action plugin did not read."""
        refuse_module_side_manifests(params)
        return entry_checksum_blocks(params, kind_of(params["cluster"])) + definition_checksum_blocks(
            params["definitions"])

    def request(self, params: Dict[str, Any]) -> CatalogOptions:
        return CatalogOptions.from_params(params, kind_of(params["cluster"]))

    def execute(self, client: Client, request: CatalogOptions, tracker: Tracker) -> Dict[str, Any]:
        return CatalogRun(client, request).run()


def main() -> None:
    """Entry point: the class above says what the module takes and does; the glue base runs it."""
    CatalogModule().main()


if __name__ == "__main__":
    main()
