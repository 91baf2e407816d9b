"""The upload server against a raw loopback client (no sandbox): a client that goes away mid-body is the user's
`source image size mismatch`, while an error of the sandbox's own code while the body arrives surfaces as itself
(to the job, which fails it as an internal error) instead of being blamed on the client."""
from __future__ import annotations

import asyncio
import urllib.parse
from pathlib import Path
from typing import Callable

import pytest

from sandbox.controller.imports.uploader import Uploader, UploadHub, serve_upload

LENGTH = 64 * 1024


async def _upload(tmp_path: Path, body: bytes, on_bytes: Callable[[int, int], None]) -> str | None:
    """Serve one upload, send `body` (announcing LENGTH bytes) to its in-cluster URL and close the connection;
    the upload's outcome (serve_upload's return or exception)."""
    hub = UploadHub(0, tmp_path / "unused.crt", tmp_path / "unused.key")   # only its routing table is used
    urls: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()

    def on_ready(slot: Uploader, published: dict[str, str]) -> None:
        urls.set_result(published)

    async def store(path: Path) -> str | None:
        return None

    serving = asyncio.create_task(serve_upload(hub, "t" * 32, tmp_path / "source", None, 10.0, on_ready,
                                               lambda length: None, on_bytes, store))
    port = urllib.parse.urlsplit((await urls)["inCluster"]).port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"PUT /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % LENGTH + body)
    await writer.drain()
    if len(body) == LENGTH:
        await reader.read()          # the whole body sent: the server answers, then closes
    writer.close()
    return await serving


def test_a_client_that_goes_away_mid_body_is_a_size_mismatch(tmp_path: Path) -> None:
    assert asyncio.run(_upload(tmp_path, b"x" * (LENGTH // 2), lambda got, total: None)) == \
        "source image size mismatch"


def test_a_whole_body_is_stored(tmp_path: Path) -> None:
    assert asyncio.run(_upload(tmp_path, b"x" * LENGTH, lambda got, total: None)) is None
    assert (tmp_path / "source").read_bytes() == b"x" * LENGTH


def _broken(got: int, total: int) -> None:
    raise TypeError("a bug in the sandbox")


def test_an_error_of_the_sandbox_itself_is_not_taken_for_a_short_body(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="a bug in the sandbox"):
        asyncio.run(_upload(tmp_path, b"x" * LENGTH, _broken))
