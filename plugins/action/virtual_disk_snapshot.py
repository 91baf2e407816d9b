# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action plugin for virtual_disk_snapshot: no local files; progress (Pending, InProgress, Ready) shown at -v."""

from __future__ import annotations

from ansible_collections.deckhouse.virtualization.plugins.plugin_utils.module_action import ModuleAction


class ActionModule(ModuleAction):
    """Run the module with the collection's progress tail."""
