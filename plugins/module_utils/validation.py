# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""All option checks, run before any request, with messages naming the option."""

from __future__ import annotations

import base64
import binascii
import os
import re
from typing import Any, Dict, List, Mapping, Optional
from urllib.parse import urlparse

from ansible_collections.deckhouse.virtualization.plugins.module_utils.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.kinds import (
    API_VERSION, CHECKSUM_LENGTHS, SOURCE_KINDS, SOURCE_TYPES, Kind,
)

_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_RE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_PREFIX_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_HEX_RE = re.compile(r"^[0-9a-fA-F]*$")
_PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)
# A registry reference: [host[:port]/]path[:tag][@algo:hex]; lower-case path, no scheme.
_IMAGE_RE = re.compile(
    r"^(?:(?:localhost|[\w-]+(?:\.[\w-]+)+|[\w-]+:\d+)(?::\d+)?/)?"
    r"[a-z0-9_.-]+(?:/[a-z0-9_.-]+)*(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*:[0-9a-fA-F]{32,})?$"
)
TYPED_OPTIONS = ("source", "storage", "storage_class", "labels", "annotations")
NOT_SUPPORTED_UPLOAD = ("a definition (or src) with dataSource type Upload names no file to send: use source.upload, "
                        "or create the image and run virtual_image_upload")


def check_name(value: Any, option: str, kind: str) -> None:
    """Kubernetes name rules plus the platform's rule that forbids dots."""
    if not isinstance(value, str) or not value:
        raise ValidationError("%s is required" % option)
    if "." in value:
        raise ValidationError(
            "%s: the %s name %r is invalid: '.' is forbidden, allowed name symbols are [0-9a-zA-Z-]"
            % (option, kind, value))
    if len(value) > 253 or not _NAME_RE.match(value):
        raise ValidationError(
            "%s %r is invalid: use at most 253 lower-case letters, digits and '-', "
            "starting and ending with a letter or digit" % (option, value))


def check_metadata_keys(mapping: Optional[Mapping[str, Any]], option: str, values_too: bool) -> None:
    """Label/annotation keys (and label values) as the API server's validation accepts them."""
    for key, value in (mapping or {}).items():
        key = str(key)
        prefix, _sep, name = key.rpartition("/")
        if (prefix and (len(prefix) > 253 or not _PREFIX_RE.match(prefix))) or len(name) > 63 \
                or not _QUALIFIED_RE.match(name):
            raise ValidationError("%s: key %r is invalid: use an optional DNS prefix and '/', then at most 63 "
                                  "letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
                                  % (option, key))
        text = "" if value is None else str(value)
        if values_too and text and (len(text) > 63 or not _QUALIFIED_RE.match(text)):
            raise ValidationError("%s: value of %r is invalid: at most 63 letters, digits, '-', '_' or '.', "
                                  "starting and ending with a letter or digit" % (option, key))


def check_namespace(value: Any, option: str = "namespace") -> None:
    """A namespace is a DNS-1123 label."""
    if not isinstance(value, str) or not value:
        raise ValidationError("%s is required" % option)
    if len(value) > 63 or not _NAME_RE.match(value):
        raise ValidationError(
            "%s %r is invalid: use at most 63 lower-case letters, digits and '-', "
            "starting and ending with a letter or digit" % (option, value))


def check_checksums(checksum: Optional[Mapping[str, Any]], option: str) -> None:
    """Every given checksum has its algorithm's length and is hex."""
    for algo, value in (checksum or {}).items():
        if value is None:
            continue
        length = CHECKSUM_LENGTHS[algo]
        if not isinstance(value, str) or len(value) != length:
            got = len(value) if isinstance(value, str) else type(value).__name__
            raise ValidationError("%s.%s must be %d hex characters, got %s" % (option, algo, length, got))
        if not _HEX_RE.match(value):
            raise ValidationError("%s.%s must be %d hex characters, got non-hex characters"
                                  % (option, algo, length))


