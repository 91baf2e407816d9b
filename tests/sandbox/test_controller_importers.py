"""The HTTP importer against a throwaway loopback server (no sandbox): a body cut short is a transient
`unexpected EOF` (retried, then reported as the platform does), while an error of the sandbox's own code while the
body streams surfaces as itself, and a cancelled job stays cancelled."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from sandbox.controller.imports import importers
from sandbox.controller.imports.importers import Cancelled, Feed, ImportFailed, fetch_http

BODY = b"x" * 4096


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        # /drop: the whole length announced, half the body sent, then the connection closes
        self.wfile.write(BODY[:len(BODY) // 2] if self.path == "/drop" else BODY)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d" % httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_whole_body_is_fetched(server: str, tmp_path: Path) -> None:
    fetched = fetch_http(server + "/disk.raw", None, None, tmp_path, Feed(), retry_window=0)
    assert fetched.name == "disk.raw" and fetched.path.read_bytes() == BODY


def test_a_body_cut_short_is_an_unexpected_eof(server: str, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="^unable to process data: unexpected EOF$"):
        fetch_http(server + "/drop", None, None, tmp_path, Feed(), retry_window=0)


class _Broken(importers.Checksums):
    def update(self, data: bytes) -> None:
        raise KeyError("a bug in the sandbox")


def test_an_error_of_the_sandbox_itself_is_not_taken_for_a_dropped_connection(
        server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importers, "Checksums", _Broken)
    with pytest.raises(KeyError, match="a bug in the sandbox"):
        fetch_http(server + "/disk.raw", None, None, tmp_path, Feed(), retry_window=5)


def test_a_cancelled_job_stays_cancelled(server: str, tmp_path: Path) -> None:
    feed = Feed()
    feed.cancel.set()
    with pytest.raises(Cancelled):
        importers._download(server + "/disk.raw", True, tmp_path / "source", feed, "127.0.0.1", 0, None)
