"""Objects, the global resourceVersion counter, the watch event window, and persistence.

Every change is written through to `store/` atomically before it is acknowledged, so stopping the
process at any point loses nothing (one JSON file per object plus `store/rv`).  The event window is
in memory only: after a restart, watching from an older resourceVersion answers 410 Gone, as a
freshly started kube-apiserver's watch cache does.

The window is also the history lists read old states from (etcd's MVCC, as far as it reaches):
each event keeps the object as it was stored before the change, so `snapshot(rv)` rebuilds what was
stored at any resourceVersion since `compacted` by undoing the later events, newest first.
"""
from __future__ import annotations

import asyncio
import copy
import json
import os
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import atomic_write
from .resources import RESOURCES, ResourceType

Key = tuple[str, str, str]   # (resource id "group/plural", namespace or "", name)
WINDOW = int(os.environ.get("DVP_SANDBOX_WATCH_WINDOW", "20000"))


def rid(r: ResourceType) -> str:
    return f"{r.group or 'core'}/{r.plural}"


@dataclass
class Event:
    type: str                    # ADDED | MODIFIED | DELETED
    rv: int
    rtype: ResourceType
    obj: dict[str, Any]
    old: dict[str, Any] | None
    key: Key | None = None       # where it is stored
    prev: dict[str, Any] | None = None   # what was stored under `key` before (None: nothing)


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects: dict[Key, dict[str, Any]] = {}
        self.uids: dict[str, Key] = {}
        self.rv = 0
        self.events: deque[Event] = deque(maxlen=WINDOW)
        self.compacted = 0       # watching from an RV below this is 410 Gone
        self.watchers: set[asyncio.Queue[Event]] = set()
        self._types = {rid(r): r for r in RESOURCES}
        self._load()

    # -- persistence --------------------------------------------------------------------------
    def _path(self, key: Key) -> Path:
        res, ns, name = key
        return self.root / res.replace("/", "_") / (ns or "_cluster") / f"{name}.json"

    def _load(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        rv_file = self.root / "rv"
        self.rv = int(rv_file.read_text()) if rv_file.exists() else 0
        for res_dir in self.root.iterdir():
            if not res_dir.is_dir():
                continue
            res = res_dir.name.replace("_", "/", 1)
            if res not in self._types:
                continue
            for ns_dir in res_dir.iterdir():
                ns = "" if ns_dir.name == "_cluster" else ns_dir.name
                for f in ns_dir.glob("*.json"):
                    obj = json.loads(f.read_text())
                    key = (res, ns, obj["metadata"]["name"])
                    self.objects[key] = obj
                    self.uids[obj["metadata"]["uid"]] = key
                    self.rv = max(self.rv, int(obj["metadata"]["resourceVersion"]))
        self.compacted = self.rv

    def _persist(self, key: Key, obj: dict[str, Any] | None) -> None:
        path = self._path(key)
        if obj is None:
            path.unlink(missing_ok=True)
        else:
            atomic_write(path, json.dumps(obj, separators=(",", ":")))
        atomic_write(self.root / "rv", str(self.rv))

    # -- reads -----------------------------------------------------------------------------------
    def get(self, key: Key) -> dict[str, Any] | None:
        obj = self.objects.get(key)
        return copy.deepcopy(obj) if obj is not None else None

    def by_uid(self, uid: str) -> dict[str, Any] | None:
        key = self.uids.get(uid)
        return self.objects.get(key) if key else None

    def type_of(self, key: Key) -> ResourceType:
        return self._types[key[0]]

    # -- writes -----------------------------------------------------------------------------------
    def next_rv(self) -> int:
        self.rv += 1
        return self.rv

    def put(self, r: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        """Store a created/changed object under a fresh RV; emit ADDED/MODIFIED."""
        md = obj["metadata"]
        key = (rid(r), md.get("namespace", "") if r.namespaced else "", md["name"])
        rv = self.next_rv()
        md["resourceVersion"] = str(rv)
        prev = self.objects.get(key)
        self.objects[key] = obj
        self.uids[md["uid"]] = key
        self._persist(key, obj)
        self._emit(Event("MODIFIED" if old is not None else "ADDED", rv, r, obj, old, key, prev))
        return copy.deepcopy(obj)

    def remove(self, r: ResourceType, key: Key, final: dict[str, Any] | None = None) -> dict[str, Any]:
        """Delete for good (`final`: its last state); the DELETED event carries a fresh RV."""
        prev = self.objects.pop(key)
        self.uids.pop(prev["metadata"]["uid"], None)
        rv = self.next_rv()
        obj = copy.deepcopy(final if final is not None else prev)
        obj["metadata"]["resourceVersion"] = str(rv)
        self._persist(key, None)
        self._emit(Event("DELETED", rv, r, obj, obj, key, prev))
        return obj

    def _emit(self, ev: Event) -> None:
        if len(self.events) == self.events.maxlen:
            self.compacted = self.events[0].rv
        self.events.append(ev)
        for q in list(self.watchers):
            q.put_nowait(ev)

    def compact(self) -> int:
        """Forget the event history (like etcd compaction); returns the compacted RV."""
        self.events.clear()
        self.compacted = self.rv
        return self.rv

    def history_since(self, rv: int) -> list[Event] | None:
        """Events after `rv`, or None when that RV is older than the retained window."""
        if rv < self.compacted:
            return None
        return [e for e in self.events if e.rv > rv]

    def oldest_available(self) -> int:
        return self.compacted + 1

    def snapshot(self, rv: int) -> dict[Key, dict[str, Any]] | None:
        """What was stored at resourceVersion `rv` (key -> object, not copies), or None when `rv` is
        older than the history kept (compacted). `rv` at or beyond the current one: the current state."""
        if rv < self.compacted:
            return None
        state = dict(self.objects)
        for ev in reversed(self.events):
            if ev.rv <= rv:
                break
            if ev.key is None:
                continue
            if ev.prev is None:
                state.pop(ev.key, None)
            else:
                state[ev.key] = ev.prev
        return state
