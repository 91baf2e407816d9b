# -*- coding: utf-8 -*-
"""Checksums from a vendor's sums file: both line forms, the file name, every failure named before any write."""
from __future__ import annotations

import base64
import hashlib
import http.server
import threading
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.redaction import redact_query
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.sums import (
    ChecksumBlock, SumsResolver, SumsUnavailable, fetch, file_name_of, find_digest, manifest_checksum_blocks,
    parse_sums,
)

NOBLE = hashlib.sha256(b"noble").hexdigest()
JAMMY = hashlib.sha256(b"jammy").hexdigest()
NOBLE_512 = hashlib.sha512(b"noble").hexdigest()
GNU = "%s *noble-server-cloudimg-amd64.img\n%s  jammy-server-cloudimg-amd64.img\n" % (NOBLE, JAMMY)
BSD = ("# Fedora-Cloud-41\n-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
       "SHA256 (Fedora-Cloud-41.qcow2) = %s\nSHA512 (Fedora-Cloud-41.qcow2) = %s\n" % (NOBLE, NOBLE_512))
SUMS_URL = "https://cloud-images.example.com/noble/current/SHA256SUMS"
IMAGE_URL = "https://cloud-images.example.com/noble/current/noble-server-cloudimg-amd64.img"


class FakeOpener:
    """The resolver's one network call, recorded."""

    def __init__(self, files: Dict[str, str]) -> None:
        self.files = files
        self.calls: List[Tuple[str, Optional[str]]] = []

    def __call__(self, url: str, cadata: Optional[str], timeout: float) -> bytes:
        self.calls.append((url, cadata))
        if url not in self.files:
            raise SumsUnavailable("HTTP 404 Not Found")
        return self.files[url].encode()


def test_gnu_and_bsd_lines_are_read_and_other_lines_skipped() -> None:
    gnu = parse_sums(GNU)
    assert [(line.name, line.digest, line.algorithm) for line in gnu] == [
        ("noble-server-cloudimg-amd64.img", NOBLE, None), ("jammy-server-cloudimg-amd64.img", JAMMY, None)]
    bsd = [line for line in parse_sums(BSD) if line.name == "Fedora-Cloud-41.qcow2"]
    assert [(line.digest, line.algorithm) for line in bsd] == [(NOBLE, "sha256"), (NOBLE_512, "sha512")]


def test_the_digest_of_the_algorithm_asked_for_is_taken_from_a_bsd_file() -> None:
    lines = parse_sums(BSD)
    assert find_digest(lines, "Fedora-Cloud-41.qcow2", "sha256") == (NOBLE, [])
    assert find_digest(lines, "Fedora-Cloud-41.qcow2", "sha512") == (NOBLE_512, [])
    digest, problems = find_digest(lines, "Fedora-Cloud-41.qcow2", "md5")
    assert digest is None and problems == ["it has no md5 line for Fedora-Cloud-41.qcow2 (only sha256, sha512)"]


def test_a_line_naming_a_path_or_dot_slash_matches_the_file_name() -> None:
    lines = parse_sums("%s  ./noble.img\n%s  images/jammy.img\n" % (NOBLE, JAMMY))
    assert find_digest(lines, "noble.img", "sha256") == (NOBLE, [])
    assert find_digest(lines, "jammy.img", "sha256") == (JAMMY, [])


def test_a_malformed_digest_is_reported_not_skipped() -> None:
    digest, problems = find_digest(parse_sums("%s  noble.img\n" % NOBLE[:40]), "noble.img", "sha256")
    assert digest is None
    assert problems == ["its line for noble.img has a malformed sha256 digest (40 characters; sha256 needs 64 hex "
                        "characters)"]
    digest, problems = find_digest(parse_sums("SHA256 (noble.img) = %s\n" % ("z" * 64)), "noble.img", "sha256")
    assert digest is None and "not all hex" in problems[0]


def test_two_different_digests_for_one_file_are_refused() -> None:
    digest, problems = find_digest(parse_sums("%s  a.img\n%s  a.img\n" % (NOBLE, JAMMY)), "a.img", "sha256")
    assert digest is None and problems == ["it lists 2 different sha256 digests for a.img"]


def test_file_names_come_from_the_url_path_or_the_local_path() -> None:
    assert file_name_of({"url": IMAGE_URL + "?token=x"}) == "noble-server-cloudimg-amd64.img"
    assert file_name_of({"url": "https://h/a%20b.img"}) == "a b.img"
    assert file_name_of({"path": "/srv/images/alt.qcow2"}) == "alt.qcow2"
    assert file_name_of({"url": "https://h/dir/"}) == ""


def test_a_url_value_is_replaced_by_its_digest_and_each_file_is_read_once() -> None:
    opener = FakeOpener({SUMS_URL: GNU})
    blocks = [{"url": IMAGE_URL, "checksum": {"sha256": SUMS_URL}},
              {"url": IMAGE_URL, "checksum": {"sha256": SUMS_URL, "md5": "0" * 32}},
              {"url": IMAGE_URL.replace("noble-", "jammy-"), "checksum": {"sha256": SUMS_URL}}]
    SumsResolver(opener=opener).resolve([ChecksumBlock(block, "images[%d]: checksum" % i)
                                         for i, block in enumerate(blocks)])
    assert [block["checksum"] for block in blocks] == [{"sha256": NOBLE}, {"sha256": NOBLE, "md5": "0" * 32},
                                                       {"sha256": JAMMY}]
    assert opener.calls == [(SUMS_URL, None)]


PEM = "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % base64.b64encode(b"\x30\x03abc").decode()


