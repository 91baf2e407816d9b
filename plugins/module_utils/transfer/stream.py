# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""One HTTP PUT of a local file to an upload URL, with constant memory.

Why a raw socket: the upload server needs an exact Content-Length and the body
should reach the socket without copies; ``sendall`` on a memoryview releases the
GIL, as do the hashers (hashing.py), so hashing runs beside the send. The file is
read once. The last buffer is held back until every checksum is known: when a
given checksum is wrong the connection is dropped before the last byte, so the
server never stores a wrong image (a one-buffer file is not sent at all).

Messages never contain the URL (it is a credential): see ``redaction.redact``.
"""

from __future__ import annotations

import http.client
import os
import select
import socket
import ssl
import time
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple
from urllib.parse import urlsplit

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.hashing import (
    CHUNK_SIZE, ParallelHasher, mismatches,
)

USER_AGENT = "deckhouse.virtualization-upload"
ProgressCallback = Callable[[int, int], None]


class StreamError(Exception):
    """Base: ``str()`` is safe to show (no URL); ``sent`` body bytes went out."""

    def __init__(self, msg: str, sent: int = 0) -> None:
        super().__init__(msg)
        self.sent = sent


class ConnectFailed(StreamError):
    """No request reached the server (connect or TLS failed): safe to retry."""


class TlsRejected(StreamError):
    """The upload server's certificate did not verify: retrying will not help."""


class Interrupted(StreamError):
    """The connection broke after the request started: the server counts the upload as failed."""


class ChecksumMismatch(StreamError):
    """A given checksum is wrong; the last byte was never sent."""

    def __init__(self, msg: str, sent: int, computed: Dict[str, str]) -> None:
        super().__init__(msg, sent)
        self.computed = computed


class FileChanged(StreamError):
    """The file shrank while it was being sent."""


class Outcome(NamedTuple):
    """The server's answer and what was sent."""

    status: int
    body: str
    sent: int
    seconds: float
    checksums: Dict[str, str]
    transfer_seconds: float = 0.0  # first to last body byte (the rest is the server storing the image)


class Target(NamedTuple):
    """Where to connect and what to put in the request line."""

    tls: bool
    host: str
    port: int
    request_path: str


