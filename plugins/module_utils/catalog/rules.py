# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""image_catalog_apply's own option rules: the catalog's options and each entry's short form, checked before
any request with messages naming the option or field (an entry's image options are then the image modules')."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.checks import (
    LABEL_VALUE_MAX, check_name, check_namespace, check_wait_timeout, is_name_part,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    CHECKSUM_LENGTHS, STORAGE_CHOICES, Kind,
)

SOURCE_FIELDS = ("url", "image", "path", "from")
# Which entry fields make sense for which source field.
FIELD_SOURCES = {
    "checksum": ("url", "path"),
    "ca_bundle": ("url", "image"),
    "image_pull_secret": ("image",),
}
FANOUT_CHOICES = ("none", "cluster")
FIELD_TYPES: Dict[str, Any] = {
    "name": str, "url": str, "image": str, "path": str, "from": Mapping, "checksum": Mapping,
    "ca_bundle": str, "image_pull_secret": (str, Mapping), "storage": str, "storage_class": str, "labels": Mapping,
    "keep": int, "version": (str, int, float),   # a version written as a YAML number is read as its text
}
TYPE_WORDS = {Mapping: "mapping", int: "whole number"}
# A track's images are named <name>-<version> and labelled with both: each must be a label value too.
# Which digest names a track's versions when no version is given, and how much of it.
VERSION_DIGESTS = ("sha256", "sha512", "streebog256", "streebog512", "sha1", "md5")
VERSION_DIGEST_CHARS = 12
NAMESPACED_ONLY = ("storage", "storage_class")
REF_FIELDS = ("kind", "name", "namespace")


def _check_entry_fields(raw: Mapping[str, Any], kind: Kind) -> None:
    """Known fields of the right types (the role's argument spec cannot name the entry; this does)."""
    known = [f for f in FIELD_TYPES if kind.namespaced or f not in NAMESPACED_ONLY]
    for field, value in raw.items():
        if field not in known:
            raise ValidationError("unknown field %s; known fields: %s" % (field, ", ".join(known)))
        if value is not None and (not isinstance(value, FIELD_TYPES[field]) or isinstance(value, bool)):
            raise ValidationError("%s must be a %s, got %s" % (
                field, TYPE_WORDS.get(FIELD_TYPES[field], "string"), type(value).__name__))
    if raw.get("name") is None:
        raise ValidationError("name is required")
    if raw.get("storage") is not None and raw["storage"] not in STORAGE_CHOICES:
        raise ValidationError("storage must be one of %s, got %s" % (", ".join(STORAGE_CHOICES), raw["storage"]))
    for algo in (raw.get("checksum") or {}):
        if algo not in CHECKSUM_LENGTHS:
            raise ValidationError("checksum.%s is not a known algorithm; use %s" % (algo, ", ".join(CHECKSUM_LENGTHS)))
    for field in (raw.get("from") or {}):
        if field not in REF_FIELDS:
            raise ValidationError("from.%s is unknown; use %s" % (field, ", ".join(REF_FIELDS)))


def check_catalog_entry(raw: Mapping[str, Any], kind: Kind) -> str:
    """A catalog entry's fields (known, of the right types, fitting its source); its one source field."""
    _check_entry_fields(raw, kind)
    given = [field for field in SOURCE_FIELDS if raw.get(field) is not None]
    if len(given) != 1:
        raise ValidationError("give exactly one of %s, got %s" % (", ".join(SOURCE_FIELDS), ", ".join(given) or "none"))
    chosen = given[0]
    for field, sources in FIELD_SOURCES.items():
        if raw.get(field) is not None and chosen not in sources:
            raise ValidationError("%s cannot be used with %s (only with %s)" % (field, chosen, " or ".join(sources)))
    return chosen


def track_version(raw: Mapping[str, Any]) -> Optional[str]:
    """The version of a track entry (``keep``): its ``version``, else the first characters of its digest (checksums
    from a sums file are digests by now); None for an entry that is not a track. Checks ``keep`` and ``version``."""
    keep, version = raw.get("keep"), raw.get("version")
    version = None if version is None else str(version)
    if keep is None:
        if version is not None:
            raise ValidationError("version needs keep: an entry with keep is a track, and version names its newest "
                                  "image <name>-<version>")
        return None
    if keep < 1:
        raise ValidationError("keep must be at least 1 (the newest version is always kept), got %d" % keep)
    if len(raw["name"]) > LABEL_VALUE_MAX:
        raise ValidationError("name of a track (an entry with keep) must be at most %d characters, it labels every "
                              "version; got %d" % (LABEL_VALUE_MAX, len(raw["name"])))
    if version is None:
        checksum = raw.get("checksum") or {}
        digests = [checksum[algo] for algo in VERSION_DIGESTS if checksum.get(algo)]
        if not digests:
            raise ValidationError("keep needs version, or a checksum whose digest names the versions "
                                  "(a sums file URL works: checksum: {sha256: https://host/SHA256SUMS})")
        return digests[0][:VERSION_DIGEST_CHARS].lower()
    if not is_name_part(version, LABEL_VALUE_MAX):
        raise ValidationError("version %r is not a valid name part: use at most %d lower-case letters, digits and "
                              "'-', starting and ending with a letter or digit (the image is named <name>-<version>)"
                              % (version, LABEL_VALUE_MAX))
    return version


def validate_catalog_options(params: Mapping[str, Any], kind: Kind) -> None:
    """image_catalog_apply's own options (the entries are checked one by one by check_catalog_entry)."""
    catalog = params["catalog"]
    check_name(catalog, "catalog", "catalog")
    if len(catalog) > LABEL_VALUE_MAX:
        raise ValidationError("catalog must be at most %d characters (it is a label value), got %d"
                              % (LABEL_VALUE_MAX, len(catalog)))
    if params.get("fanout") not in FANOUT_CHOICES:
        raise ValidationError("fanout must be one of %s" % ", ".join(FANOUT_CHOICES))
    check_wait_timeout(params.get("wait_timeout"))
    namespaces = params.get("namespaces") or []
    if kind.namespaced:
        if not namespaces:
            raise ValidationError("namespaces must list at least one namespace")
        for index, namespace in enumerate(namespaces):
            check_namespace(namespace, "namespaces[%d]" % index)
    elif namespaces:
        raise ValidationError("namespaces do not apply to ClusterVirtualImages")


def refuse_module_side_manifests(params: Mapping[str, Any]) -> None:
    """``manifests`` are files on the controller: the action plugin reads them (with the collection's file policy)
    and passes their documents as ``definitions``, so the option never reaches the module. Given here, the task ran
    without the action plugin, and the files are not read: refused rather than seeding (or pruning) without them."""
    if params.get("manifests"):
        raise ValidationError("manifests reached the module unread: they are read on the controller by the "
                              "image_catalog_apply action plugin, which this task bypassed. Run the task as "
                              "deckhouse.virtualization.image_catalog_apply (the action plugin reads the files), "
                              "or pass their documents as definitions ({origin, manifest} each)")
