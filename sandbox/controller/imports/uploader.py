"""The upload server: what the platform's uploader pod and its ingress do, on loopback.

One HTTPS listener serves every `external` URL (`/upload/<32 random [a-z0-9]>`); each
upload also gets its own plain-HTTP listener for `inCluster` (`http://127.0.0.1:<port>/upload`),
as each uploader pod has its own service. A URL serves exactly one upload and then dies.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
import ssl
import string
from pathlib import Path
from typing import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import PayloadEncodingError

from .diskinfo import Checksums

log = logging.getLogger(__name__)
_ALPHABET = string.ascii_lowercase + string.digits
_CHUNK = 1 << 20
# What reading the body and writing the file raise when the client goes away mid-body (aiohttp hands the read a
# ConnectionResetError), the body cannot be decoded as declared, or the disk fails. Anything else is a bug in the
# sandbox: it is not answered as a short body.
_BODY_ERRORS = (OSError, PayloadEncodingError)


def random_path() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(32))


class Uploader:
    """One upload slot: accepts one PUT/POST, stores the bytes, then answers and closes."""

    def __init__(self, token: str, dest: Path, checksum: dict | None,
                 on_start: Callable[[int], None], on_bytes: Callable[[int, int], None],
                 finish: Callable[[Path | None, str | Exception | None], Awaitable[str | None]]) -> None:
        self.token = token
        self.dest = dest
        self.checksum = checksum
        self.on_start = on_start
        self.on_bytes = on_bytes
        # (file, error) -> error after storing (None: stored fine); the error is the client's text, or the
        # exception of a bug while receiving
        self.finish = finish
        self.busy = False
        self.used = False
        self.in_cluster_url = ""
        self._runner: web.AppRunner | None = None

    async def start_in_cluster(self) -> str:
        app = web.Application(client_max_size=0)
        app.router.add_route("*", "/upload", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.in_cluster_url = f"http://127.0.0.1:{port}/upload"
        return self.in_cluster_url

    async def close(self) -> None:
        self.used = True
        if self._runner:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.used and not self.busy:
            raise web.HTTPNotFound()
        if request.method == "GET":
            return web.Response(status=200)
        if request.method not in ("PUT", "POST"):
            raise web.HTTPNotFound()
        if self.busy:
            return web.Response(status=503, text="upload in progress\n")
        self.busy = True
        self.used = True
        try:
            received: str | Exception | None
            try:
                received = await self._receive(request)
            except Exception as exc:  # a bug of the sandbox: finish ends the upload with it, then raises it
                received = exc
            error = await self.finish(None if received else self.dest, received)
        finally:
            self.busy = False
        # The pod exits after one upload: stop the in-cluster listener once this answer is out.
        asyncio.get_running_loop().call_later(0.2, lambda: asyncio.ensure_future(self.close()))
        if error:
            return web.Response(status=500, text=error + "\n")
        return web.Response(status=200)

    async def _receive(self, request: web.Request) -> str | None:
        length = request.content_length
        if not length or request.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return "zero data source image size"
        self.on_start(length)
        sums = Checksums(self.checksum)
        got = 0
        try:
            with open(self.dest, "wb") as f:
                while True:
                    chunk = await request.content.read(_CHUNK)
                    if not chunk:
                        break
                    f.write(chunk)
                    sums.update(chunk)
                    got += len(chunk)
                    self.on_bytes(got, length)
        except _BODY_ERRORS as exc:
            log.info("upload interrupted: %s", exc.__class__.__name__)
            return "source image size mismatch"
        if got != length:
            return "source image size mismatch"
        return sums.mismatch()


async def stop_job(hub: "UploadHub", job) -> None:
    """Stop an image's or a disk's job: cancel its fetch, close its upload URL, end its task."""
    job.feed.cancel.set()
    if job.uploader is not None:
        await hub.remove(job.uploader)
    if job.task and not job.task.done():
        job.task.cancel()


class UploadNotStarted(Exception):
    """Nobody started an upload before the deadline."""


async def serve_upload(hub: "UploadHub", token: str, dest: Path, checksum: dict | None, deadline: float | None,
                       on_ready: Callable[[Uploader, dict[str, str]], None], on_start: Callable[[int], None],
                       on_bytes: Callable[[int, int], None],
                       store: Callable[[Path], Awaitable[str | None]]) -> str | None:
    """One uploader's life, for images and disks alike: publish the URL pair (`on_ready`), wait for an
    upload to start (UploadNotStarted after `deadline` seconds; None: no deadline), receive it, `store`
    it (None when stored, else the error the client is answered with) and close the URLs.
    Returns None when stored, else the error text; a bug of the sandbox while receiving or storing is raised here
    (as well as to the HTTP server, which logs it and answers 500), so the job fails as an internal error."""
    done = asyncio.Event()
    started = asyncio.Event()
    outcome: dict[str, str | None] = {}
    bugs: list[Exception] = []

    def start(length: int) -> None:
        started.set()
        on_start(length)

    async def finish(path: Path | None, error: str | Exception | None) -> str | None:
        try:
            if isinstance(error, Exception):
                raise error
            if error is None and path is not None:
                error = await store(path)
            outcome["error"] = error or None
            return error
        except Exception as exc:
            bugs.append(exc)
            raise
        finally:
            done.set()

    slot = Uploader(token, dest, checksum, start, on_bytes, finish)
    await slot.start_in_cluster()
    hub.add(slot)
    on_ready(slot, {"external": hub.external_url(slot.token), "inCluster": slot.in_cluster_url})
    try:
        waiters = [asyncio.ensure_future(started.wait()), asyncio.ensure_future(done.wait())]
        try:     # a refused body (chunked, empty) ends the upload without starting it
            finished, _ = await asyncio.wait(waiters, timeout=deadline, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
        if not finished:
            raise UploadNotStarted()
        await done.wait()
        await asyncio.sleep(0)   # keep the upload's files until the handler answered
        if bugs:
            raise bugs[0]
        return outcome.get("error")
    finally:
        await hub.remove(slot)


class UploadHub:
    """The shared HTTPS listener routing `/upload/<token>` to the live uploaders."""

    def __init__(self, port: int, cert: Path, key: Path) -> None:
        self.port = port
        self.cert, self.key = cert, key
        self.slots: dict[str, Uploader] = {}
        self._runner: web.AppRunner | None = None

    def external_url(self, token: str) -> str:
        return f"https://127.0.0.1:{self.port}/upload/{token}"

    async def start(self) -> None:
        app = web.Application(client_max_size=0)
        app.router.add_route("*", "/upload/{token}", self._route)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(self.cert), str(self.key))
        await web.TCPSite(self._runner, "127.0.0.1", self.port, ssl_context=ctx).start()

    async def _route(self, request: web.Request) -> web.StreamResponse:
        slot = self.slots.get(request.match_info["token"])
        if slot is None:
            raise web.HTTPNotFound()
        return await slot.handle(request)

    def add(self, slot: Uploader) -> None:
        self.slots[slot.token] = slot

    async def remove(self, slot: Uploader) -> None:
        if self.slots.get(slot.token) is slot:
            del self.slots[slot.token]
        await slot.close()
