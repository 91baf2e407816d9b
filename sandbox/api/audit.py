"""The audit trail tests read to count what clients did (e.g. "a no-op run sends no write").

Kept as JSON lines in the state dir as well as in memory, so a restart of the API server in the middle of
a run (a chaos test does exactly that) loses no entry. Both keep the newest ``limit`` entries: the file is
rewritten with just those once it holds twice as many, so a long-lived sandbox does not fill the disk.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import deque
from pathlib import Path
from typing import Any

class Audit:
    def __init__(self, path: Path | None = None, limit: int = 100_000) -> None:
        self.path = path
        self.limit = limit
        self.entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._lines = 0
        if path is not None and path.exists():
            with path.open(encoding="utf-8") as stream:
                for line in stream:
                    self._lines += 1
                    try:
                        self.entries.append(json.loads(line))
                    except ValueError:            # a line cut short by a kill: drop it
                        continue
        self._file = path.open("a", encoding="utf-8") if path is not None else None

    def record(self, entry: dict[str, Any]) -> None:
        entry.setdefault("time", dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"))
        self.entries.append(entry)
        if self._file is not None:
            self._file.write(json.dumps(entry, separators=(",", ":")) + "\n")
            self._file.flush()
            self._lines += 1
            if self._lines >= 2 * self.limit:
                self._compact()

    def _compact(self) -> None:
        """Rewrite the file with the entries kept in memory (temp file + rename: a kill loses nothing)."""
        assert self.path is not None and self._file is not None
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as stream:
            stream.writelines(json.dumps(e, separators=(",", ":")) + "\n" for e in self.entries)
        self._file.close()
        tmp.replace(self.path)
        self._file = self.path.open("a", encoding="utf-8")
        self._lines = len(self.entries)

    def items(self) -> list[dict[str, Any]]:
        return list(self.entries)

    def clear(self) -> None:
        self.entries.clear()
        if self._file is not None:
            self._file.truncate(0)
            self._lines = 0
