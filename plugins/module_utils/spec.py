# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Typed module options -> the VirtualImage / ClusterVirtualImage manifest (and its pull Secret)."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any, Dict, Mapping, Optional, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.kinds import (
    API_VERSION, OWNED_SECRET_LABEL, PULL_SECRET_TYPE, SOURCE_TYPES, Kind,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.validation import chosen_source

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_YAML = False

DEFAULT_STORAGE = "ContainerRegistry"
DEFAULT_SECRET_NAMESPACE = "default"


def load_definition(params: Dict[str, Any]) -> None:
    """Parse ``definition`` (YAML text or dict) in place and fill name/namespace from it.

    Explicit ``name``/``namespace`` options win over the manifest, as in kubernetes.core.
    """
    definition = params.get("definition")
    if definition is not None and params.get("src"):
        raise ValidationError("definition and src are mutually exclusive")
    if params.get("src"):
        try:
            with open(params["src"], encoding="utf-8") as stream:
                definition = stream.read()
        except OSError as exc:
            raise ValidationError("src %r cannot be read: %s" % (params["src"], exc.strerror))
    if definition is None:
        return
    if isinstance(definition, str):
        try:
            definition = yaml.safe_load(definition)
        except yaml.YAMLError as exc:
            raise ValidationError("definition is not valid YAML: %s" % exc)
    if not isinstance(definition, dict):
        raise ValidationError("definition must be a mapping (or YAML text of one)")
    definition = copy.deepcopy(definition)
    meta = definition.setdefault("metadata", {}) or {}
    definition["metadata"] = meta
    for key in ("name", "namespace"):
        if params.get(key) is not None:
            meta[key] = params[key]
        elif meta.get(key) is not None:
            params[key] = meta[key]
    params["definition"] = definition
    params["src"] = None


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _checksum(checksum: Optional[Mapping[str, Any]]) -> Optional[Dict[str, str]]:
    given = {algo: value for algo, value in (checksum or {}).items() if value is not None}
    return given or None


def _drop_none(block: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in block.items() if value is not None}


def owned_secret_ref(params: Mapping[str, Any], kind: Kind) -> Optional[Tuple[str, str]]:
    """(namespace, name) of the pull Secret the module manages, or None without credentials."""
    block = (params.get("source") or {}).get("container_image") or {}
    if block.get("registry_credentials") is None:
        return None
    default_name = "%s-registry-credentials" % params["name"]
    given = block.get("image_pull_secret")
    if kind.namespaced:
        return params["namespace"], given or default_name
    given = given or {}
    return given.get("namespace") or DEFAULT_SECRET_NAMESPACE, given.get("name") or default_name


def _data_source(params: Mapping[str, Any], kind: Kind) -> Dict[str, Any]:
    source = params["source"]
    key = chosen_source(source)
    ds_type, api_key = SOURCE_TYPES[key]
    block = source[key]
    if key == "http":
        body = _drop_none({"url": block["url"], "checksum": _checksum(block.get("checksum")),
                           "caBundle": _b64(block["ca_bundle"]) if block.get("ca_bundle") else None})
    elif key == "container_image":
        body = _drop_none({"image": block["image"],
                           "caBundle": _b64(block["ca_bundle"]) if block.get("ca_bundle") else None})
        owned = owned_secret_ref(params, kind)
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
    data_source: Dict[str, Any] = {"type": ds_type}
    if body or key != "upload":
        data_source[api_key] = body
    return data_source


def build_manifest(params: Mapping[str, Any], kind: Kind) -> Dict[str, Any]:
    """The object the options describe (only fields the user controls)."""
    if params.get("definition") is not None:
        manifest = copy.deepcopy(params["definition"])
        if kind.namespaced:
            manifest["spec"].setdefault("storage", DEFAULT_STORAGE)
        return manifest
    metadata: Dict[str, Any] = {"name": params["name"]}
    if kind.namespaced:
        metadata["namespace"] = params["namespace"]
    for key in ("labels", "annotations"):
        if params.get(key):
            metadata[key] = {k: str(v) for k, v in params[key].items()}
    spec: Dict[str, Any] = {"dataSource": _data_source(params, kind)}
    if kind.namespaced:
        spec["storage"] = params.get("storage") or DEFAULT_STORAGE
        if params.get("storage_class"):
            spec["persistentVolumeClaim"] = {"storageClassName": params["storage_class"]}
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


def build_pull_secret(params: Mapping[str, Any], kind: Kind) -> Optional[Dict[str, Any]]:
    """The dockerconfigjson Secret the module owns, or None when no credentials are given."""
    ref = owned_secret_ref(params, kind)
    if ref is None:
        return None
    block = params["source"]["container_image"]
    creds = block["registry_credentials"]
    owner = "%s.%s" % (kind.plural, params["namespace"] if kind.namespaced else "cluster")
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": PULL_SECRET_TYPE,
        "metadata": {"name": ref[1], "namespace": ref[0],
                     "labels": {OWNED_SECRET_LABEL: owner[:63].rstrip(".-")},
                     "annotations": {OWNED_SECRET_LABEL: "%s/%s" % (owner, params["name"])}},
        "data": {".dockerconfigjson": dockerconfigjson(block["image"], creds["username"], creds["password"])},
    }
