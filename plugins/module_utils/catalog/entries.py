# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Catalog entries -> the objects the catalog wants, per namespace.

An entry is the short form users write in a role variable
(``{name, url | image | path | from, checksum, ...}``) or a manifest read from a
file. Each is turned into the typed options of the image modules and checked by
the same validator and built by the same spec builder as ``virtual_image``, so a
catalog and a single-image task can never disagree about what a field means.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any, Dict, List, Mapping, NamedTuple, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.rules import (
    check_catalog_entry, track_version, validate_catalog_options,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.checks import check_name, check_namespace
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    API_VERSION, CLUSTER_VIRTUAL_IMAGE, DEFAULT_STORAGE, Kind,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.labels import (
    CATALOG_LABEL, FANOUT_LABEL, TRACK_LABEL, VERSION_LABEL,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.manifest import build_manifest
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.image import ImageOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.validation import validate_content
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.sums import (
    ChecksumBlock, manifest_checksum_blocks,
)


class Track(NamedTuple):
    """What makes an entry a track: its name, how many versions to keep, the version its source is today."""

    name: str
    keep: int
    version: str

    @property
    def image_name(self) -> str:
        """The image of today's version."""
        return "%s-%s" % (self.name, self.version)


class Entry(NamedTuple):
    """One image of the catalog, validated."""

    label: str                      # how messages name it: "images[2] (debian-12)"
    name: str
    options: ImageOptions           # the image's typed options, without a namespace (filled per namespace)
    source: str                     # url | image | path | from | manifest
    namespace: Optional[str] = None  # a manifest may pin its namespace
    track: Optional[Track] = None   # set for an entry with keep: options name today's version

    @property
    def upload_path(self) -> Optional[str]:
        """The local file to upload, for ``path`` entries."""
        upload = (self.options.source or {}).get("upload")
        return upload["path"] if upload else None


class Wanted(NamedTuple):
    """One object the catalog wants, with the entry it comes from."""

    entry: Entry
    kind: Kind
    namespace: Optional[str]
    manifest: Dict[str, Any]
    hub: Optional[str] = None       # the fan-out ClusterVirtualImage it copies from


def _entry_label(option: str, index: int, raw: Mapping[str, Any]) -> str:
    name = raw.get("name") if isinstance(raw, Mapping) else None
    return "%s[%d]%s" % (option, index, " (%s)" % name if isinstance(name, str) else "")


def _clean(mapping: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    given = {k: v for k, v in (mapping or {}).items() if v is not None}
    return given or None


def _source_options(raw: Mapping[str, Any], chosen: str, kind: Kind) -> Dict[str, Any]:
    """The ``source`` option of the image modules for an entry."""
    if chosen == "url":
        return {"http": {"url": raw["url"], "checksum": _clean(raw.get("checksum")), "ca_bundle": raw.get("ca_bundle")}}
    if chosen == "image":
        secret = raw.get("image_pull_secret")
        if not kind.namespaced and isinstance(secret, str):
            raise ValidationError("image_pull_secret must be {name, namespace} for a ClusterVirtualImage")
        if kind.namespaced and isinstance(secret, Mapping):
            raise ValidationError("image_pull_secret must be the name of a Secret in each namespace")
        return {"container_image": {"image": raw["image"], "image_pull_secret": secret,
                                    "ca_bundle": raw.get("ca_bundle")}}
    if chosen == "path":
        return {"upload": {"path": raw["path"], "checksum": _clean(raw.get("checksum"))}}
    ref = raw["from"]
    if not isinstance(ref, Mapping) or not ref.get("kind") or not ref.get("name"):
        raise ValidationError("from must be an object reference {kind, name%s}"
                              % ("" if kind.namespaced else ", namespace"))
    return {"object_ref": {"kind": ref["kind"], "name": ref["name"], "namespace": ref.get("namespace")}}


def entry_checksum_blocks(params: Mapping[str, Any], kind: Kind) -> List[ChecksumBlock]:
    """The checksums of every ``images`` entry (``url`` and ``path`` entries name the file a sums file lists), each
    entry's fields checked first: a misplaced checksum is named as such, not read."""
    option = params.get("images_option") or "images"
    blocks = []
    for index, raw in enumerate(params.get("images") or []):
        if not isinstance(raw, dict):
            continue   # parse_entry names it
        label = _entry_label(option, index, raw)
        try:
            check_catalog_entry(raw, kind)
        except ValidationError as exc:
            raise ValidationError("%s: %s" % (label, exc.msg))
        blocks.append(ChecksumBlock(raw, "%s: checksum" % label))
    return blocks


def parse_entry(index: int, raw: Any, kind: Kind, catalog: str, option: str = "images") -> Entry:
    """Check one ``images`` entry and turn it into typed module options."""
    label = _entry_label(option, index, raw if isinstance(raw, Mapping) else {})
    try:
        if not isinstance(raw, Mapping):
            raise ValidationError("must be a mapping, got %s" % type(raw).__name__)
        chosen = check_catalog_entry(raw, kind)
        check_name(raw["name"], "name", kind.kind)
        version = track_version(raw)
        track = Track(raw["name"], raw["keep"], version) if version is not None else None
        labels = _owned_labels(raw.get("labels"), catalog)
        if track is not None:
            labels.update({TRACK_LABEL: track.name, VERSION_LABEL: track.version})
        options = ImageOptions(name=track.image_name if track else raw["name"],
                               source=_source_options(raw, chosen, kind), labels=labels)
        if kind.namespaced:
            options = options._replace(storage=raw.get("storage") or DEFAULT_STORAGE,
                                       storage_class=raw.get("storage_class"))
        check_name(options.name, "name (with its version)" if track else "name", kind.kind)
        validate_content(options, kind)
    except ValidationError as exc:
        raise ValidationError("%s: %s" % (label, exc.msg))
    return Entry(label, raw["name"], options, chosen, track=track)


def _manifest_label(origin: str, manifest: Any) -> str:
    """How messages name a manifest of the catalog: ``<file> (<name>)``."""
    meta = (manifest.get("metadata") or {}) if isinstance(manifest, Mapping) else {}
    return "%s (%s)" % (origin, meta.get("name") or "no name")


def definition_checksum_blocks(definitions: List[Mapping[str, Any]]) -> List[ChecksumBlock]:
    """The checksums of every manifest of the catalog (``spec.dataSource.http`` and ``.upload``)."""
    return [block for item in definitions for block in manifest_checksum_blocks(
        item.get("manifest"), "%s: " % _manifest_label(item.get("origin") or "manifest", item.get("manifest")))]


def parse_manifest(origin: str, manifest: Any, kind: Kind, catalog: str) -> Entry:
    """A whole manifest (from ``image_catalog_manifests``) as an entry."""
    meta = (manifest.get("metadata") or {}) if isinstance(manifest, Mapping) else {}
    label = _manifest_label(origin, manifest)
    try:
        if not isinstance(manifest, Mapping):
            raise ValidationError("must be a mapping describing a %s" % kind.kind)
        definition = {"apiVersion": manifest.get("apiVersion"), "kind": manifest.get("kind"),
                      "metadata": {"name": meta.get("name"),
                                   "labels": _owned_labels(meta.get("labels"), catalog)},
                      "spec": copy.deepcopy(manifest.get("spec"))}
        if meta.get("annotations"):
            definition["metadata"]["annotations"] = dict(meta["annotations"])
        options = ImageOptions(name=meta.get("name"), definition=definition)
        check_name(options.name, "name", kind.kind)
        if kind.namespaced and meta.get("namespace") is not None:
            check_namespace(meta["namespace"])
        validate_content(options, kind)
    except ValidationError as exc:
        raise ValidationError("%s: %s" % (label, exc.msg))
    return Entry(label, str(options.name), options, "manifest", meta.get("namespace") if kind.namespaced else None)


def _owned_labels(labels: Optional[Mapping[str, Any]], catalog: str) -> Dict[str, str]:
    owned = {str(k): str(v) for k, v in (labels or {}).items()}
    owned[CATALOG_LABEL] = catalog
    return owned


def parse_catalog(params: Mapping[str, Any], kind: Kind) -> List[Entry]:
    """Every entry and manifest, checked; names unique per namespace."""
    validate_catalog_options(params, kind)
    catalog = params["catalog"]
    namespaces = params.get("namespaces") or []
    option = params.get("images_option") or "images"
    entries = [parse_entry(i, raw, kind, catalog, option) for i, raw in enumerate(params.get("images") or [])]
    for item in params.get("definitions") or []:
        entry = parse_manifest(item.get("origin") or "manifest", item.get("manifest"), kind, catalog)
        if entry.namespace and entry.namespace not in namespaces:
            raise ValidationError("%s: its namespace %s is not one of the catalog's namespaces"
                                  % (entry.label, entry.namespace))
        entries.append(entry)
    _check_unique(entries)
    return entries


def _check_unique(entries: List[Entry]) -> None:
    """Two entries may share a name only when pinned to different namespaces; an image name, and a track name,
    belongs to one entry."""
    for index, entry in enumerate(entries):
        for other in entries[:index]:
            overlap = entry.namespace is None or other.namespace is None or entry.namespace == other.namespace
            clash = {entry.name, entry.options.name} & {other.name, other.options.name} \
                if entry.track or other.track else {entry.name} & {other.name}
            if clash and overlap:
                raise ValidationError("%s: the name %s is already used by %s" % (entry.label, clash.pop(), other.label))


def fanout_source(manifest: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """The dataSource a hub ClusterVirtualImage can download once, or None when it cannot be shared.

    Only remote downloads are shared: HTTP, and registry images without a pull Secret
    (a Secret lives in one namespace; the hub could not read it from everywhere).
    """
    source = (manifest.get("spec") or {}).get("dataSource") or {}
    if source.get("type") == "HTTP":
        return copy.deepcopy(source)
    if source.get("type") == "ContainerImage" and not (source.get("containerImage") or {}).get("imagePullSecret"):
        return copy.deepcopy(source)
    return None


def hub_name(catalog: str, data_source: Mapping[str, Any]) -> str:
    """A stable name per distinct source: the same URL always maps to the same hub."""
    digest = hashlib.sha256(json.dumps(data_source, sort_keys=True).encode("utf-8")).hexdigest()[:10]
    return "%s-src-%s" % (catalog, digest)


def hub_manifest(catalog: str, name: str, data_source: Mapping[str, Any]) -> Dict[str, Any]:
    """The hub ClusterVirtualImage: downloaded once, copied in-cluster by every namespace."""
    return {"apiVersion": API_VERSION, "kind": CLUSTER_VIRTUAL_IMAGE.kind,
            "metadata": {"name": name, "labels": {FANOUT_LABEL: catalog}},
            "spec": {"dataSource": copy.deepcopy(dict(data_source))}}


def wanted_objects(entries: List[Entry], kind: Kind, namespaces: List[Optional[str]], catalog: str,
                   fanout: str) -> List[Wanted]:
    """Every object the catalog wants (hubs first), in a stable order."""
    hubs: Dict[str, Wanted] = {}
    wanted: List[Wanted] = []
    for namespace in namespaces:
        for entry in entries:
            if entry.namespace and entry.namespace != namespace:
                continue
            options = entry.options
            if kind.namespaced:
                options = options._replace(namespace=namespace)
                if options.definition is not None:
                    definition = copy.deepcopy(options.definition)
                    definition["metadata"]["namespace"] = namespace
                    options = options._replace(definition=definition)
            manifest = build_manifest(options, kind)
            hub = None
            shared = fanout_source(manifest) if kind.namespaced and fanout == "cluster" else None
            if shared is not None:
                hub = hub_name(catalog, shared)
                if hub not in hubs:
                    made = hub_manifest(catalog, hub, shared)
                    if entry.track:   # its track retires it when no version wants it (catalog/apply.py)
                        made["metadata"]["labels"][TRACK_LABEL] = entry.track.name
                    hubs[hub] = Wanted(entry, CLUSTER_VIRTUAL_IMAGE, None, made)
                manifest["spec"]["dataSource"] = {"type": "ObjectRef",
                                                  "objectRef": {"kind": CLUSTER_VIRTUAL_IMAGE.kind, "name": hub}}
            wanted.append(Wanted(entry, kind, namespace, manifest, hub))
    return list(hubs.values()) + wanted
