# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The base of every action plugin of the collection: one way to run a module.

A subclass only says which of its arguments name files (``prepare``); this class gives it the task's
``LocalFiles`` (one policy for finding, decrypting and cleaning up files), works on a copy of the task's
arguments (the task object is shared with later loop items and retries, so it is never changed), hands the
module a progress file and prints it at ``-v`` while the module runs, and removes what it made afterwards.
"""

from __future__ import annotations

import copy
import os
from typing import Any, Dict, Optional

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.deckhouse.virtualization.plugins.plugin_utils.local_files import (
    LocalFiles, runs_on_controller,
)
from ansible_collections.deckhouse.virtualization.plugins.plugin_utils.progress_tail import (
    ProgressTail, new_progress_file,
)

display = Display()


class ModuleAction(ActionBase):
    """Run the module of the same name with files resolved by the collection's policy and progress at -v."""

    _VALID_ARGS = frozenset()  # every argument is the module's
    _supports_async = True

    def prepare(self, args: Dict[str, Any], files: LocalFiles) -> Dict[str, Any]:
        """The module's arguments from a private copy of the task's (``args`` may be changed in place)."""
        return args

    def run(self, tmp: Any = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        result = super().run(tmp, task_vars)
        files = LocalFiles(lambda path: self._find_needle("files", path), self._loader, self._task.get_search_path(),
                           runs_on_controller(self._connection), self._wrap_async())
        try:
            args = self.prepare(copy.deepcopy(dict(self._task.args)), files)
            result.update(self._execute_with_progress(args, task_vars))
        finally:
            files.cleanup()
        return result

    def _wrap_async(self) -> bool:
        """True when the task runs with ``async`` and Ansible wraps the module (it then outlives this plugin)."""
        return bool(self._task.async_val) and not self._connection.has_native_async

    def _progress_path(self) -> Optional[str]:
        """A progress file, only where it can be tailed and shown: -v, the module on the controller, no async."""
        if display.verbosity < 1 or not runs_on_controller(self._connection) or self._wrap_async():
            return None
        return new_progress_file()

    def _execute_with_progress(self, args: Dict[str, Any], task_vars: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        """Run the module with ``args``, tailing its progress file meanwhile. ``progress_file`` is this plugin's
        alone: a value the task gives is dropped (the option is internal; its documentation says so)."""
        args.pop("progress_file", None)
        progress = self._progress_path()
        tail = None
        if progress:
            args["progress_file"] = progress
            tail = ProgressTail(progress)
            tail.start()
        try:
            wrap_async = self._wrap_async()
            result = self._execute_module(module_name=self._task.resolved_action or self._task.action,
                                          module_args=args, task_vars=task_vars, wrap_async=wrap_async)
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            return result
        finally:
            if tail:
                tail.stop()
            if progress:
                os.unlink(progress)
