# -*- coding: utf-8 -*-
"""The urllib3 transport: what it sends (query, JSON body, fresh Authorization, impersonation) and how it reads a
streamed answer; which hosts skip the proxy."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.endpoint import Endpoint
from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.transport import (
    bypasses_proxy, endpoint_transport, response_lines,
)


@pytest.mark.parametrize("url, no_proxy, bypass", [
    ("https://api.example.com:6443", "example.com", True),
    ("https://api.example.com:6443", ".example.com", True),
    ("https://api.example.com:6443", "api.example.com:6443", True),
    ("https://api.example.com:6443", "other.com,le.com", False),
    ("https://10.1.2.3:6443", "10.0.0.0/8", True),
    ("https://11.1.2.3:6443", "10.0.0.0/8", False),
    ("https://[fd00::5]:6443", "fd00::/64", True),
    ("https://anything", "*", True),
    ("https://anything", None, False),
])
def test_no_proxy_rules(url, no_proxy, bypass):
    assert bypasses_proxy(url, no_proxy) is bypass


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list = []

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.seen.append((self.command, self.path, dict(self.headers), self.rfile.read(length)))
        if "watch=true" in self.path:
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (b'{"type": "ADDED"}\n{"ty', b'pe": "MODIFIED"}\n', b'{"type": "DELETED"}'):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            return
        body = b'{"kind": "Status", "code": 404}'
        self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Warning", '299 - "careful"')
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = _answer

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    _Recorder.seen = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_what_the_transport_sends_and_reads(server, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    endpoint = Endpoint(server + "/")
    tokens = iter(["Bearer one", "Bearer two"])
    endpoint.authorization = lambda: next(tokens)
    endpoint.headers = {"Impersonate-User": "bob"}
    send = endpoint_transport(endpoint)
    reply = send("POST", "/apis/g/v1/things", [("fieldValidation", "Strict"), ("dryRun", "All")],
                 {"Content-Type": "application/json"}, {"a": "é"}, False, 5.0)
    assert (reply.status, reply.headers.get("warning"), json.loads(reply.body)["code"]) == (404, '299 - "careful"', 404)
    method, path, headers, body = _Recorder.seen[0]
    assert (method, path) == ("POST", "/apis/g/v1/things?fieldValidation=Strict&dryRun=All")
    assert headers["Authorization"] == "Bearer one" and headers["Impersonate-User"] == "bob"
    assert headers["User-Agent"].startswith("deckhouse.virtualization/")     # the field manager's name
    assert json.loads(body.decode("utf-8")) == {"a": "é"}
    stream = send("GET", "/apis/g/v1/things", [("watch", "true")], {}, None, True, (5.0, 10.0))
    assert [json.loads(line)["type"] for line in response_lines(stream.body)] == ["ADDED", "MODIFIED", "DELETED"]
    assert _Recorder.seen[1][2]["Authorization"] == "Bearer two"     # asked again for every request
