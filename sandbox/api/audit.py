"""The audit trail tests read to count what clients did (e.g. "a no-op run sends no write")."""
from __future__ import annotations

import datetime as dt
from collections import deque
from typing import Any

WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})


class Audit:
    def __init__(self, limit: int = 100_000) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=limit)

    def record(self, entry: dict[str, Any]) -> None:
        entry.setdefault("time", dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"))
        self.entries.append(entry)

    def items(self) -> list[dict[str, Any]]:
        return list(self.entries)

    def clear(self) -> None:
        self.entries.clear()
