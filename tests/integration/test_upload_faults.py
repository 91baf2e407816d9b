"""Upload fault not covered by test_upload.py: the upload endpoint reads every byte, then answers 500.
The module must fail and say so (not report Ready or changed-and-fine). The endpoint counts what it answered: the
fault was injected exactly once (retries 0: one request, read to its last byte, answered 500)."""
from __future__ import annotations

import http.server
import threading
from typing import Any, List

UP = "deckhouse.virtualization.virtual_image_upload"


class _EatThen500(http.server.BaseHTTPRequestHandler):
    """Reads the whole body, then answers 500 InternalError; each answer's bytes read go to ``answered``."""

    answered: List[int] = []

    def do_PUT(self) -> None:  # noqa: N802 (http.server's naming)
        remaining = int(self.headers.get("Content-Length") or 0)
        read = 0
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 65536))
            if not chunk:
                break
            remaining -= len(chunk)
            read += len(chunk)
        self.answered.append(read)
        self.send_response(500)
        self.send_header("Content-Length", "15")
        self.end_headers()
        self.wfile.write(b"internal error\n")

    do_POST = do_PUT

    def log_message(self, *args: Any) -> None:
        pass


def test_upload_answered_500_after_the_last_byte_fails(play, kube, namespace, tmp_path):
    kube.upload_image(namespace, "eaten")
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\1" * 262144)
    handler = type("Eat", (_EatThen500,), {"answered": []})   # this test's own count
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/upload" % server.server_address[1]
    try:
        run = play([{UP: {"name": "eaten", "namespace": namespace, "path": str(disk), "upload_url": url,
                          "retries": 0, "wait_timeout": 8}, "register": "eaten", "ignore_errors": True}])
    finally:
        server.shutdown()
        server.server_close()
    eaten = run["eaten"]
    assert eaten["failed"] is True, eaten
    assert "upload refused: HTTP 500" in eaten["msg"], eaten["msg"]  # the timeout says why
    assert handler.answered == [262144], handler.answered   # one 500, after the whole file: retries 0 kept
    assert url not in run.stdout  # the upload URL is a credential, even a wrong one
