# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action plugin for virtual_disk.

``source.upload.path`` is a file the module streams: it follows the collection's file policy
(plugin_utils/local_files.py), and progress is shown at -v.
"""

from __future__ import annotations

from typing import Any, Dict

from ansible_collections.deckhouse.virtualization.plugins.plugin_utils.local_files import (
    LocalFiles, resolve_source_upload,
)
from ansible_collections.deckhouse.virtualization.plugins.plugin_utils.module_action import ModuleAction


class ActionModule(ModuleAction):
    """Resolve ``source.upload.path``, run the module, stream its progress."""

    def prepare(self, args: Dict[str, Any], files: LocalFiles) -> Dict[str, Any]:
        resolve_source_upload(args, files)
        return args
