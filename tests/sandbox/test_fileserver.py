"""The sandbox file server: Range, bandwidth cap, failure endpoints, byte counters, TLS."""
from __future__ import annotations

import socket
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import requests


@pytest.fixture
def served(sandbox: Any, tmp_path: Path) -> tuple[str, bytes]:
    """A fresh file under www/ (unique name, so counters are this test's own)."""
    if "fileserver" not in sandbox.components:
        pytest.skip("sandbox started without its optional components")
    name = f"fs-{tmp_path.name}.bin"
    data = bytes(range(256)) * 1024   # 256 KiB
    www = sandbox.state_dir / "www"
    www.mkdir(exist_ok=True)
    (www / name).write_bytes(data)
    return name, data


def _s() -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    return s


def test_http_and_https_range_and_counters(sandbox: Any, served: tuple[str, bytes]) -> None:
    name, data = served
    fs = sandbox.components["fileserver"]
    s = _s()
    full = s.get(f"{fs['http_url']}/{name}", timeout=10)
    assert full.status_code == 200 and full.content == data and full.headers["Accept-Ranges"] == "bytes"
    part = s.get(f"{fs['https_url']}/{name}", headers={"Range": "bytes=100-199"}, verify=sandbox.ca_path,
                 timeout=10)
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    tail = s.get(f"{fs['http_url']}/{name}", headers={"Range": "bytes=-10"}, timeout=10)
    assert tail.status_code == 206 and tail.content == data[-10:]
    assert s.get(f"{fs['http_url']}/{name}", headers={"Range": f"bytes={len(data)}-"}, timeout=10).status_code == 416
    with pytest.raises(requests.exceptions.SSLError):
        s.get(f"{fs['https_url']}/{name}", verify=True, timeout=10)   # not a public CA
    stats = s.get(f"{fs['http_url']}/stats", timeout=10).json()
    assert stats["bytes"][name] == len(data) + 100 + 10
    assert stats["requests"][name] == 4


def test_failure_endpoints(sandbox: Any, served: tuple[str, bytes]) -> None:
    name, data = served
    http = sandbox.components["fileserver"]["http_url"]
    s = _s()
    assert s.get(f"{http}/fault/404/{name}", timeout=10).status_code == 404
    assert s.get(f"{http}/no-such-file", timeout=10).status_code == 404
    assert s.get(f"{http}/fault/500/{name}", timeout=10).status_code == 500
    key = f"fault/flaky/2/{name}"
    assert [s.get(f"{http}/{key}", timeout=10).status_code for _ in range(3)] == [500, 500, 200]
    for fault in ("drop", "length"):
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            s.get(f"{http}/fault/{fault}/{name}", timeout=10).content
    start = time.monotonic()
    r = s.get(f"{http}/fault/slow/0.5/{name}", stream=True, timeout=10)
    assert time.monotonic() - start >= 0.5 and r.status_code == 200


def test_bandwidth_cap_per_connection(sandbox: Any, served: tuple[str, bytes]) -> None:
    name, data = served
    http = sandbox.components["fileserver"]["http_url"]
    start = time.monotonic()
    body = _s().get(f"{http}/{name}?rate={512 * 1024}", timeout=10).content   # 256 KiB at 512 KiB/s
    assert body == data and time.monotonic() - start >= 0.4


def test_drop_really_cuts_the_connection_halfway(sandbox: Any, served: tuple[str, bytes]) -> None:
    name, data = served
    u = urllib.parse.urlsplit(sandbox.components["fileserver"]["http_url"])
    with socket.create_connection((u.hostname, u.port), timeout=10) as sock:
        sock.sendall(f"GET /fault/drop/{name} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        got = b""
        while chunk := sock.recv(65536):
            got += chunk
    head, _, body = got.partition(b"\r\n\r\n")
    assert f"Content-Length: {len(data)}".encode() in head
    assert body == data[:len(data) // 2]


def test_seed_writes_sums_files_in_both_forms(tmp_path: Path) -> None:
    """The demo sources come with GNU `SHA256SUMS` (one `*name` line) and BSD `CHECKSUM`; sha256sum checks both."""
    import hashlib
    import subprocess

    from sandbox.seed import make_sources, write_sums

    made = make_sources(tmp_path)
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in made}
    gnu = (tmp_path / "SHA256SUMS").read_text().splitlines()
    assert sorted(gnu) == sorted(f"{d} {'*' if n == 'cd.iso' else ' '}{n}" for n, d in digests.items())
    bsd = (tmp_path / "CHECKSUM").read_text().splitlines()
    assert [line for line in bsd if not line.startswith("# ")] == [f"SHA256 ({n}) = {d}" for n, d in digests.items()]
    assert f"# disk.raw: {(tmp_path / 'disk.raw').stat().st_size} bytes" in bsd
    for sums in ("SHA256SUMS", "CHECKSUM"):
        check = subprocess.run(["sha256sum", "--check", "--quiet", sums], cwd=tmp_path, capture_output=True,
                               text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    # a new build published in place: the sums follow it
    (tmp_path / "disk.raw").write_bytes(b"build 2\n".ljust(4096, b"\0"))
    write_sums(tmp_path, made)
    new = hashlib.sha256((tmp_path / "disk.raw").read_bytes()).hexdigest()
    assert f"{new}  disk.raw" in (tmp_path / "SHA256SUMS").read_text().splitlines()
    assert f"SHA256 (disk.raw) = {new}" in (tmp_path / "CHECKSUM").read_text().splitlines()


def test_sums_files_are_served_and_counted(sandbox: Any, tmp_path: Path) -> None:
    """Every GET of a sums file (here in a sub-directory, as a mirror lays them out) counts at /stats."""
    if "fileserver" not in sandbox.components:
        pytest.skip("sandbox started without its optional components")
    from sandbox.seed import write_sums

    mirror = sandbox.state_dir / "www" / f"mirror-{tmp_path.name}"
    mirror.mkdir(parents=True)
    image = mirror / "cloud.img"
    image.write_bytes(b"cloud image\n")
    write_sums(mirror, [image])
    fs, s = sandbox.components["fileserver"], _s()
    for form in ("SHA256SUMS", "CHECKSUM"):
        bodies = [s.get(f"{fs['http_url']}/{mirror.name}/{form}", timeout=10) for _ in range(2)]
        assert [b.status_code for b in bodies] == [200, 200]
        assert bodies[0].content == (mirror / form).read_bytes()
    stats = s.get(f"{fs['http_url']}/stats", timeout=10).json()
    assert stats["requests"][f"{mirror.name}/SHA256SUMS"] == 2
    assert stats["requests"][f"{mirror.name}/CHECKSUM"] == 2
    assert stats["bytes"][f"{mirror.name}/SHA256SUMS"] == 2 * (mirror / "SHA256SUMS").stat().st_size
    assert f"{mirror.name}/cloud.img" not in stats["requests"]
