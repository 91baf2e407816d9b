# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action plugin for virtual_image_upload.

``path`` is the file the module streams: it follows the collection's file policy
(plugin_utils/local_files.py), and progress is shown at -v.
"""

from __future__ import annotations

from typing import Any, Dict

from ansible_collections.deckhouse.virtualization.plugins.plugin_utils.local_files import LocalFiles
from ansible_collections.deckhouse.virtualization.plugins.plugin_utils.module_action import ModuleAction


class ActionModule(ModuleAction):
    """Resolve ``path``, run the module, stream its progress."""

    def prepare(self, args: Dict[str, Any], files: LocalFiles) -> Dict[str, Any]:
        if args.get("path"):
            args["path"] = files.module_path(args["path"], "path")
        return args
