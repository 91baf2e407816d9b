# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action plugin for image_catalog_apply.

Relative ``manifests`` patterns and entry ``path``s are resolved against the
playbook directory on the controller (where the user's files are), and the
module's progress lines are shown at -v with the image modules' tailer.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional

from ansible_collections.deckhouse.virtualization.plugins.action.virtual_image import (
    ActionModule as ImageActionModule,
)


class ActionModule(ImageActionModule):
    """Resolve relative paths, then run the module as the image modules do."""

    def _absolute(self, path: Any) -> Any:
        if not isinstance(path, str) or os.path.isabs(os.path.expanduser(path)):
            return path
        return os.path.join(self._loader.get_basedir(), path)

    def run(self, tmp: Any = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        args = dict(self._task.args)
        if args.get("manifests"):
            args["manifests"] = [self._absolute(pattern) for pattern in args["manifests"]]
        if args.get("images"):
            args["images"] = [dict(entry, path=self._absolute(entry["path"]))
                              if isinstance(entry, dict) and entry.get("path") else entry
                              for entry in args["images"]]
        self._task.args = args
        return super().run(tmp, task_vars)
