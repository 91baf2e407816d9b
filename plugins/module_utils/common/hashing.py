# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Checksums computed in worker threads, one per algorithm.

Why threads: hashlib releases the GIL on large buffers, so hashing one buffer can
run on the other core while the main thread writes the previous one to the
socket. Each algorithm has its own thread (a hash must see the buffers in order;
two algorithms need not wait for each other). Buffers come from a fixed pool and
return to it when every hasher is done with them, so memory stays constant.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import streebog
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    CHECKSUM_ALGORITHMS as ALGORITHMS,
)

# Recorded when no checksum is given: it only tells a re-run whether the file is the same one, so the fastest
# of the platform's algorithms (about 3x sha256 without SHA extensions); the hash competes with the send for CPU.
DEFAULT_ALGORITHM = "sha1"
CHUNK_SIZE = 1 << 20  # large enough for hashlib to release the GIL and for few syscalls; 4 MiB in all
POOL_SIZE = 4  # buffers in flight: reading, sending, and two being hashed


class MissingLibrary(Exception):
    """An algorithm cannot be computed here (streebog needs OpenSSL's GOST provider or gostcrypto)."""


def new_hash(algo: str) -> Any:
    """A hash object for one of ALGORITHMS (streebog by streebog.py: OpenSSL's GOST provider, else gostcrypto)."""
    if algo.startswith("streebog"):
        try:
            return streebog.new(algo)
        except streebog.Unavailable as exc:
            raise MissingLibrary(str(exc))
    return hashlib.new(algo)


def algorithms_for(given: Optional[Dict[str, Any]], extra: Iterable[str] = ()) -> List[str]:
    """Algorithms to compute: the given ones plus ``extra``; DEFAULT_ALGORITHM when there are none."""
    wanted = {algo for algo, value in (given or {}).items() if value}
    wanted.update(extra)
    return [algo for algo in ALGORITHMS if algo in wanted] or [DEFAULT_ALGORITHM]


def mismatches(given: Optional[Dict[str, Any]], computed: Dict[str, str]) -> List[Tuple[str, str, str]]:
    """(algo, given, computed) for every given checksum that differs (case-insensitive)."""
    wrong = []
    for algo in ALGORITHMS:
        value = (given or {}).get(algo)
        if value and algo in computed and value.lower() != computed[algo]:
            wrong.append((algo, value.lower(), computed[algo]))
    return wrong


def _lower_priority() -> None:
    """Run the calling thread only on CPU time nothing else wants (Linux SCHED_IDLE; a thread id works as a process
    id here), else nice it: on a busy machine the upload server gets the CPU first; elsewhere this is a no-op."""
    tid = threading.get_native_id()
    try:
        os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
        return
    except (AttributeError, OSError):
        pass
    try:
        os.setpriority(os.PRIO_PROCESS, tid, 10)
    except (AttributeError, OSError):
        pass


class _Buffer:
    """A pooled buffer and the number of hashers still reading it."""

    __slots__ = ("data", "view", "pending", "lock")

    def __init__(self, size: int) -> None:
        self.data = bytearray(size)
        self.view = memoryview(self.data)
        self.pending = 0
        self.lock = threading.Lock()


# A work item: a shared buffer and its length, or (None, offset, length) for a range to read back.
_Item = Tuple[Optional[_Buffer], int, int]


