# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action plugin for the image modules.

Two jobs the module cannot do where it runs: resolve ``src`` on the controller
(as kubernetes.core does) and show progress while the module waits. For the
second it hands the module a progress file and tails it with ``display.v``
while ``_execute_module`` runs (only when the module runs on the controller,
i.e. a local connection, and only at -v or more).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from typing import Any, Callable, Dict, Optional, Tuple

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()
TAIL_INTERVAL = 0.25


class ProgressTail(threading.Thread):
    """Prints the module's progress lines as they are appended."""

    def __init__(self, path: str) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.stopped = threading.Event()
        self._offset = 0

    def run(self) -> None:
        while not self.stopped.wait(TAIL_INTERVAL):
            self.drain()
        self.drain()

    def drain(self) -> None:
        """Print every complete line not printed yet."""
        try:
            with open(self.path, encoding="utf-8") as stream:
                stream.seek(self._offset)
                chunk = stream.read()
        except OSError:
            return
        complete = chunk[:chunk.rfind("\n") + 1]
        self._offset += len(complete.encode("utf-8"))
        for line in complete.splitlines():
            try:
                display.v(json.loads(line)["line"])
            except (ValueError, KeyError, TypeError):
                continue

    def stop(self) -> None:
        """Stop after a last drain."""
        self.stopped.set()
        self.join(timeout=5)


class ActionModule(ActionBase):
    """Resolve ``src``, run the module, stream its progress."""

    _VALID_ARGS = frozenset()  # every argument is the module's
    _supports_async = True

    def _read_src(self, src: str) -> str:
        try:
            path = self._find_needle("files", src)
        except AnsibleError as exc:
            raise AnsibleActionFail("src %s not found: %s" % (src, to_text(exc)))
        with open(path, encoding="utf-8") as stream:
            return stream.read()

    def _local_file(self, path: str, option: str = "source.upload.path") -> Tuple[str, Optional[str]]:
        """(real path, temporary decrypted copy to remove or None) of a file on the controller.

        Resolved as ``copy`` resolves ``src`` (role files/, playbook dir); vault-encrypted
        files are decrypted to a temporary file. Only for local connections. Messages name
        ``option`` so a user sees which argument is wrong.
        """
        if os.path.isdir(path):
            raise AnsibleActionFail("%s: %s is a directory, not a file" % (option, path))
        try:
            found = self._find_needle("files", path)
        except AnsibleError as exc:
            raise AnsibleActionFail("%s: %s not found: %s" % (option, path, to_text(exc)))
        if os.path.isdir(found):
            raise AnsibleActionFail("%s: %s is a directory, not a file" % (option, found))
        real = self._loader.get_real_file(found, decrypt=True)
        return real, (real if real != found else None)

    def _wrap_async(self) -> bool:
        """True when the task runs with ``async`` and the connection cannot run it natively."""
        return bool(self._task.async_val) and not self._connection.has_native_async

    def _keep_local_file(self, decrypted: Optional[str], option: str) -> None:
        """An async job reads its file after this plugin returns: a decrypted copy cannot be cleaned up then."""
        if decrypted and self._wrap_async():
            self._loader.cleanup_tmp_file(decrypted)
            raise AnsibleActionFail("%s: a vault-encrypted file cannot be used with async (its decrypted copy "
                                    "would outlive the task); run the task without async or with poll > 0 "
                                    "and no async" % option)

    def _progress_path(self) -> Optional[str]:
        if display.verbosity < 1 or not self._is_local() or self._wrap_async():
            return None
        handle, path = tempfile.mkstemp(prefix="dvp-progress-", suffix=".jsonl")
        os.close(handle)
        return path

    def run(self, tmp: Any = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        if args.get("src") and args.get("definition") is None:
            args["definition"] = self._read_src(args.pop("src"))
        upload = (args.get("source") or {}).get("upload") if isinstance(args.get("source"), dict) else None
        path = upload.get("path") if isinstance(upload, dict) else None
        result.update(self._execute_with_local_file(
            args, task_vars, path, "source.upload.path",
            lambda real: dict(args, source=dict(args["source"], upload=dict(upload, path=real)))))
        return result

    def _execute_with_local_file(self, args: Dict[str, Any], task_vars: Optional[Dict[str, Any]], path: Any,
                                 option: str, with_path: Callable[[str], Dict[str, Any]]) -> Dict[str, Any]:
        """Run the module; on a local connection ``path`` is first resolved on the controller and
        ``with_path(real)`` gives the arguments to send. A decrypted vault copy is removed afterwards."""
        decrypted = None
        if isinstance(path, str) and self._is_local():
            real, decrypted = self._local_file(path, option)
            self._keep_local_file(decrypted, option)
            args = with_path(real)
        try:
            return self._execute_with_progress(args, task_vars)
        finally:
            if decrypted:
                self._loader.cleanup_tmp_file(decrypted)

    def _is_local(self) -> bool:
        return getattr(self._connection, "transport", None) == "local"

    def _execute_with_progress(self, args: Dict[str, Any], task_vars: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        """Run the module with ``args``, tailing its progress file at -v on a local connection."""
        result: Dict[str, Any] = {}
        progress = self._progress_path()
        tail = None
        if progress:
            args["progress_file"] = progress
            tail = ProgressTail(progress)
            tail.start()
        try:
            wrap_async = self._wrap_async()
            result.update(self._execute_module(module_name=self._task.resolved_action or self._task.action,
                                               module_args=args, task_vars=task_vars, wrap_async=wrap_async))
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)
        finally:
            if tail:
                tail.stop()
            if progress:
                os.unlink(progress)
        return result
