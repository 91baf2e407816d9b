# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action plugin for virtual_image_upload.

When the module runs on the controller (a local connection) ``path`` is resolved
here as ``copy`` resolves ``src`` (role ``files/``, playbook dir), and a
vault-encrypted file is decrypted to a temporary file removed after the task.
On other connections ``path`` is left alone: it names a file on the managed
host. Path resolution and progress at -v are the image modules' (one mechanism).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from ansible.plugins.action import ActionBase

from ansible_collections.deckhouse.virtualization.plugins.action.virtual_image import (
    ActionModule as ImageActionModule,
)


class ActionModule(ImageActionModule):
    """Resolve ``path`` on the controller for local runs, run the module, stream its progress."""

    def run(self, tmp: Any = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        result = ActionBase.run(self, tmp, task_vars)  # pylint: disable=bad-super-call
        args = dict(self._task.args)
        result.update(self._execute_with_local_file(args, task_vars, args.get("path") or None, "path",
                                                    lambda real: dict(args, path=real)))
        return result
