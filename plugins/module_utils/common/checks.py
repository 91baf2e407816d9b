# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The rules one value must follow (names, namespaces, label keys, checksums, PEM, URLs, sizes, timeouts), each raising
a ValidationError that names the option. Every module family's checks are built from these."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, Mapping, Optional
from urllib.parse import urlparse

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import CHECKSUM_LENGTHS
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.quantity import parse_quantity

LABEL_VALUE_MAX = 63   # Kubernetes: a label value, a label key's name part, a DNS label
_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_RE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_PREFIX_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_HEX_RE = re.compile(r"^[0-9a-fA-F]*$")
_PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)


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


def is_name_part(value: Any, limit: int = LABEL_VALUE_MAX) -> bool:
    """A DNS label: what may stand in a name, a namespace or a label value and be joined with '-'."""
    return isinstance(value, str) and 0 < len(value) <= limit and bool(_NAME_RE.match(value))


def check_metadata_keys(mapping: Optional[Mapping[str, Any]], option: str, values_too: bool) -> None:
    """Label/annotation keys (and label values) as the API server's validation accepts them."""
    for key, value in (mapping or {}).items():
        key = str(key)
        prefix, _sep, name = key.rpartition("/")
        if (prefix and (len(prefix) > 253 or not _PREFIX_RE.match(prefix))) or len(name) > LABEL_VALUE_MAX \
                or not _QUALIFIED_RE.match(name):
            raise ValidationError("%s: key %r is invalid: use an optional DNS prefix and '/', then at most 63 "
                                  "letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
                                  % (option, key))
        text = "" if value is None else str(value)
        if values_too and text and (len(text) > LABEL_VALUE_MAX or not _QUALIFIED_RE.match(text)):
            raise ValidationError("%s: value of %r is invalid: at most 63 letters, digits, '-', '_' or '.', "
                                  "starting and ending with a letter or digit" % (option, key))


def check_namespace(value: Any, option: str = "namespace") -> None:
    """A namespace is a DNS-1123 label."""
    if not isinstance(value, str) or not value:
        raise ValidationError("%s is required" % option)
    if not is_name_part(value):
        raise ValidationError(
            "%s %r is invalid: use at most 63 lower-case letters, digits and '-', "
            "starting and ending with a letter or digit" % (option, value))


def is_digest(algorithm: str, value: Any) -> bool:
    """``value`` is a digest of ``algorithm``: its length of hex characters."""
    return isinstance(value, str) and len(value) == CHECKSUM_LENGTHS[algorithm] and bool(_HEX_RE.match(value))


def check_checksums(checksum: Optional[Mapping[str, Any]], option: str) -> None:
    """Every given checksum has its algorithm's length and is hex."""
    for algo, value in (checksum or {}).items():
        if value is None:
            continue
        length = CHECKSUM_LENGTHS[algo]
        if not isinstance(value, str) or len(value) != length:
            got = len(value) if isinstance(value, str) else type(value).__name__
            raise ValidationError("%s.%s must be %d hex characters (or the http(s) URL of a sums file), got %s"
                                  % (option, algo, length, got))
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


def check_wait_timeout(value: Optional[float]) -> None:
    """A negative wait_timeout is a mistake, not "no wait" (that is ``wait: false``)."""
    if value is not None and value < 0:
        raise ValidationError("wait_timeout must be >= 0, got %s" % value)


def check_size(value: Any, option: str) -> None:
    """A size is a positive Kubernetes quantity of whole bytes (``10Gi``, ``512M``)."""
    try:
        size = parse_quantity(value)
    except ValueError:
        raise ValidationError("%s must be a size like 10Gi or 512Mi (a Kubernetes quantity), got %r" % (option, value))
    if size <= 0:
        raise ValidationError("%s must be greater than 0, got %r" % (option, value))
    if size != size.to_integral_value():
        raise ValidationError("%s must be a whole number of bytes, got %r" % (option, value))
