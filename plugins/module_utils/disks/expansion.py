# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Growing a provisioned disk needs its StorageClass to allow volume expansion.

The platform asks Kubernetes for the larger PVC, and Kubernetes grows a claim only when its class says
``allowVolumeExpansion: true``; otherwise the disk stays Ready at its old size with its Resizing condition saying
"Disk resizing is not allowed", and its spec keeps the larger size (the platform refuses a smaller one after).
So the module reads the class first and refuses before any write; when it cannot read it, the wait quotes the
platform's refusal (api/waiter.py).
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ApiError, ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import DISK_PROVISIONED_PHASES
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.quantity import quantity_or_none
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.rules import disk_size


def disk_storage_class(disk: Mapping[str, Any]) -> str:
    """The class of the disk's PVC (``status.storageClassName``), else the one its spec names; "" when unknown."""
    return str((disk.get("status") or {}).get("storageClassName")
               or ((disk.get("spec") or {}).get("persistentVolumeClaim") or {}).get("storageClassName") or "")


def _read_class(client: Client, name: str) -> Optional[Mapping[str, Any]]:
    """The StorageClass, or None when it is gone or cannot be read (no right to read classes)."""
    try:
        return client.get("/apis/storage.k8s.io/v1/storageclasses/%s" % name)
    except ApiError:
        return None


def check_expandable(client: Client, disk: Optional[Mapping[str, Any]], size: Any, ref: str) -> None:
    """Refuse, before any write, a ``size`` that would grow the provisioned ``disk`` on a class that does not allow
    volume expansion. Nothing is checked when the size does not grow the disk, or the class is not known."""
    if disk is None or cond.phase(disk) not in DISK_PROVISIONED_PHASES:
        return
    held, want = disk_size(disk), quantity_or_none(size)
    if held is None or want is None or want <= held[0]:
        return
    name = disk_storage_class(disk)
    storage_class = _read_class(client, name) if name else None
    if storage_class is None or storage_class.get("allowVolumeExpansion") is True:
        return
    raise ValidationError(
        'size: growing %s from %s to %s needs its StorageClass "%s" to allow volume expansion, and it does not '
        "(allowVolumeExpansion is %s): the platform would keep the disk at %s (Disk resizing is not allowed). Set "
        "allowVolumeExpansion: true on the StorageClass, or keep size at %s; nothing was written"
        % (ref, held[1], size, name, str(storage_class.get("allowVolumeExpansion", "unset")).lower(), held[1],
           held[1]))
