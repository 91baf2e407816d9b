# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Records the phases an image went through and, for the action plugin, streams
progress lines to a file it tails (modules cannot print while they run)."""

from __future__ import annotations

import datetime
import json
from typing import Any, Callable, Dict, List, Mapping, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond


# What a dry run records where a real run records "Created": the server accepted the object, nothing was stored.
WOULD_CREATE = "would be created (check mode)"


def _utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Tracker:
    """Called with every object version the waiter sees."""

    def __init__(self, label: str, progress_file: Optional[str] = None,
                 now: Callable[[], str] = _utc_now, dry_run: bool = False) -> None:
        self.label = label
        self.dry_run = dry_run      # check mode: an object the server only dry-ran was not created
        self.progress_file = progress_file
        self.now = now
        self.phases: List[Dict[str, Any]] = []
        self._last_line: Optional[str] = None

    def update(self, obj: Optional[Mapping[str, Any]]) -> None:
        """Note a phase change in ``phases``; write a line when anything visible changed."""
        if obj is None:
            current_phase, current_progress, speed = "Deleted", None, None
        else:
            current_phase = cond.phase(obj) or (WOULD_CREATE if self.dry_run else "Created")
            current_progress = cond.progress(obj)
            speed = ((obj.get("status") or {}).get("downloadSpeed") or {}).get("current")
        if not self.phases or self.phases[-1]["phase"] != current_phase:
            self.phases.append({"phase": current_phase, "progress": current_progress, "time": self.now()})
        line = "%s: %s" % (self.label, current_phase)
        if current_progress:
            line += " " + current_progress
        if speed:
            line += " (%s)" % speed
        if line != self._last_line:
            self._last_line = line
            self._write(line)

    def child(self, label: str) -> "Tracker":
        """A tracker for another object of the same task, writing to the same progress file."""
        return Tracker(label, self.progress_file, self.now, self.dry_run)

    def note(self, text: str) -> None:
        """A free-form line, e.g. "deleting to recreate"."""
        self._write("%s: %s" % (self.label, text))

    def _write(self, line: str) -> None:
        if not self.progress_file:
            return
        try:
            with open(self.progress_file, "a", encoding="utf-8") as stream:
                stream.write(json.dumps({"time": self.now(), "line": line}) + "\n")
        except OSError:
            self.progress_file = None  # progress is a nicety; never fail the task for it
