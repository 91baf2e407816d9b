# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action plugin for virtual_image (and cluster_virtual_image).

``src`` is a manifest the plugin reads on the controller and passes as ``definition`` (as kubernetes.core
does); ``source.upload.path`` is a file the module streams. Both follow the collection's file policy
(plugin_utils/local_files.py); progress is shown at -v.
"""

from __future__ import annotations

from typing import Any, Dict

from ansible_collections.deckhouse.virtualization.plugins.plugin_utils.local_files import (
    LocalFiles, resolve_source_upload,
)
from ansible_collections.deckhouse.virtualization.plugins.plugin_utils.module_action import ModuleAction


class ActionModule(ModuleAction):
    """Read ``src``, resolve ``source.upload.path``, run the module, stream its progress."""

    def prepare(self, args: Dict[str, Any], files: LocalFiles) -> Dict[str, Any]:
        if args.get("src") and args.get("definition") is None:
            args["definition"] = files.read(args.pop("src"), "src")
        resolve_source_upload(args, files)
        return args
