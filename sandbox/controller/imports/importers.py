"""Importers: fetch a data source into a local file, the way the platform's importer pod does.

Each importer is blocking (run in a worker thread), honours a cancel flag, reports
progress through the job, and raises ImportFailed with the exact `<error>` text the
platform puts after `Pod <ns>/<pod> reported: `.
"""
from __future__ import annotations

import base64
import http.client
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import requests
from requests.packages.urllib3.exceptions import ProtocolError, ReadTimeoutError, SSLError

from ... import dvcr
from ...platform import V1_10
from .diskinfo import Checksums

_CHUNK = 256 * 1024
# What reading the body (urllib3's response: resp.raw, urllib3 reached through requests, whose dependency it is) and
# writing the file raise when the connection resets, the body ends short, a read stalls past the timeout or TLS
# breaks mid-stream, or the disk fails. Anything else is a bug in the sandbox and is not retried.
_STREAM_ERRORS = (ProtocolError, ReadTimeoutError, SSLError, http.client.HTTPException, OSError)
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def pod_says(platform: str) -> str:
    """How the condition message introduces a provisioning Pod's report (stat service CheckPod):
    `Provisioning failed: Pod <ns>/<pod> reported: <error>.` on main, `... termination message: <error>.` on
    v1.10.2."""
    return "termination message" if platform == V1_10 else "reported"


class ImportFailed(Exception):
    """Terminal importer error; str() is the platform's error text."""


class Cancelled(Exception):
    """The job was superseded (spec change, deletion, shutdown)."""


class _Transient(Exception):
    """Worth retrying (5xx, connection dropped mid-stream)."""


@dataclass
class Feed:
    """What an importer reports while it runs (read by the reconciler, written by the thread)."""
    cancel: threading.Event = field(default_factory=threading.Event)
    fraction: float = 0.0
    done_bytes: int = 0
    started: float = field(default_factory=time.monotonic)
    current_bps: float = 0.0
    notify: Callable[[], None] = lambda: None
    rate: int = 0  # bytes/s cap for slow-import tests (0: none)
    _last_t: float = field(default_factory=time.monotonic)
    _last_b: int = 0

    def check(self) -> None:
        if self.cancel.is_set():
            raise Cancelled()

    def advance(self, n: int, total: int | None) -> None:
        """Account n more bytes; pace to the rate cap; poke the reconciler now and then."""
        self.check()
        self.done_bytes += n
        if total:
            self.fraction = min(self.done_bytes / total, 0.999)
        t = time.monotonic()
        if self.rate > 0:
            ahead = self.done_bytes / self.rate - (t - self.started)
            if ahead > 0:
                self.cancel.wait(ahead)
                self.check()
                t = time.monotonic()
        if t - self._last_t >= 0.5:   # progress twice a second: status writes stay cheap at catalog scale
            self.current_bps = (self.done_bytes - self._last_b) / (t - self._last_t)
            self._last_t, self._last_b = t, self.done_bytes
            self.notify()

    @property
    def avg_bps(self) -> float:
        return self.done_bytes / max(time.monotonic() - self.started, 1e-3)


@dataclass
class Fetched:
    path: Path
    name: str


def _go_url_error(url: str, cause: str) -> ImportFailed:
    return ImportFailed(f'error creating data source: error creating HTTP data source: '
                        f'HTTP request errored: Get "{url}": {cause}')


def _cause_of(exc: requests.RequestException, host: str, port: int) -> str:
    """Go's net/http wording for the usual connection failures."""
    text = repr(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        if "CERTIFICATE_VERIFY_FAILED" in text and "hostname" in text.lower():
            return f"tls: failed to verify certificate: x509: certificate is valid for other names, not {host}"
        if "CERTIFICATE_VERIFY_FAILED" in text:
            return "tls: failed to verify certificate: x509: certificate signed by unknown authority"
        return "tls: handshake failure"
    if "Connection refused" in text or "ConnectionRefused" in text:
        return f"dial tcp {host}:{port}: connect: connection refused"
    if isinstance(exc, requests.Timeout):
        return f"dial tcp {host}:{port}: i/o timeout"
    return f"dial tcp {host}:{port}: connect: {exc.__class__.__name__}"


def verify_for(ca_bundle_b64: str | None, workdir: Path) -> str | bool:
    """requests' verify= for a spec caBundle (base64 PEM); True = the public roots only."""
    if not ca_bundle_b64:
        return True
    pem = base64.b64decode(ca_bundle_b64).decode()
    return dvcr.temp_ca_file(pem, workdir)


def fetch_http(url: str, ca_bundle: str | None, checksum: dict | None, workdir: Path, feed: Feed,
               retry_window: float, v110: bool = False) -> Fetched:
    """Download url into workdir, retrying transient failures for retry_window seconds.

    A checksum mismatch (dvcr-artifact `registry.Process`: `source streaming error: <algo> sum mismatch: <expected>
    != <actual>`) is final on main (a permanent error for the importer's backoff). v1.10.2's backoff knows no
    permanent errors: it downloads again for its whole window (20 steps, about 17 minutes; here the retry window)
    and then reports `no success after 20 attempts within <duration>, last attempt error: <error>`."""
    parsed = urllib.parse.urlsplit(url)
    host = parsed.hostname or ""
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if host not in _LOOPBACK:
        # The sandbox never leaves loopback: any other host is, for it, unresolvable.
        raise _go_url_error(url, f"dial tcp: lookup {host}: no such host")
    verify = verify_for(ca_bundle, workdir)
    name = Path(urllib.parse.unquote(parsed.path)).name or "disk.img"
    dest = workdir / "source"
    started = time.monotonic()
    deadline = started + retry_window
    delay = 0.2
    while True:
        feed.check()
        try:
            sums = _download(url, verify, dest, feed, host, port, checksum, v110)
            mismatch = sums.mismatch()
            if not mismatch:
                break
            error = f"source streaming error: {mismatch}"
            if not v110:
                raise ImportFailed(error)
            if time.monotonic() + delay > deadline:
                raise ImportFailed(f"no success after 20 attempts within {go_duration(time.monotonic() - started)}, "
                                   f"last attempt error: {error}")
        except _Transient as exc:
            if time.monotonic() + delay > deadline:
                raise ImportFailed(str(exc)) from None
        feed.cancel.wait(delay)
        delay = min(delay * 2, 5.0)
    return Fetched(dest, name)


def go_duration(seconds: float) -> str:
    """A Go time.Duration truncated to whole seconds, as Go prints it: `45s`, `2m5s`, `1h0m7s`."""
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h}h{m}m{s}s"
    return f"{m}m{s}s" if m else f"{s}s"