def check_pem(value: Optional[str], option: str) -> None:
    """The CA bundle is PEM text holding at least one well-formed certificate."""
    if value is None:
        return
    blocks = _PEM_RE.findall(value)
    if not blocks:
        raise ValidationError("%s must be PEM text with at least one "
                              "'-----BEGIN CERTIFICATE-----' block" % option)
    for index, body in enumerate(blocks):
        try:
            der = base64.b64decode("".join(body.split()), validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("%s: certificate %d is not valid base64" % (option, index + 1))
        if not der or der[0] != 0x30:
            raise ValidationError("%s: certificate %d is not a DER certificate" % (option, index + 1))


def check_pem_file(path: Optional[str], option: str) -> None:
    """A CA file option names a readable file of PEM certificates (not a TLS error later)."""
    if not path:
        return
    try:
        with open(path, encoding="utf-8", errors="replace") as stream:
            text = stream.read()
    except OSError as exc:
        raise ValidationError("%s %r is not a readable file: %s" % (option, path, exc.strerror or exc))
    check_pem(text, "%s (%s)" % (option, path))


def check_url(value: str, option: str) -> None:
    """Only http and https, with a host, as the platform accepts."""
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https"):
        raise ValidationError("%s must use the http or https scheme, got %r" % (option, parsed.scheme or value))
    if not parsed.netloc or any(c.isspace() for c in value):
        raise ValidationError("%s must be an absolute URL with a host and no spaces" % option)


def chosen_source(source: Optional[Mapping[str, Any]]) -> str:
    """Name of the one source block given; error when none or several."""
    given = [key for key in SOURCE_TYPES if (source or {}).get(key) is not None]
    if len(given) != 1:
        raise ValidationError("source must have exactly one of %s, got %s"
                              % (", ".join(SOURCE_TYPES), ", ".join(given) or "none"))
    return given[0]


def _check_source(source: Mapping[str, Any], kind: Kind) -> None:
    key = chosen_source(source)
    block = source[key]
    option = "source." + key
    if key == "http":
        check_url(block["url"], option + ".url")
        check_checksums(block.get("checksum"), option + ".checksum")
        check_pem(block.get("ca_bundle"), option + ".ca_bundle")
    elif key == "container_image":
        if not _IMAGE_RE.match(block["image"]):
            raise ValidationError("%s.image must be a registry reference like "
                                  "registry.example.com/images/disk:1.0 (no scheme), got %r"
                                  % (option, block["image"]))
        check_pem(block.get("ca_bundle"), option + ".ca_bundle")
        _check_pull_secret(block, option, kind)
    elif key == "object_ref":
        if block["kind"] not in SOURCE_KINDS:
            raise ValidationError("%s.kind must be one of %s" % (option, ", ".join(SOURCE_KINDS)))
        check_name(block["name"], option + ".name", block["kind"])
        needs_ns = block["kind"] != "ClusterVirtualImage"
        if not kind.namespaced and needs_ns:
            check_namespace(block.get("namespace"), option + ".namespace")
    else:
        path = block["path"]
        if not os.path.isfile(path):
            raise ValidationError("%s.path %r is not a readable file" % (option, path))
        check_checksums(block.get("checksum"), option + ".checksum")


def _check_pull_secret(block: Mapping[str, Any], option: str, kind: Kind) -> None:
    secret = block.get("image_pull_secret")
    if secret is None:
        return
    if kind.namespaced:
        check_name(secret, option + ".image_pull_secret", "Secret")
        return
    if secret.get("name") is not None:
        check_name(secret["name"], option + ".image_pull_secret.name", "Secret")
    elif block.get("registry_credentials") is None:
        raise ValidationError("%s.image_pull_secret.name is required" % option)
    if secret.get("namespace") is None and block.get("registry_credentials") is None:
        raise ValidationError("%s.image_pull_secret.namespace is required" % option)
    if secret.get("namespace") is not None:
        check_namespace(secret["namespace"], option + ".image_pull_secret.namespace")


def _check_definition(definition: Any, kind: Kind) -> None:
    if not isinstance(definition, dict):
        raise ValidationError("definition must be a mapping (or YAML text of one) describing a %s" % kind.kind)
    if definition.get("kind") != kind.kind or definition.get("apiVersion") != API_VERSION:
        raise ValidationError("definition must have kind %s and apiVersion %s, got kind %r apiVersion %r"
                              % (kind.kind, API_VERSION, definition.get("kind"), definition.get("apiVersion")))
    if not isinstance(definition.get("spec"), dict):
        raise ValidationError("definition.spec must be a mapping")


def validate(params: Dict[str, Any], kind: Kind) -> None:
    """Check the image module options; raises ValidationError on the first problem.

    Expects ``definition`` to be already parsed (see spec.load_definition) and
    name/namespace already filled from it.
    """
    typed: List[str] = [opt for opt in TYPED_OPTIONS if params.get(opt) is not None]
    if params.get("definition") is not None and typed:
        raise ValidationError("definition/src cannot be combined with %s" % ", ".join(typed))
    check_name(params.get("name"), "name", kind.kind)
    if kind.namespaced:
        check_namespace(params.get("namespace"))
    if params.get("wait_timeout") is not None and params["wait_timeout"] < 0:
        raise ValidationError("wait_timeout must be >= 0, got %s" % params["wait_timeout"])
    if params.get("state") == "absent":
        return
    check_metadata_keys(params.get("labels"), "labels", values_too=True)
    check_metadata_keys(params.get("annotations"), "annotations", values_too=False)
    if params.get("definition") is not None:
        _check_definition(params["definition"], kind)
        return
    if params.get("source") is None:
        raise ValidationError("source is required when state is present")
    _check_source(params["source"], kind)
    if params.get("storage_class") is not None and params.get("storage") != "PersistentVolumeClaim":
        raise ValidationError("storage_class needs storage: PersistentVolumeClaim")


def reject_unsupported(params: Mapping[str, Any]) -> None:
    """Features whose options exist but whose behaviour is not built yet."""
    if params.get("state") == "absent":
        return
    definition = params.get("definition") or {}
    from_definition = ((definition.get("spec") or {}).get("dataSource") or {}).get("type") == "Upload"
    if from_definition:
        raise ValidationError(NOT_SUPPORTED_UPLOAD)
