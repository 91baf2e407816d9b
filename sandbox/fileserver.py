"""The sandbox's web server for HTTP data sources: `<state>/www/` over HTTP and HTTPS.

Real enough to exercise importers and clients: Range requests (206), a per-connection
bandwidth cap, and failure endpoints that imitate what goes wrong on the Internet.
It counts bytes served per file so benchmarks can prove "each source fetched once".

Paths:
    /<file>                          the file under www/ (Range honoured)
    /fault/404/<any>                 404 Not Found
    /fault/500/<any>                 500 Internal Server Error
    /fault/flaky/<n>/<file>          500 for the first n requests of that URL, then the file
    /fault/drop/<file>               full Content-Length, half the body, then the connection drops
    /fault/length/<file>             Content-Length larger than the body sent
    /fault/slow/<seconds>/<file>     waits before the first byte
    /stats                           GET: {"bytes": {file: n}, "requests": {file: n}}; DELETE resets
Query `?rate=<bytes/s>` overrides the bandwidth cap for one request.

Run: python -m sandbox.fileserver --state-dir DIR [--rate BYTES_PER_S]
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import re
import ssl
from pathlib import Path

from aiohttp import web

_CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class FileServer:
    """State shared by both listeners: the root, the cap, the counters."""

    def __init__(self, root: Path, rate: int = 0) -> None:
        self.root = root.resolve()
        self.rate = rate
        self.bytes_served: collections.Counter[str] = collections.Counter()
        self.requests: collections.Counter[str] = collections.Counter()
        self.flaky_hits: collections.Counter[str] = collections.Counter()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("GET", "/stats", self.stats)
        app.router.add_route("DELETE", "/stats", self.reset_stats)
        app.router.add_route("*", "/fault/404/{tail:.*}", self.not_found)
        app.router.add_route("*", "/fault/500/{tail:.*}", self.server_error)
        app.router.add_route("GET", "/fault/flaky/{n:\\d+}/{file:.+}", self.flaky)
        app.router.add_route("GET", "/fault/drop/{file:.+}", self.drop)
        app.router.add_route("GET", "/fault/length/{file:.+}", self.bad_length)
        app.router.add_route("GET", "/fault/slow/{seconds:[0-9.]+}/{file:.+}", self.slow)
        app.router.add_route("GET", "/{file:.+}", self.serve)
        app.router.add_route("HEAD", "/{file:.+}", self.serve)
        return app

    # -- helpers -----------------------------------------------------------------------------
    def _resolve(self, rel: str) -> Path:
        path = (self.root / rel).resolve()
        if self.root not in path.parents or not path.is_file():
            raise web.HTTPNotFound()
        return path

    def _rate(self, request: web.Request) -> int:
        try:
            return int(request.query.get("rate", self.rate))
        except ValueError:
            return self.rate

    async def _send(self, request: web.Request, resp: web.StreamResponse, path: Path, rel: str,
                    start: int, length: int) -> None:
        """Write length bytes from start, paced to the cap, counting what really left."""
        rate = self._rate(request)
        step = max(1024, min(_CHUNK, rate // 20)) if rate > 0 else _CHUNK   # small steps keep the pace even
        loop = asyncio.get_running_loop()
        began = loop.time()
        sent = 0
        with open(path, "rb") as f:
            f.seek(start)
            while sent < length:
                chunk = f.read(min(step, length - sent))
                if not chunk:
                    break
                await resp.write(chunk)
                sent += len(chunk)
                self.bytes_served[rel] += len(chunk)
                if rate > 0:
                    ahead = sent / rate - (loop.time() - began)
                    if ahead > 0:
                        await asyncio.sleep(ahead)

    # -- handlers ----------------------------------------------------------------------------
    async def serve(self, request: web.Request, rel: str | None = None) -> web.StreamResponse:
        rel = rel if rel is not None else request.match_info["file"]
        path = self._resolve(rel)
        self.requests[rel] += 1
        size = path.stat().st_size
        start, end, status = 0, size - 1, 200
        header = request.headers.get("Range")
        if header:
            m = _RANGE.match(header.strip())
            if not m or (not m.group(1) and not m.group(2)):
                raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
            if m.group(1):
                start = int(m.group(1))
                end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            else:
                start = max(0, size - int(m.group(2)))
            if start >= size or start > end:
                raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
            status = 206
        length = end - start + 1 if size else 0
        resp = web.StreamResponse(status=status)
        resp.content_length = length
        resp.content_type = "application/octet-stream"
        resp.headers["Accept-Ranges"] = "bytes"
        if status == 206:
            resp.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        await resp.prepare(request)
        if request.method != "HEAD":
            await self._send(request, resp, path, rel, start, length)
        await resp.write_eof()
        return resp

    async def not_found(self, request: web.Request) -> web.Response:
        return web.Response(status=404, text="404 page not found\n")

    async def server_error(self, request: web.Request) -> web.Response:
        return web.Response(status=500, text="internal error\n")

    async def flaky(self, request: web.Request) -> web.StreamResponse:
        key = request.path
        self.flaky_hits[key] += 1
        if self.flaky_hits[key] <= int(request.match_info["n"]):
            return web.Response(status=500, text="flaky\n")
        return await self.serve(request, request.match_info["file"])

    async def drop(self, request: web.Request) -> web.StreamResponse:
        """Announce the whole file, send half, close: a connection dropped mid-transfer."""
        return await self._broken(request, extra_length=0, sent_part=0.5)

    async def bad_length(self, request: web.Request) -> web.StreamResponse:
        """Announce 1 KiB more than the file holds, send it all, close: a short body."""
        return await self._broken(request, extra_length=1024, sent_part=1.0)

    async def _broken(self, request: web.Request, extra_length: int, sent_part: float) -> web.StreamResponse:
        rel = request.match_info["file"]
        path = self._resolve(rel)
        self.requests[rel] += 1
        size = path.stat().st_size
        resp = web.StreamResponse()
        resp.content_length = size + extra_length
        await resp.prepare(request)
        await self._send(request, resp, path, rel, 0, int(size * sent_part))
        assert request.transport is not None
        request.transport.close()
        return resp

    async def slow(self, request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(float(request.match_info["seconds"]))
        return await self.serve(request, request.match_info["file"])

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response({"bytes": dict(self.bytes_served), "requests": dict(self.requests)})

    async def reset_stats(self, request: web.Request) -> web.Response:
        self.bytes_served.clear()
        self.requests.clear()
        self.flaky_hits.clear()
        return web.json_response({})


async def serve(root: Path, http_port: int, https_port: int | None, cert: Path | None, key: Path | None,
                rate: int = 0) -> web.AppRunner:
    """Start both listeners on loopback; the caller owns the returned runner."""
    root.mkdir(parents=True, exist_ok=True)
    runner = web.AppRunner(FileServer(root, rate).app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", http_port).start()
    if https_port and cert and key:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(cert), str(key))
        await web.TCPSite(runner, "127.0.0.1", https_port, ssl_context=ctx).start()
    return runner


def main(argv: list[str] | None = None) -> None:
    from .config import State
    from .pki import ensure_leaf

    parser = argparse.ArgumentParser(prog="python -m sandbox.fileserver")
    parser.add_argument("--state-dir")
    parser.add_argument("--rate", type=int, default=0, help="bytes/s per connection (0: no cap)")
    args = parser.parse_args(argv)
    state = State(args.state_dir)
    cert, key = ensure_leaf(state, "fileserver")

    async def run() -> None:
        await serve(state.root / "www", state.port("http"), state.port("https"), cert, key, args.rate)
        await asyncio.Event().wait()

    asyncio.run(run())


if __name__ == "__main__":
    main()