class ParallelHasher:
    """Feeds pooled buffers to one thread per algorithm.

    Use ``acquire()`` for a free buffer, fill it, ``submit(buf, n)``, and when done
    ``hexdigests()`` (which waits until every submitted piece is hashed). A buffer may
    be read (e.g. sent) after ``submit`` until the next ``acquire`` by the same thread.

    With ``source`` (the file's path), a producer that must not wait for slow hashers
    can call ``try_acquire()`` and, when it returns None, read into a buffer of its own
    and ``skip(offset, n)``: the hashers then read that range back from the file
    themselves (it is in the page cache, just read) when they get to it.

    ``deferred`` holds the hashers back until ``go()``: a hash that is only recorded need not take CPU from the
    transfer, and is made while the server stores what it received (the producer then skips every piece, as
    the pool runs dry at once). ``close(abandon=True)`` drops the queued work (a failed transfer).
    """

    def __init__(self, algorithms: Iterable[str], chunk_size: int = CHUNK_SIZE, pool_size: int = POOL_SIZE,
                 source: Optional[str] = None, background: bool = False, deferred: bool = False) -> None:
        self.background = background
        self._go = threading.Event()
        if not deferred:
            self._go.set()
        self._abandoned = False
        self.hashes = {algo: new_hash(algo) for algo in algorithms}
        self.chunk_size = chunk_size
        self._fd = os.open(source, os.O_RDONLY) if source else None
        self._free: "queue.Queue[_Buffer]" = queue.Queue()
        for _unused in range(pool_size):
            self._free.put(_Buffer(chunk_size))
        self._queues: Dict[str, "queue.Queue[Optional[_Item]]"] = {}
        self._threads: List[threading.Thread] = []
        self._errors: List[BaseException] = []
        for algo, hasher in self.hashes.items():
            work: "queue.Queue[Optional[_Item]]" = queue.Queue()
            thread = threading.Thread(target=self._work, args=(hasher, work), name="hash-" + algo, daemon=True)
            self._queues[algo] = work
            self._threads.append(thread)
            thread.start()
        self._closed = False

    def _work(self, hasher: Any, work: "queue.Queue[Optional[_Item]]") -> None:
        if self.background:
            _lower_priority()
        own: Optional[memoryview] = None
        self._go.wait()
        while True:
            item = work.get()
            if item is None:
                return
            buf, offset, length = item
            try:
                if self._abandoned:
                    pass
                elif buf is not None:
                    hasher.update(buf.view[:length])
                else:
                    if own is None:
                        own = memoryview(bytearray(self.chunk_size))
                    self._hash_range(hasher, own, offset, length)
            except BaseException as exc:  # pylint: disable=broad-exception-caught  # surfaced by hexdigests()
                self._errors.append(exc)
            if buf is not None:
                self._release(buf)

    def _hash_range(self, hasher: Any, own: memoryview, offset: int, length: int) -> None:
        end = offset + length
        while offset < end:
            got = os.preadv(self._fd, [own[:min(len(own), end - offset)]], offset)
            if not got:
                raise IOError("the file shrank while it was being hashed")
            hasher.update(own[:got])
            offset += got

    def _release(self, buf: _Buffer) -> None:
        with buf.lock:
            buf.pending -= 1
            free = buf.pending == 0
        if free:
            self._free.put(buf)

    def acquire(self) -> _Buffer:
        """A buffer no hasher is reading (blocks while all are busy: back-pressure)."""
        return self._free.get()

    def try_acquire(self) -> Optional[_Buffer]:
        """A free buffer, or None at once when the hashers still hold all of them."""
        if self._fd is None:
            return self.acquire()
        try:
            return self._free.get_nowait()
        except queue.Empty:
            return None

    def submit(self, buf: _Buffer, length: int) -> None:
        """Hash ``buf.view[:length]`` in every algorithm's thread; the buffer returns to the pool after."""
        if not self._queues:
            self._free.put(buf)
            return
        with buf.lock:
            buf.pending = len(self._queues)
        for work in self._queues.values():
            work.put((buf, 0, length))

    def skip(self, offset: int, length: int) -> None:
        """Hash ``length`` bytes at ``offset`` by reading them back from the source file."""
        for work in self._queues.values():
            work.put((None, offset, length))

    def release_unused(self, buf: _Buffer) -> None:
        """Give back a buffer that was acquired but not submitted."""
        self._free.put(buf)

    def go(self) -> None:
        """Let deferred hashers start."""
        self._go.set()

    def close(self, abandon: bool = False) -> None:
        """Stop the threads after the queued work is done (dropped, with ``abandon``)."""
        if self._closed:
            return
        self._closed = True
        self._abandoned = self._abandoned or abandon
        self._go.set()
        for work in self._queues.values():
            work.put(None)
        for thread in self._threads:
            thread.join()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def hexdigests(self) -> Dict[str, str]:
        """Finish and return ``{algo: hex}`` (lower-case)."""
        self.close()
        if self._errors:
            raise self._errors[0]
        return {algo: hasher.hexdigest().lower() for algo, hasher in self.hashes.items()}

    def __enter__(self) -> "ParallelHasher":
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        self.close(abandon=exc_type is not None)


def hash_file(path: str, algorithms: Iterable[str], chunk_size: int = CHUNK_SIZE) -> Tuple[Dict[str, str], int]:
    """``({algo: hex}, size)`` of a local file, read once with the hashers in parallel."""
    with ParallelHasher(algorithms, chunk_size) as hasher, open(path, "rb", buffering=0) as stream:
        size = 0
        while True:
            buf = hasher.acquire()
            length = stream.readinto(buf.view)
            if not length:
                hasher.release_unused(buf)
                break
            size += length
            hasher.submit(buf, length)
        return hasher.hexdigests(), size
