"""The project's own structural schemas for every admitted kind (written from the CRDs' facts)."""
from __future__ import annotations

import copy
from functools import cache

from .disks import virtual_disk, virtual_disk_snapshot
from .dsl import Schema
from .images import cluster_virtual_image, virtual_image
from .machines import virtual_machine
from .operations import virtual_machine_operation

_BUILDERS = {
    "VirtualImage": virtual_image,
    "ClusterVirtualImage": cluster_virtual_image,
    "VirtualDisk": virtual_disk,
    "VirtualDiskSnapshot": virtual_disk_snapshot,
    "VirtualMachine": virtual_machine,
    "VirtualMachineOperation": virtual_machine_operation,
}
KINDS: tuple[str, ...] = tuple(_BUILDERS)


@cache
def compiled(kind: str) -> Schema:
    """The schema for ``kind``, built once; callers must not mutate it."""
    try:
        return _BUILDERS[kind]()
    except KeyError:
        raise KeyError(f"no admission schema for kind {kind!r}") from None


def schema_for(kind: str) -> Schema:
    """A private copy of the schema for ``kind`` (safe to serialise or modify)."""
    return copy.deepcopy(compiled(kind))
