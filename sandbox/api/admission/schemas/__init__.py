"""The project's own structural schemas for every admitted kind (written from the CRDs' facts)."""
from __future__ import annotations

import copy
from functools import cache

from ....platform import DEFAULT, line as platform_line
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
def compiled(kind: str, platform: str = DEFAULT) -> Schema:
    """The schema for ``kind`` on a platform line (sandbox.platform), built once; callers must not
    mutate it."""
    try:
        builder = _BUILDERS[kind]
    except KeyError:
        raise KeyError(f"no admission schema for kind {kind!r}") from None
    return builder(platform_line(platform).name)


def schema_for(kind: str, platform: str = DEFAULT) -> Schema:
    """A private copy of the schema for ``kind`` (safe to serialise or modify)."""
    return copy.deepcopy(compiled(kind, platform))
