"""The controller's work queue: which objects wait for a reconcile, and "something changed".

An object is queued at most once, and never reconciled twice at the same time (a poke during its
reconcile runs it again afterwards). Jobs blocked on a cause (a source not ready, no storage
class) sleep in `wait_world` until any watched object changes.
"""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

Key = tuple[str, str, str]   # (kind, namespace or "", name)


class WorkQueue:
    def __init__(self) -> None:
        self._queue: asyncio.Queue[Key] = asyncio.Queue()
        self._queued: set[Key] = set()
        self._active: set[Key] = set()
        self._dirty: set[Key] = set()
        self._world = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop the workers run on (threads and timers hand their pokes to it)."""
        self._loop = loop

    def poke(self, key: Key) -> None:
        if key not in self._queued:
            self._queued.add(key)
            self._queue.put_nowait(key)

    def poke_threadsafe(self, key: Key) -> None:
        """poke from an importer's worker thread."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self.poke, key)

    def poke_later(self, delay: float, key: Key) -> None:
        assert self._loop is not None
        self._loop.call_later(delay, self.poke, key)

    def world_changed(self) -> None:
        """Wake every `wait_world` sleeper (called for each watched change)."""
        self._world.set()
        self._world = asyncio.Event()

    async def wait_world(self, timeout: float) -> None:
        """Sleep until anything watched changes (or timeout): how blocked jobs notice their cause went away."""
        ev = self._world
        try:
            await asyncio.wait_for(ev.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    async def work(self, handle: Callable[[Key], Awaitable[None]]) -> None:
        """One worker: take keys forever and hand each to `handle`."""
        while True:
            key = await self._queue.get()
            self._queued.discard(key)
            if key in self._active:  # one reconcile per object at a time
                self._dirty.add(key)
                continue
            self._active.add(key)
            try:
                await handle(key)
            finally:
                self._active.discard(key)
                if key in self._dirty:
                    self._dirty.discard(key)
                    self.poke(key)