def _download(url: str, verify: str | bool, dest: Path, feed: Feed, host: str, port: int,
              checksum: dict | None, v110: bool = False) -> Checksums:
    session = requests.Session()
    session.trust_env = False
    try:
        resp = session.get(url, stream=True, verify=verify, timeout=(10, 60))
    except requests.exceptions.SSLError as exc:
        raise _go_url_error(url, _cause_of(exc, host, port)) from None
    except requests.ConnectionError as exc:
        raise _go_url_error(url, _cause_of(exc, host, port)) from None
    except requests.Timeout as exc:
        raise _Transient(str(_go_url_error(url, _cause_of(exc, host, port)))) from None
    with resp:
        if resp.status_code >= 500:
            raise _Transient(f"error creating data source: error creating HTTP data source: expected status "
                             f"code 200, got {resp.status_code}. Status: {resp.status_code} {resp.reason}")
        if resp.status_code != 200:
            raise ImportFailed(f"error creating data source: error creating HTTP data source: expected status "
                               f"code 200, got {resp.status_code}. Status: {resp.status_code} {resp.reason}")
        total = int(resp.headers.get("Content-Length") or 0) or None
        sums = Checksums(checksum, verbatim=v110)
        feed.done_bytes = 0   # a retry starts over; the shown progress is kept monotone by the reconciler
        try:
            with open(dest, "wb") as f:
                for chunk in resp.raw.stream(_CHUNK, decode_content=False):
                    f.write(chunk)
                    sums.update(chunk)
                    feed.advance(len(chunk), total)
        except _STREAM_ERRORS:
            raise _Transient("unable to process data: unexpected EOF") from None
        if total is not None and dest.stat().st_size != total:
            raise _Transient("unable to process data: unexpected EOF")
    return sums


def registry_error(text: str) -> ImportFailed:
    return ImportFailed(f"error creating data source: error creating container registry data source: {text}")


def fetch_registry(image: str, ca_bundle: str | None, auth: tuple[str, str] | None, workdir: Path,
                   feed: Feed) -> Fetched:
    """Pull image and keep the first regular file under disk/ (original bytes)."""
    try:
        ref = dvcr.ImageRef.parse(image)
    except dvcr.RegistryError as exc:
        raise registry_error(str(exc)) from None
    host = ref.host.rsplit(":", 1)[0]
    if host not in _LOOPBACK:
        raise registry_error(f"dial tcp: lookup {host}: no such host")
    reg = dvcr.Registry(ref.host, verify_for(ca_bundle, workdir), auth)
    try:
        manifest = reg.manifest(ref.repo, ref.ref)
        total = sum(int(layer.get("size", 0)) for layer in manifest.get("layers", [])) or None
        path, name = reg.extract_disk(ref.repo, ref.ref, workdir, lambda n: feed.advance(n, total))
    except dvcr.NoDiskFile as exc:
        raise registry_error(str(exc)) from None
    except dvcr.RegistryError as exc:
        raise registry_error(_registry_cause(exc)) from None
    return Fetched(path, name)


def _registry_cause(exc: dvcr.RegistryError) -> str:
    text = str(exc)
    cause = exc.__cause__
    if cause is not None and "CERTIFICATE_VERIFY_FAILED" in repr(cause):
        return "tls: failed to verify certificate: x509: certificate signed by unknown authority"
    if ": 401" in text:
        return "unable to retrieve source image: UNAUTHORIZED: authentication required"
    if ": 404" in text:
        return "unable to retrieve source image: MANIFEST_UNKNOWN: manifest unknown"
    return text


def fetch_dvcr(reg: dvcr.Registry, repo: str, tag: str, workdir: Path, feed: Feed) -> Fetched:
    """Copy an image already in DVCR (VI/CVI object refs)."""
    try:
        path, name = reg.extract_disk(repo, tag, workdir, lambda n: feed.advance(n, None))
    except dvcr.RegistryError as exc:
        raise registry_error(str(exc)) from None
    return Fetched(path, name)


def fetch_file(src: Path, name: str, workdir: Path, feed: Feed) -> Fetched:
    """Copy a volume file (VD, VD snapshot, PVC-backed VI)."""
    dest = workdir / "source"
    total = src.stat().st_size or None
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        while chunk := fin.read(_CHUNK):
            fout.write(chunk)
            feed.advance(len(chunk), total)
    return Fetched(dest, name)
