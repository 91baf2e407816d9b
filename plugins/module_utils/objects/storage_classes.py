# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The StorageClass a disk or an image on a PVC names exists, said before any write in the option's words: the
platform's vd and vi webhooks refuse an object made on (or moved while Pending to) a class that does not exist."""

from __future__ import annotations

from typing import Any, Mapping, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError

STORAGE_CLASS_PATH = "/apis/storage.k8s.io/v1/storageclasses/%s"


def spec_storage_class(obj: Optional[Mapping[str, Any]]) -> Optional[str]:
    """``spec.persistentVolumeClaim.storageClassName`` of a disk or an image, None when absent."""
    return (((obj or {}).get("spec") or {}).get("persistentVolumeClaim") or {}).get("storageClassName")


def check_storage_class_exists(client: Client, wanted: Mapping[str, Any], live: Optional[Mapping[str, Any]]) -> None:
    """A class the write would set (named in ``wanted``, other than the live one) exists. When that cannot be known
    (no right to read classes) the write goes on and the platform's refusal is quoted."""
    name = spec_storage_class(wanted)
    if not name or name == spec_storage_class(live):
        return
    if client.exists(STORAGE_CLASS_PATH % name) is False:
        raise ValidationError('storage_class: storage class "%s" not found; name an existing StorageClass '
                              "(kubectl get storageclass) or leave storage_class out for the cluster's default; "
                              "nothing was written" % name)
