"""Streebog (GOST R 34.11-2012) for the importers and the uploader, at native speed when OpenSSL's GOST
provider is installed (Debian/Ubuntu/Astra package `libengine-gost-openssl`), else by gostcrypto (pure Python,
about 80 KiB/s; imported only then, it takes a tenth of a second).

Why `openssl dgst` in a child process rather than the collection's ctypes binding: the sandbox stands in for
the platform, whose Go library (gogost) is an implementation of its own, so the sandbox must not share the
client's code to check the client's digests; and the child hashes on another core while the uploader's event
loop goes on receiving (a thread feeds it through a pipe, a few chunks deep). Digests are printed as gogost
prints them (`hex(h.Sum(nil))`), as both `openssl dgst` and gostcrypto do.
"""
from __future__ import annotations

import functools
import queue
import subprocess
import threading
from typing import Protocol

from ... import tools

PACKAGE = "libengine-gost-openssl"
_DIGESTS = {"streebog256": "md_gost12_256", "streebog512": "md_gost12_512"}
# GOST R 34.11-2012 example M1 and its 256-bit digest in gogost's byte order: the self-test of the provider.
_M1 = b"012345678901234567890123456789012345678901234567890123456789012"
_M1_256 = "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500"
_DEPTH = 4   # chunks queued for the child: back-pressure, constant memory


class Hash(Protocol):
    def update(self, data: bytes) -> None: ...
    def hexdigest(self) -> str: ...


def _argv(algo: str) -> list[str]:
    return [tools.command("openssl"), "dgst", "-provider", "gostprov", "-" + _DIGESTS[algo], "-r"]


@functools.cache
def native() -> bool:
    """`openssl dgst` with the GOST provider runs here and gives the standard's digest of M1."""
    try:
        out = subprocess.run(_argv("streebog256"), input=_M1, capture_output=True, timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return out.split(b" ", 1)[0].decode("ascii", "replace") == _M1_256


class _PipeHash:
    """`openssl dgst` fed by a thread of ours; `update` only queues the chunk (bytes are not copied)."""

    def __init__(self, algo: str) -> None:
        self.proc = subprocess.Popen(_argv(algo), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.chunks: queue.Queue[bytes | None] = queue.Queue(_DEPTH)
        # The thread holds the pipe and the queue, never this object: dropping the object ends the child.
        self.feeder = threading.Thread(target=_feed, args=(self.chunks, self.proc), daemon=True)
        self.feeder.start()
        self.result: str | None = None

    def update(self, data: bytes) -> None:
        if data:
            self.chunks.put(bytes(data))

    def hexdigest(self) -> str:
        if self.result is None:
            self.chunks.put(None)
            self.feeder.join()
            assert self.proc.stdout is not None
            out = self.proc.stdout.read()   # the feeder closed stdin: openssl prints the digest and exits
            self.proc.stdout.close()
            if self.proc.wait() != 0:
                raise RuntimeError("openssl dgst failed with status %d" % self.proc.returncode)
            self.result = out.split(b" ", 1)[0].decode("ascii").lower()
        return self.result

    def __del__(self) -> None:
        if self.result is None and self.proc.poll() is None:   # dropped unfinished (an interrupted upload)
            self.proc.kill()
            self.proc.wait()
            try:
                self.chunks.put_nowait(None)   # wake a feeder waiting for a chunk; a writing one gets EPIPE
            except queue.Full:
                pass


def _feed(chunks: queue.Queue[bytes | None], proc: subprocess.Popen[bytes]) -> None:
    stdin = proc.stdin
    assert stdin is not None
    try:
        while (chunk := chunks.get()) is not None:
            stdin.write(chunk)
    except (BrokenPipeError, ValueError):  # the child was killed: drain nothing more
        pass
    finally:
        try:
            stdin.close()
        except BrokenPipeError:
            pass


def _pure(algo: str) -> Hash:
    import gostcrypto.gosthash as gosthash   # slow to import: only when the provider is missing
    return gosthash.new(algo)


def new(algo: str, use_native: bool | None = None) -> Hash:
    """A streebog256/512 hash: OpenSSL's provider when `native()` (or `use_native`), else gostcrypto."""
    if algo not in _DIGESTS:
        raise ValueError(f"not a streebog algorithm: {algo}")
    if native() if use_native is None else use_native:
        return _PipeHash(algo)
    return _pure(algo)
