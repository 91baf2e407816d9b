# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The typed request of the info modules: which objects of one kind to list, checked once.

Why typed: the listing code then reads fields, not parameter keys, and cannot reach an option the module did not
check (the images' ``track`` and ``catalog`` have no meaning for disks, and a disk query cannot carry them).
"""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple, Optional, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.checks import (
    LABEL_VALUE_MAX, check_name, check_namespace, is_name_part,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    CLUSTER_VIRTUAL_IMAGE, VIRTUAL_DISK, VIRTUAL_IMAGE, Kind,
)


class ListQuery(NamedTuple):
    """Objects of ``kind`` in ``namespace`` (None: every namespace, or a cluster-wide kind) that ``name``,
    ``label_selectors`` and ``phases`` select; for images, only the versions of ``track`` or ``catalog``."""

    kind: Kind
    namespace: Optional[str] = None
    name: Optional[str] = None
    label_selectors: Tuple[str, ...] = ()
    phases: Tuple[str, ...] = ()
    track: Optional[str] = None
    catalog: Optional[str] = None

    @property
    def selector(self) -> Optional[str]:
        """The ``labelSelector`` sent: the selectors joined (images/info.py adds a track's or catalog's label to
        them before listing)."""
        return ",".join(self.label_selectors) or None


def image_query(params: Mapping[str, Any]) -> ListQuery:
    """virtual_image_info's options, checked before any request."""
    cluster = bool(params.get("cluster"))
    if cluster and params.get("namespace"):
        raise ValidationError("namespace cannot be used with cluster: true (ClusterVirtualImages are cluster-wide)")
    kind = CLUSTER_VIRTUAL_IMAGE if cluster else VIRTUAL_IMAGE
    query = _query(kind, params)._replace(track=params.get("track"), catalog=params.get("catalog"))
    if query.track is not None and not cluster and query.namespace is None:
        raise ValidationError("track needs namespace: each namespace holds its own versions of a track")
    if query.catalog is not None and not is_name_part(query.catalog, LABEL_VALUE_MAX):
        raise ValidationError("catalog %r is not the name of a catalog: at most %d lower-case letters, digits and '-'"
                              % (query.catalog, LABEL_VALUE_MAX))
    if query.track is not None and not is_name_part(query.track, LABEL_VALUE_MAX):
        raise ValidationError("track %r is not the name of a track: a catalog entry's name, at most %d lower-case "
                              "letters, digits and '-'" % (query.track, LABEL_VALUE_MAX))
    return query


def disk_query(params: Mapping[str, Any]) -> ListQuery:
    """virtual_disk_info's options, checked before any request."""
    return _query(VIRTUAL_DISK, params)


def _query(kind: Kind, params: Mapping[str, Any]) -> ListQuery:
    namespace, name = params.get("namespace"), params.get("name")
    if namespace is not None:
        check_namespace(namespace)
    if name is not None:
        check_name(name, "name", kind.kind)
    return ListQuery(kind=kind, namespace=namespace, name=name,
                     label_selectors=tuple(params.get("label_selectors") or ()),
                     phases=tuple(params.get("phase") or ()))