def test_the_image_ca_bundle_is_used_to_read_the_sums_file_and_checked_first() -> None:
    opener = FakeOpener({SUMS_URL: GNU})
    block = {"url": IMAGE_URL, "checksum": {"sha256": SUMS_URL}, "ca_bundle": PEM}
    SumsResolver(opener=opener).resolve([ChecksumBlock(block, "source.http.checksum")])
    assert opener.calls == [(SUMS_URL, PEM)]
    bad = {"url": IMAGE_URL, "checksum": {"sha256": SUMS_URL}, "ca_bundle": "not PEM"}
    with pytest.raises(ValidationError, match="^images.0. .x.: ca_bundle must be PEM text"):
        SumsResolver(opener=opener).resolve([ChecksumBlock(bad, "images[0] (x): checksum")])


@pytest.mark.parametrize("block, files, message", [
    ({"url": "https://h/other.img", "checksum": {"sha256": SUMS_URL}}, {SUMS_URL: GNU},
     "source.http.checksum.sha256: the sums file %s cannot give the digest of other.img: it has no sha256 line "
     "for other.img; nothing was written" % SUMS_URL),
    ({"url": IMAGE_URL, "checksum": {"sha256": SUMS_URL}}, {},
     "source.http.checksum.sha256: cannot read the sums file %s (looking for noble-server-cloudimg-amd64.img): "
     "HTTP 404 Not Found; nothing was written" % SUMS_URL),
    ({"url": IMAGE_URL, "checksum": {"sha256": "ftp://h/SUMS"}}, {},
     "source.http.checksum.sha256: the sums file ftp://h/SUMS must be an http or https URL"),
    ({"url": "https://h/dir/", "checksum": {"sha256": SUMS_URL}}, {SUMS_URL: GNU},
     "source.http.checksum.sha256: cannot tell which line of the sums file %s to read: the image's URL or path "
     "ends without a file name; give the digest itself" % SUMS_URL),
])
def test_every_failure_names_the_option_the_sums_url_and_the_file(block, files, message) -> None:
    with pytest.raises(ValidationError) as err:
        SumsResolver(opener=FakeOpener(files)).resolve([ChecksumBlock(block, "source.http.checksum")])
    assert err.value.msg == message


def test_credentials_in_a_sums_url_never_reach_a_message() -> None:
    url = "https://user:hunter2@h/SHA256SUMS?token=s3cr3t"
    assert redact_query(url) == "https://h/SHA256SUMS?<redacted>"
    with pytest.raises(ValidationError) as err:
        SumsResolver(opener=FakeOpener({})).resolve(
            [ChecksumBlock({"path": "/x/a.img", "checksum": {"sha256": url}}, "checksum")])
    assert "hunter2" not in err.value.msg and "s3cr3t" not in err.value.msg and "https://h/SHA256SUMS" in err.value.msg


class _Sums(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        if self.path != "/SHA256SUMS":
            self.send_error(404, "Not Found")
            return
        body = GNU.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        return


@pytest.fixture
def sums_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sums)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_fetch_reads_a_real_server_and_reports_its_http_errors(sums_server: str) -> None:
    assert fetch(sums_server + "/SHA256SUMS", None, 5).decode() == GNU
    with pytest.raises(SumsUnavailable, match="HTTP 404"):
        fetch(sums_server + "/missing", None, 5)


def test_a_manifests_checksum_is_resolved_with_its_base64_ca_bundle() -> None:
    opener = FakeOpener({SUMS_URL: GNU})
    manifest = {"spec": {"dataSource": {"type": "HTTP", "http": {
        "url": IMAGE_URL, "checksum": {"sha256": SUMS_URL}, "caBundle": base64.b64encode(b"PEM").decode()}}}}
    SumsResolver(opener=opener).resolve(manifest_checksum_blocks(manifest, "definition."))
    assert manifest["spec"]["dataSource"]["http"]["checksum"] == {"sha256": NOBLE}
    assert opener.calls == [(SUMS_URL, "PEM")]
    assert manifest_checksum_blocks("not a mapping", "x") == [] and manifest_checksum_blocks({}, "x") == []
    with pytest.raises(ValidationError, match="^git/a.yaml \\(a\\): spec.dataSource.http.checksum.sha256: the sums"):
        bad = {"spec": {"dataSource": {"http": {"url": "https://h/x.img", "checksum": {"sha256": SUMS_URL}}}}}
        SumsResolver(opener=opener).resolve(manifest_checksum_blocks(bad, "git/a.yaml (a): "))


@pytest.mark.parametrize("url, message", [
    ("http://user:hunter2@h/SHA256SUMS", "holds credentials, which are not sent"),
    ("http://user:hunter2@h:x/SHA256SUMS", "is not a valid URL"),
    ("https://u:p@[::1/x", "is not a valid URL"),
])
def test_urls_with_credentials_or_malformed_are_refused_without_echoing_them(url: str, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        SumsResolver(opener=FakeOpener({})).resolve(
            [ChecksumBlock({"url": IMAGE_URL, "checksum": {"sha256": url}}, "source.http.checksum")])
    assert message in err.value.msg and "hunter2" not in err.value.msg


def test_a_bad_ca_or_a_url_urllib_refuses_is_a_message_not_a_crash(sums_server: str) -> None:
    with pytest.raises(SumsUnavailable):
        fetch(sums_server + "/SHA256SUMS", "not a PEM", 5)
    with pytest.raises(SumsUnavailable) as err:
        fetch(sums_server + "/my sums?token=s3cr3t", None, 5)
    assert "s3cr3t" not in str(err.value)
