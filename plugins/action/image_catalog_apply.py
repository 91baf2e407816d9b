# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action plugin for image_catalog_apply.

``manifests`` are read here, on the controller, and passed to the module as ``definitions`` (after any
given ones); entry ``path``s are files the module streams. Both follow the collection's file policy
(plugin_utils/local_files.py); the progress lines of every image are shown at -v.
"""

from __future__ import annotations

from typing import Any, Dict

from ansible.errors import AnsibleActionFail

from ansible_collections.deckhouse.virtualization.plugins.plugin_utils.local_files import LocalFiles
from ansible_collections.deckhouse.virtualization.plugins.plugin_utils.manifests import read_definitions
from ansible_collections.deckhouse.virtualization.plugins.plugin_utils.module_action import ModuleAction


class ActionModule(ModuleAction):
    """Read ``manifests`` into ``definitions``, resolve entry paths, run the module, stream its progress."""

    def prepare(self, args: Dict[str, Any], files: LocalFiles) -> Dict[str, Any]:
        manifests = args.pop("manifests", None)
        if isinstance(manifests, str):  # as the module's list option takes it: comma-separated
            manifests = manifests.split(",")
        if manifests:
            given = args.get("definitions") or []
            if not isinstance(manifests, list) or not isinstance(given, list):
                raise AnsibleActionFail("manifests and definitions must be lists")
            args["definitions"] = given + read_definitions(manifests, files)
        images = args.get("images")
        for index, entry in enumerate(images if isinstance(images, list) else []):
            if isinstance(entry, dict) and entry.get("path"):
                entry["path"] = files.module_path(entry["path"], "%s[%d].path" % (args.get("images_option")
                                                                                  or "images", index))
        return args