def parse_target(url: str) -> Target:
    """The parts of an http(s) URL the request needs (ValueError when it is not one)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the upload URL must be an absolute http or https URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme == "https", parts.hostname, port, path)


def tls_context(validate_certs: bool = True, ca_cert: Optional[str] = None) -> ssl.SSLContext:
    """The upload's own TLS settings (independent of the API server's)."""
    context = ssl.create_default_context(cafile=ca_cert)
    if not validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _host_header(target: Target) -> str:
    host = "[%s]" % target.host if ":" in target.host else target.host
    default = 443 if target.tls else 80
    return host if target.port == default else "%s:%d" % (host, target.port)


def _request_head(target: Target, size: int, method: str) -> bytes:
    lines = ["%s %s HTTP/1.1" % (method, target.request_path), "Host: " + _host_header(target),
             "User-Agent: " + USER_AGENT, "Content-Type: application/octet-stream",
             "Content-Length: %d" % size, "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


def connect(target: Target, context: Optional[ssl.SSLContext], timeout: float) -> socket.socket:
    """A connected (and for https, handshaken) socket; ConnectFailed otherwise."""
    try:
        sock = socket.create_connection((target.host, target.port), timeout=timeout)
    except OSError as exc:
        raise ConnectFailed("cannot connect to the upload server: %s" % _describe(exc))
    if not target.tls:
        return sock
    try:
        return (context or tls_context()).wrap_socket(sock, server_hostname=target.host)
    except ssl.SSLCertVerificationError as exc:
        sock.close()
        raise TlsRejected("TLS verification of the upload server failed: %s "
                          "(set upload_ca_cert, or upload_validate_certs: false)" % exc.verify_message)
    except (ssl.SSLError, OSError) as exc:
        sock.close()
        raise ConnectFailed("TLS handshake with the upload server failed: %s" % _describe(exc))


def _describe(exc: BaseException) -> str:
    """An OS/TLS error without anything that could echo a URL."""
    if isinstance(exc, ssl.SSLError):
        return exc.reason or type(exc).__name__
    if isinstance(exc, socket.timeout):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


def read_response(sock: socket.socket, timeout: float, method: str = "PUT") -> Tuple[int, str]:
    """(status, body text) of the answer; the server may take long (it stores the image first)."""
    sock.settimeout(timeout)
    response = http.client.HTTPResponse(sock, method=method)
    try:
        response.begin()
        body = response.read(65536)
    finally:
        response.close()
    return response.status, body.decode("utf-8", "replace").strip()


def _answered_early(sock: socket.socket) -> bool:
    """The server has already answered (e.g. 503 or 404) while we are still sending.

    Only for plain sockets: over TLS a readable socket may just hold a session ticket
    (TLS 1.3 servers send them after the handshake), so there an early answer is only
    seen when the server also closes the connection (the send then fails and the
    answer is read, see ``Sender._send``).
    """
    if isinstance(sock, ssl.SSLSocket):
        return False
    return bool(select.select([sock], [], [], 0)[0])


def probe(url: str, context: Optional[ssl.SSLContext], timeout: float) -> bool:
    """GET answers 200 (the upload server's readiness probe): the URL is reachable from here."""
    target = parse_target(url)
    try:
        sock = connect(target, context, timeout)
    except (ConnectFailed, TlsRejected):
        return False
    try:
        head = "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nConnection: close\r\n\r\n" % (
            target.request_path, _host_header(target), USER_AGENT)
        sock.sendall(head.encode("latin-1"))
        return read_response(sock, timeout, "GET")[0] == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        sock.close()


class Sender:
    """Streams one file; one instance per attempt."""

    def __init__(self, url: str, path: str, algorithms: List[str], given: Optional[Dict[str, str]] = None,
                 context: Optional[ssl.SSLContext] = None, io_timeout: float = 60.0,
                 response_timeout: float = 600.0, on_progress: ProgressCallback = lambda sent, total: None,
                 chunk_size: int = CHUNK_SIZE, method: str = "PUT",
                 before_last: Callable[[], None] = lambda: None) -> None:
        self.target = parse_target(url)
        self.path = path
        self.algorithms = algorithms
        self.given = given or {}
        self.context = context
        self.io_timeout = io_timeout
        self.response_timeout = response_timeout
        self.on_progress = on_progress
        self.chunk_size = chunk_size
        self.method = method
        self.before_last = before_last  # runs once the file is known to match, before its last buffer is sent

    def send(self) -> Outcome:
        """PUT the whole file; the server's answer (any status) or a StreamError."""
        started = time.monotonic()
        try:
            return self._send_all(started)
        except _EarlyAnswer as early:
            return Outcome(early.status, early.body, early.sent, time.monotonic() - started, {})

    def _send_all(self, started: float) -> Outcome:
        # The hashers may fall behind the socket (they read missed ranges back from the file), except
        # that with given checksums everything is hashed before the last buffer is sent. Without given
        # checksums the hash is only recorded: it waits until the last byte is sent, so that the transfer has
        # the CPU to itself (the upload server may run on this machine, as the sandbox's does), then reads the
        # file back from the page cache at a lower priority while the server stores the image. (Measured side
        # by side: hashing during the transfer cost 0.87x curl -T at 1 GiB, after the server's answer 1.03x but
        # a longer task; this 0.98-1.01x with the shortest task.)
        recorded_only = not self.given
        with open(self.path, "rb", buffering=0) as stream, \
                ParallelHasher(self.algorithms, self.chunk_size, source=self.path, background=recorded_only,
                               deferred=recorded_only) as hasher:
            size = os.fstat(stream.fileno()).st_size
            own = memoryview(bytearray(min(self.chunk_size, max(size, 1))))
            sock: Optional[socket.socket] = None
            sent = 0
            computed: Dict[str, str] = {}
            first_byte = last_byte = started
            try:
                while sent < size:
                    buf = hasher.try_acquire()
                    view = buf.view if buf is not None else own
                    length = stream.readinto(view[:min(self.chunk_size, size - sent)])
                    if not length:
                        if buf is not None:
                            hasher.release_unused(buf)
                        raise FileChanged("the file shrank while it was being sent (%d of %d bytes)"
                                          % (sent, size), sent)
                    if buf is not None:
                        hasher.submit(buf, length)
                    else:
                        hasher.skip(sent, length)
                    if sent + length == size:
                        if self.given:
                            computed = self._verified(hasher, sent)
                        self.before_last()
                    if sock is None:
                        sock = connect(self.target, self.context, self.io_timeout)
                        self._send(sock, memoryview(_request_head(self.target, size, self.method)), sent)
                        first_byte = time.monotonic()
                    elif _answered_early(sock):
                        break
                    self._send(sock, view[:length], sent)
                    sent += length
                    last_byte = time.monotonic()
                    self.on_progress(sent, size)
                if sock is None:  # nothing to send: an empty file
                    sock = connect(self.target, self.context, self.io_timeout)
                    self._send(sock, memoryview(_request_head(self.target, size, self.method)), 0)
                hasher.go()
                status, body = self._response(sock, sent)
                answered = time.monotonic() - started  # the span curl -T reports: request start to the answer
                if sent == size and not computed:
                    computed = hasher.hexdigests()  # recorded only: made while the server stored the image
                return Outcome(status, body, sent, answered, computed if sent == size else {},
                               last_byte - first_byte)
            finally:
                if sock is not None:
                    sock.close()

    def _verified(self, hasher: ParallelHasher, sent: int) -> Dict[str, str]:
        """All checksums, once the last buffer is hashed; ChecksumMismatch before it is sent."""
        computed = hasher.hexdigests()
        wrong = mismatches(self.given, computed)
        if wrong:
            raise ChecksumMismatch("; ".join("checksum.%s is %s but the file's is %s" % item for item in wrong),
                                   sent, computed)
        return computed

    def _send(self, sock: socket.socket, data: memoryview, sent: int) -> None:
        try:
            sock.sendall(data)
        except OSError as exc:
            # The server may have answered and closed (e.g. 500 on a size mismatch): read it if so.
            try:
                status, body = read_response(sock, 2.0, self.method)
            except (OSError, http.client.HTTPException):
                raise Interrupted("the upload was interrupted after %d bytes: %s" % (sent, _describe(exc)), sent)
            raise _EarlyAnswer(status, body, sent)

    def _response(self, sock: socket.socket, sent: int) -> Tuple[int, str]:
        try:
            return read_response(sock, self.response_timeout, self.method)
        except socket.timeout:
            raise Interrupted("the upload server did not answer within %ss after the last byte"
                              % int(self.response_timeout), sent)
        except (OSError, http.client.HTTPException) as exc:
            raise Interrupted("the upload server closed the connection without an answer after %d bytes: %s"
                              % (sent, _describe(exc)), sent)


class _EarlyAnswer(Exception):
    """Internal: the server answered before the body was complete."""

    def __init__(self, status: int, body: str, sent: int) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.sent = sent
