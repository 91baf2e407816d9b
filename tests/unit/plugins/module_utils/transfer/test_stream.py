# -*- coding: utf-8 -*-
"""The streaming library against a loopback sink: hashes, Content-Length, early answers, failures, redaction."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from typing import Any, Dict, List

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import hashing
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.redaction import redact
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.stream import (
    ChecksumMismatch, ConnectFailed, FileChanged, Interrupted, Sender, parse_target, probe, tls_context,
)

SECRET = "/upload/abcdefghijklmnopqrstuvwxyz012345"
CHUNK = 64 * 1024


class Sink:
    """A loopback HTTP server that records each request; ``mode`` says how it answers.

    ok: read the whole body, answer 200 | busy: answer 503 at once (without reading the body) |
    error: read the body, answer 500 "boom" | cut: read ``cut_after`` bytes then close without answering.
    """

    def __init__(self, mode: str = "ok", cut_after: int = 0, tls: Any = None) -> None:
        self.tls = tls
        self.mode = mode
        self.cut_after = cut_after
        self.requests: List[Dict[str, Any]] = []
        self.connections = 0
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        self.port = self.server.getsockname()[1]
        self.url = "%s://127.0.0.1:%d%s" % ("https" if tls else "http", self.port, SECRET)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn = self.server.accept()[0]
            except OSError:
                return
            self.connections += 1
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            with conn:
                self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            more = conn.recv(65536)
            if not more:
                return
            data += more
        head, body = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        request: Dict[str, Any] = {"line": lines[0], "headers": headers, "received": len(body)}
        self.requests.append(request)
        if lines[0].startswith("GET"):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        if self.mode == "busy":
            conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 19\r\nConnection: close\r\n\r\n"
                         b"upload in progress\n")
            return
        length = int(headers.get("content-length", "0"))
        limit = self.cut_after if self.mode == "cut" else length
        digest = hashlib.sha256(body[:limit])
        got = min(len(body), limit)
        while got < limit:
            more = conn.recv(min(1 << 20, limit - got))
            if not more:
                break
            digest.update(more)
            got += len(more)
        request["received"] = got
        request["sha256"] = digest.hexdigest()
        if self.mode == "cut":
            conn.shutdown(socket.SHUT_RDWR)
            return
        status = b"200 OK" if self.mode == "ok" else b"500 Internal Server Error"
        text = b"" if self.mode == "ok" else b"boom\n"
        conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(text)
                     + text)

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def sink():
    made: List[Sink] = []

    def make(mode: str = "ok", cut_after: int = 0) -> Sink:
        made.append(Sink(mode, cut_after))
        return made[-1]
    yield make
    for item in made:
        item.close()


@pytest.fixture
def blob(tmp_path):
    def make(size: int, name: str = "disk.img") -> str:
        path = tmp_path / name
        path.write_bytes(os.urandom(size))
        return str(path)
    return make


def reference(path: str, algo: str) -> str:
    with open(path, "rb") as stream:
        data = stream.read()
    if algo.startswith("streebog"):
        from gostcrypto import gosthash  # the implementation the sandbox uses
        return gosthash.new(algo, data=data).hexdigest()
    return hashlib.new(algo, data).hexdigest()


# -- hashing ----------------------------------------------------------------------------------------
def test_every_algorithm_matches_its_reference_across_many_small_buffers(blob):
    path = blob(10 * 1000 + 7)
    fast = ("md5", "sha1", "sha256", "sha512")
    sums, size = hashing.hash_file(path, fast, chunk_size=1000)
    assert size == 10 * 1000 + 7
    assert sums == {algo: reference(path, algo) for algo in fast}


def test_streebog_both_sizes_match_gostcrypto_and_the_standard_vector(tmp_path):
    # GOST R 34.11-2012, example 1: the 63-byte message "0123456789..." (hash printed as the standard prints it).
    message = tmp_path / "m1"
    message.write_bytes(b"012345678901234567890123456789012345678901234567890123456789012")
    sums = hashing.hash_file(str(message), ("streebog256", "streebog512"), chunk_size=16)[0]
    assert sums["streebog256"] == reference(str(message), "streebog256")
    assert sums["streebog512"] == reference(str(message), "streebog512")
    assert sums["streebog256"] == "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500"


def test_algorithms_default_to_sha1_and_mismatches_ignore_case():
    assert hashing.algorithms_for(None) == ["sha1"]
    assert hashing.algorithms_for({"md5": "x", "sha1": None}, ["sha512"]) == ["md5", "sha512"]
    assert hashing.mismatches({"md5": "AB"}, {"md5": "ab"}) == []
    assert hashing.mismatches({"md5": "ab"}, {"md5": "cd"}) == [("md5", "ab", "cd")]


# -- streaming --------------------------------------------------------------------------------------
def test_put_sends_exact_content_length_and_checksums_while_streaming(sink, blob):
    server = sink()
    path = blob(5 * CHUNK + 123)
    seen = []
    outcome = Sender(server.url, path, ["md5", "sha256"], chunk_size=CHUNK,
                     on_progress=lambda sent, total: seen.append((sent, total))).send()
    assert outcome.status == 200 and outcome.sent == 5 * CHUNK + 123
    request = server.requests[0]
    assert request["line"] == "PUT %s HTTP/1.1" % SECRET
    assert request["headers"]["content-length"] == str(5 * CHUNK + 123)
    assert "transfer-encoding" not in request["headers"]
    assert request["received"] == 5 * CHUNK + 123 and request["sha256"] == reference(path, "sha256")
    assert outcome.checksums == {"md5": reference(path, "md5"), "sha256": reference(path, "sha256")}
    assert seen[-1] == (5 * CHUNK + 123, 5 * CHUNK + 123) and len(seen) == 6


def test_a_given_checksum_is_verified_and_a_one_buffer_file_is_never_sent(sink, blob):
    server = sink()
    path = blob(1000)
    with pytest.raises(ChecksumMismatch) as caught:
        Sender(server.url, path, ["sha256"], {"sha256": "0" * 64}, chunk_size=CHUNK).send()
    assert caught.value.sent == 0 and caught.value.computed["sha256"] == reference(path, "sha256")
    assert server.connections == 0


def test_a_wrong_checksum_on_a_large_file_stops_before_the_last_byte(sink, blob):
    server = sink("ok")
    path = blob(4 * CHUNK + 10)
    with pytest.raises(ChecksumMismatch) as caught:
        Sender(server.url, path, ["md5"], {"md5": "f" * 32}, chunk_size=CHUNK).send()
    assert caught.value.sent == 4 * CHUNK
    server.thread.join(timeout=0.1)
    assert server.requests[0]["headers"]["content-length"] == str(4 * CHUNK + 10)
    assert server.requests[0]["received"] < 4 * CHUNK + 10  # the server never got a complete body


def test_the_right_checksum_passes(sink, blob):
    server = sink()
    path = blob(3 * CHUNK)
    outcome = Sender(server.url, path, ["sha1"], {"sha1": reference(path, "sha1").upper()}, chunk_size=CHUNK).send()
    assert outcome.status == 200 and outcome.checksums["sha1"] == reference(path, "sha1")


def test_busy_server_answer_stops_the_send_early(sink, blob):
    server = sink("busy")
    path = blob(64 * CHUNK)
    outcome = Sender(server.url, path, ["sha256"], chunk_size=CHUNK).send()
    assert outcome.status == 503 and "upload in progress" in outcome.body
    assert outcome.sent < 64 * CHUNK and outcome.checksums == {}


def test_server_error_is_returned_with_its_body(sink, blob):
    server = sink("error")
    outcome = Sender(server.url, blob(2 * CHUNK), ["sha256"], chunk_size=CHUNK).send()
    assert outcome.status == 500 and outcome.body == "boom"


def test_connection_cut_mid_body_is_interrupted(sink, blob):
    server = sink("cut", cut_after=CHUNK)
    with pytest.raises(Interrupted) as caught:
        Sender(server.url, blob(256 * CHUNK), ["sha256"], chunk_size=CHUNK, io_timeout=5).send()
    assert SECRET not in str(caught.value)


def test_refused_connection_is_connect_failed_without_the_url(blob):
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    with pytest.raises(ConnectFailed) as caught:
        Sender("http://127.0.0.1:%d%s" % (port, SECRET), blob(10), ["sha256"]).send()
    assert SECRET not in str(caught.value) and caught.value.sent == 0


def test_file_that_shrinks_while_sending(sink, blob, monkeypatch):
    server = sink()
    path = blob(3 * CHUNK)
    real_fstat = os.fstat

    class Bigger:
        def __init__(self, stat: Any) -> None:
            self.st_size = stat.st_size + CHUNK

    monkeypatch.setattr(os, "fstat", lambda fd: Bigger(real_fstat(fd)))
    with pytest.raises(FileChanged):
        Sender(server.url, path, ["sha256"], chunk_size=CHUNK).send()


def test_probe_and_redaction(sink):
    server = sink()
    assert probe(server.url, None, 2.0) is True
    assert server.requests[0]["line"] == "GET %s HTTP/1.1" % SECRET
    assert probe("http://127.0.0.1:1/upload", None, 0.5) is False
    assert redact("https://host.example:8443/upload/SECRETSECRET") == "https://host.example:8443/<redacted>"
    assert "SECRET" not in redact("http://10.0.0.1/upload/SECRET?x=1")
    assert parse_target("https://h/upload/x?y=1") == (True, "h", 443, "/upload/x?y=1")
    with pytest.raises(ValueError):
        parse_target("ftp://h/x")


def test_tls_verification_failure_names_the_options_not_the_url(blob):
    ssl_mod = pytest.importorskip("ssl")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def answer_garbage() -> None:
        conn = server.accept()[0]
        conn.sendall(b"not a TLS server hello at all\r\n" * 4)
        conn.close()

    thread = threading.Thread(target=answer_garbage, daemon=True)
    thread.start()
    try:
        with pytest.raises(ConnectFailed) as caught:
            Sender("https://127.0.0.1:%d%s" % (port, SECRET), blob(10), ["sha256"],
                   context=ssl_mod.create_default_context()).send()
        assert "TLS" in str(caught.value) and SECRET not in str(caught.value)
    finally:
        server.close()


def test_memory_use_is_bounded_by_the_buffer_pool():
    hasher = hashing.ParallelHasher(["sha256"], chunk_size=1024, pool_size=2)
    first, second = hasher.acquire(), hasher.acquire()
    hasher.submit(first, 1024)
    hasher.submit(second, 1024)
    again = hasher.acquire()  # only comes back once a hasher released one of the two
    assert again in (first, second)
    hasher.release_unused(again)
    assert hasher.hexdigests()["sha256"] == hashlib.sha256(bytes(2048)).hexdigest()


def test_hashers_that_fall_behind_read_the_skipped_ranges_back_from_the_file(blob):
    path = blob(5 * 1000 + 3)
    hasher = hashing.ParallelHasher(["sha256", "md5"], chunk_size=1000, pool_size=0, source=path, background=True)
    assert hasher.try_acquire() is None  # no free buffer: the producer reads into its own and skips
    offset = 0
    while offset < 5 * 1000 + 3:
        length = min(1000, 5 * 1000 + 3 - offset)
        hasher.skip(offset, length)
        offset += length
    assert hasher.hexdigests() == {"sha256": reference(path, "sha256"), "md5": reference(path, "md5")}


def test_tls_upload_of_many_buffers_is_not_mistaken_for_an_early_answer(blob, tmp_path):
    """TLS 1.3 servers send session tickets after the handshake: the socket is readable with no answer."""
    ssl_mod = pytest.importorskip("ssl")
    crypto = pytest.importorskip("cryptography.x509")
    import datetime

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    name = crypto.Name([crypto.NameAttribute(crypto.oid.NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (crypto.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(crypto.SubjectAlternativeName([crypto.IPAddress(__import__("ipaddress").ip_address(
                "127.0.0.1"))]), critical=False)
            .add_extension(crypto.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server_context = ssl_mod.create_default_context(ssl_mod.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(str(cert_path), str(key_path))
    server = Sink("ok", tls=server_context)
    try:
        path = blob(8 * CHUNK + 5)
        outcome = Sender(server.url, path, ["sha256"], chunk_size=CHUNK, io_timeout=10, response_timeout=10,
                         context=tls_context(True, str(cert_path))).send()
        assert outcome.status == 200 and server.requests[0]["received"] == 8 * CHUNK + 5
        assert server.requests[0]["sha256"] == reference(path, "sha256") == outcome.checksums["sha256"]
    finally:
        server.close()


def test_a_deferred_hasher_waits_for_go_and_a_failed_transfer_drops_its_work(tmp_path):
    """A hash only recorded waits until the transfer is done (it must not take the transfer's CPU), then reads the
    skipped ranges back from the file; a transfer that fails leaves its queued work undone."""
    import hashlib as _hashlib

    from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.hashing import ParallelHasher
    path = tmp_path / "data"
    data = bytes(range(256)) * 4096 * 3
    path.write_bytes(data)
    chunk = 256 * 1024
    hasher = ParallelHasher(["sha1"], chunk, source=str(path), background=True, deferred=True)
    for offset in range(0, len(data), chunk):
        hasher.skip(offset, min(chunk, len(data) - offset))
    work = next(iter(hasher._queues.values()))
    assert work.qsize() == len(range(0, len(data), chunk))     # nothing taken before go()
    hasher.go()
    assert hasher.hexdigests() == {"sha1": _hashlib.sha1(data).hexdigest()}

    dropped = ParallelHasher(["sha1"], chunk, source=str(path), background=True, deferred=True)
    dropped.skip(0, len(data))
    dropped.close(abandon=True)
    assert dropped.hashes["sha1"].hexdigest() == _hashlib.sha1(b"").hexdigest()
