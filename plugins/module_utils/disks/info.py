# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Listing disks for virtual_disk_info: the images' listing (selectors, phases, an API not served is an error)
with the disks' flat summaries."""

from __future__ import annotations

from typing import Any, Dict

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.summary import summarize_disk
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.info import list_objects
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.info import ListQuery


def list_disks(client: Client, query: ListQuery) -> Dict[str, Any]:
    """``disks`` (as the API gives them) and ``summary``, same order (namespace, name)."""
    disks = list_objects(client, query)
    return {"disks": disks, "summary": [summarize_disk(obj) for obj in disks]}
