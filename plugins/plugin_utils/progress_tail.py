# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Shows a module's progress while it runs.

A module cannot print while it runs; it appends JSON lines to a file named by its ``progress_file`` option
and the action plugin prints them with ``display.v`` as they come. The file can only be tailed where the
action plugin runs, so this is only done when the module runs on the controller.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from typing import Optional

from ansible.utils.display import Display

display = Display()
TAIL_INTERVAL = 0.25


def new_progress_file() -> str:
    """An empty file for the module to append to (the caller removes it)."""
    handle, path = tempfile.mkstemp(prefix="dvp-progress-", suffix=".jsonl")
    os.close(handle)
    return path


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
        """Print every complete line not printed yet (a line still being written waits for the next drain)."""
        chunk = self._unread()
        if chunk is None:
            return
        complete = chunk[:chunk.rfind("\n") + 1]
        self._offset += len(complete.encode("utf-8"))
        for line in complete.splitlines():
            try:
                display.v(json.loads(line)["line"])
            except (ValueError, KeyError, TypeError):
                continue

    def _unread(self) -> Optional[str]:
        try:
            with open(self.path, encoding="utf-8") as stream:
                stream.seek(self._offset)
                return stream.read()
        except OSError:
            return None

    def stop(self) -> None:
        """Stop after a last drain."""
        self.stopped.set()
        self.join(timeout=5)
