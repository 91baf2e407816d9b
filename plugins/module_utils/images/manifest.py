# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Typed image options -> the VirtualImage / ClusterVirtualImage manifest (and its pull Secret)."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any, Dict, Mapping, Optional, Protocol, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    API_VERSION, DEFAULT_STORAGE, OWNED_SECRET_LABEL, PULL_SECRET_TYPE, SOURCE_TYPES, Kind,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.image import ImageOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.validation import chosen_source

DEFAULT_SECRET_NAMESPACE = "default"


class Described(Protocol):
    """What object_metadata reads of typed options (an image's, a disk's or a snapshot's)."""

    @property
    def name(self) -> Optional[str]: ...

    @property
    def namespace(self) -> Optional[str]: ...

    @property
    def labels(self) -> Optional[Dict[str, Any]]: ...

    @property
    def annotations(self) -> Optional[Dict[str, Any]]: ...


class Sourced(Described, Protocol):
    """What the ``source`` builders read of typed options (an image's or a disk's: the same ``source`` blocks)."""

    @property
    def source(self) -> Optional[Dict[str, Any]]: ...


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _checksum(checksum: Optional[Mapping[str, Any]]) -> Optional[Dict[str, str]]:
    """Digests in lower case: DVP v1.10 compares the importer's lower-case hex with the spec as written, so an
    upper-case digest never matches (the import retries for a quarter of an hour, then fails)."""
    given = {algo: str(value).lower() for algo, value in (checksum or {}).items() if value is not None}
    return given or None


def _drop_none(block: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in block.items() if value is not None}


def owned_secret_ref(options: Sourced, kind: Kind) -> Optional[Tuple[str, str]]:
    """(namespace, name) of the pull Secret the module manages, or None without credentials."""
    block = (options.source or {}).get("container_image") or {}
    if block.get("registry_credentials") is None:
        return None
    default_name = "%s-registry-credentials" % options.name
    given = block.get("image_pull_secret")
    if kind.namespaced:
        return str(options.namespace), given or default_name
    given = given or {}
    return given.get("namespace") or DEFAULT_SECRET_NAMESPACE, given.get("name") or default_name


def data_source(options: Sourced, kind: Kind) -> Dict[str, Any]:
    """``spec.dataSource`` for the options' one ``source`` block, for an image or a disk (the same blocks)."""
    source = options.source or {}
    key = chosen_source(source)
    ds_type, api_key = SOURCE_TYPES[key]
    block = source[key]
    if key == "http":
        body = _drop_none({"url": block["url"], "checksum": _checksum(block.get("checksum")),
                           "caBundle": _b64(block["ca_bundle"]) if block.get("ca_bundle") else None})
    elif key == "container_image":
        body = _drop_none({"image": block["image"],
                           "caBundle": _b64(block["ca_bundle"]) if block.get("ca_bundle") else None})
        owned = owned_secret_ref(options, kind)
        secret = block.get("image_pull_secret")
        if owned is not None:
            ref = {"name": owned[1]}
            if not kind.namespaced:
                ref["namespace"] = owned[0]
            body["imagePullSecret"] = ref
        elif secret:
            body["imagePullSecret"] = {"name": secret} if kind.namespaced else _drop_none(dict(secret))
    elif key == "object_ref":
        body = {"kind": block["kind"], "name": block["name"]}
        if not kind.namespaced and block.get("namespace") and block["kind"] != "ClusterVirtualImage":
            body["namespace"] = block["namespace"]
    else:
        body = _drop_none({"checksum": _checksum(block.get("checksum"))})
    chosen: Dict[str, Any] = {"type": ds_type}
    if body or key != "upload":
        chosen[api_key] = body
    return chosen


def object_metadata(options: Described, kind: Kind) -> Dict[str, Any]:
    """name, namespace (namespaced kinds), labels and annotations (values as strings) of the object to write."""
    metadata: Dict[str, Any] = {"name": options.name}
    if kind.namespaced:
        metadata["namespace"] = options.namespace
    for key, given in (("labels", options.labels), ("annotations", options.annotations)):
        if given:
            metadata[key] = {k: str(v) for k, v in given.items()}
    return metadata


def build_manifest(options: ImageOptions, kind: Kind) -> Dict[str, Any]:
    """The object the options describe (only fields the user controls)."""
    if options.definition is not None:
        manifest = copy.deepcopy(options.definition)
        if kind.namespaced:
            manifest["spec"].setdefault("storage", DEFAULT_STORAGE)
        return manifest
    metadata = object_metadata(options, kind)
    spec: Dict[str, Any] = {"dataSource": data_source(options, kind)}
    if kind.namespaced:
        spec["storage"] = options.storage or DEFAULT_STORAGE
        if options.storage_class:
            spec["persistentVolumeClaim"] = {"storageClassName": options.storage_class}
    return {"apiVersion": API_VERSION, "kind": kind.kind, "metadata": metadata, "spec": spec}


def registry_host(image: str) -> str:
    """The registry part of an image reference (Docker's rule for the first path element)."""
    first, sep, _rest = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def dockerconfigjson(image: str, username: str, password: str) -> str:
    """The ``.dockerconfigjson`` content for one registry, base64-encoded for Secret.data."""
    auth = _b64("%s:%s" % (username, password))
    config = {"auths": {registry_host(image): {"username": username, "password": password, "auth": auth}}}
    return _b64(json.dumps(config, sort_keys=True, separators=(",", ":")))


def build_pull_secret(options: Sourced, kind: Kind) -> Optional[Dict[str, Any]]:
    """The dockerconfigjson Secret the module owns, or None when no credentials are given."""
    ref = owned_secret_ref(options, kind)
    if ref is None:
        return None
    block = (options.source or {})["container_image"]
    creds = block["registry_credentials"]
    owner = "%s.%s" % (kind.plural, options.namespace if kind.namespaced else "cluster")
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": PULL_SECRET_TYPE,
        "metadata": {"name": ref[1], "namespace": ref[0],
                     "labels": {OWNED_SECRET_LABEL: owner[:63].rstrip(".-")},
                     "annotations": {OWNED_SECRET_LABEL: "%s/%s" % (owner, options.name)}},
        "data": {".dockerconfigjson": dockerconfigjson(block["image"], creds["username"], creds["password"])},
    }
