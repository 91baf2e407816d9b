# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Checksums read from a vendor's sums file (``checksum: {sha256: https://host/path/SHA256SUMS}``).

Vendors publish each cloud image next to a sums file that changes with every build. A checksum value that is a
URL is resolved here, once per run and URL, into the digest of the line naming the image's file, and that digest
replaces the URL in the module's parameters before anything else reads them: every check, the manifest, the
decision and the platform's own verification then see the digest as if the user had written it. Every failure
(no line for the file, an HTTP error, an unreachable host, a malformed digest) names the option, the sums file
and the file name, and happens before any write.

Two line forms are read, as ``sha256sum -c`` and ``shasum -c`` do: GNU ``<hex>  <name>`` / ``<hex> *<name>``
and BSD ``SHA256 (<name>) = <hex>``; other lines (comments, PGP armour) are skipped.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import http.client
import os
import posixpath
import re
import tempfile
import urllib.error
from typing import Any, Callable, Dict, Iterable, List, MutableMapping, NamedTuple, Optional, Tuple, TypeVar
from urllib.parse import unquote, urlsplit

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.checks import check_pem, is_digest
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import CHECKSUM_LENGTHS
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.redaction import redact_query, redact_text

MAX_SUMS_BYTES = 8 * 1024 * 1024   # real sums files are a few KiB; a page of HTML by mistake must not be read whole
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_BSD_RE = re.compile(r"^(?P<tag>[A-Za-z0-9_-]+) ?\((?P<name>.+)\) ?= ?(?P<digest>\S+)$")
_GNU_RE = re.compile(r"^\\?(?P<digest>\S+)\s[ *]?(?P<name>.+)$")
_HEX_RE = re.compile(r"^[0-9a-fA-F]+$")
# BSD tags (``sha256sum --tag``, ``openssl dgst``) -> our algorithm names; punctuation and case are ignored.
_TAGS = {"MD5": "md5", "SHA1": "sha1", "SHA256": "sha256", "SHA2256": "sha256", "SHA512": "sha512",
         "SHA2512": "sha512", "STREEBOG256": "streebog256", "STREEBOG512": "streebog512",
         "MDGOST12256": "streebog256", "MDGOST12512": "streebog512", "GOST2012256": "streebog256",
         "GOST2012512": "streebog512"}


T = TypeVar("T")


class SumsLine(NamedTuple):
    """One digest line of a sums file."""

    name: str                 # the file name as written (``*`` and ``./`` removed)
    digest: str
    algorithm: Optional[str]  # from a BSD tag; None for a GNU line (its length tells)


class ChecksumBlock(NamedTuple):
    """A place in a module's parameters that holds a checksum dict, with what names the file it checks."""

    block: MutableMapping[str, Any]   # holds ``checksum`` and ``url`` or ``path`` (and maybe ``ca_bundle``)
    option: str                       # how messages name the checksum option, e.g. ``source.http.checksum``


def is_sums_url(value: Any) -> bool:
    """A checksum value that is a URL (any scheme: an unsupported one gets its own message)."""
    return isinstance(value, str) and bool(_URL_RE.match(value))


def parse_sums(text: str) -> List[SumsLine]:
    """The digest lines of a sums file, GNU and BSD forms; anything else is skipped."""
    lines: List[SumsLine] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        bsd = _BSD_RE.match(line)
        if bsd:
            tag = re.sub(r"[^A-Z0-9]", "", bsd.group("tag").upper())
            lines.append(SumsLine(_clean_name(bsd.group("name")), bsd.group("digest"), _TAGS.get(tag, tag.lower())))
            continue
        gnu = _GNU_RE.match(line)
        if gnu:
            lines.append(SumsLine(_clean_name(gnu.group("name")), gnu.group("digest"), None))
    return lines


def _clean_name(name: str) -> str:
    name = name.strip()
    while name.startswith("./"):
        name = name[2:]
    return name


def file_name_of(block: MutableMapping[str, Any]) -> str:
    """The name a sums file lists the checked file under: the last part of ``url``'s path, else ``path``'s."""
    if isinstance(block.get("url"), str):
        return unquote(posixpath.basename(urlsplit(block["url"]).path))
    if isinstance(block.get("path"), str):
        return posixpath.basename(block["path"].replace("\\", "/"))
    return ""


def find_digest(lines: List[SumsLine], file_name: str, algorithm: str) -> Tuple[Optional[str], List[str]]:
    """(digest, problems): the digest listed for ``file_name`` in ``algorithm``, or None and why not.

    A line names the file by its exact name, or else by a path ending in it (``images/noble.img``); lines of another
    algorithm (a BSD tag) are not candidates; a line of the right name with the wrong length or non-hex characters
    is a malformed digest, reported rather than skipped.
    """
    exact = [line for line in lines if line.name == file_name]
    named = exact or [line for line in lines if posixpath.basename(line.name) == file_name]
    candidates = [line for line in named if line.algorithm in (None, algorithm)]
    length = CHECKSUM_LENGTHS[algorithm]
    problems: List[str] = []
    digests = []
    for line in candidates:
        if is_digest(algorithm, line.digest):
            digests.append(line.digest.lower())
        elif line.algorithm is not None or len(candidates) == 1:
            problems.append("its line for %s has a malformed %s digest (%d characters%s; %s needs %d hex characters)"
                            % (line.name, algorithm, len(line.digest),
                               "" if _HEX_RE.match(line.digest) else ", not all hex", algorithm, length))
    distinct = sorted(set(digests))
    if len(distinct) > 1:
        return None, ["it lists %d different %s digests for %s" % (len(distinct), algorithm, file_name)]
    if distinct:
        return distinct[0], []
    if not problems:
        other = sorted({line.algorithm for line in named if line.algorithm not in (None, algorithm)})
        only = " (only %s)" % ", ".join(other) if other else ""
        problems.append("it has no %s line for %s%s" % (algorithm, file_name, only))
    return None, problems


class SumsResolver:
    """Reads each sums file once per run (per URL and CA) and resolves checksum values that are URLs.

    ``opener(url, cadata, timeout) -> bytes`` is the one network call; tests inject their own.
    """

    def __init__(self, timeout: float = 30.0, opener: Any = None) -> None:
        self.timeout = timeout
        self.opener = opener or fetch
        self.files: Dict[Tuple[str, Optional[str]], List[SumsLine]] = {}
        self.fetched: List[str] = []

    def lines(self, url: str, cadata: Optional[str]) -> List[SumsLine]:
        key = (url, cadata)
        if key not in self.files:
            body = self.opener(url, cadata, self.timeout)
            self.fetched.append(url)
            self.files[key] = parse_sums(body.decode("utf-8", errors="replace"))
        return self.files[key]

    def resolved(self, tree: T, blocks_of: Callable[[T], Iterable[ChecksumBlock]]) -> T:
        """A copy of ``tree`` (parameters, a manifest, a list of them) in which every URL checksum value of the
        blocks ``blocks_of`` finds is the digest its sums file lists; ``tree`` itself is left as it was."""
        copied = copy.deepcopy(tree)
        self.resolve(blocks_of(copied))
        return copied

    def resolve(self, blocks: Iterable[ChecksumBlock]) -> None:
        """Replace every URL checksum value of ``blocks`` by the digest its sums file lists (in place: callers
        outside this module use ``resolved``, on a copy)."""
        for item in blocks:
            checksum = item.block.get("checksum")
            if not isinstance(checksum, MutableMapping):
                continue
            for algorithm, value in list(checksum.items()):
                if algorithm in CHECKSUM_LENGTHS and is_sums_url(value):
                    checksum[algorithm] = self._digest(item, algorithm, value)

    def _digest(self, item: ChecksumBlock, algorithm: str, url: str) -> str:
        option = "%s.%s" % (item.option, algorithm)
        shown = redact_query(url)
        try:
            parts = urlsplit(url)
            web = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 1) > 0
        except ValueError:   # a malformed port or address: found here, not in the middle of the request
            raise ValidationError("%s: the sums file URL %s is not a valid URL" % (option, shown))
        if not web:
            raise ValidationError("%s: the sums file %s must be an http or https URL" % (option, shown))
        if parts.username is not None or parts.password is not None:
            raise ValidationError("%s: the sums file URL %s holds credentials, which are not sent; serve the sums "
                                  "file without them, or give the digest itself" % (option, shown))
        file_name = file_name_of(item.block)
        if not file_name:
            raise ValidationError("%s: cannot tell which line of the sums file %s to read: the image's URL or path "
                                  "ends without a file name; give the digest itself" % (option, shown))
        ca = _ca_of(item.block)
        if isinstance(item.block.get("ca_bundle"), str):
            check_pem(ca, item.option[:-len("checksum")] + "ca_bundle")
        try:
            lines = self.lines(url, ca)
        except SumsUnavailable as exc:
            raise ValidationError("%s: cannot read the sums file %s (looking for %s): %s; nothing was written"
                                  % (option, shown, file_name, exc))
        digest, problems = find_digest(lines, file_name, algorithm)
        if digest is None:
            raise ValidationError("%s: the sums file %s cannot give the digest of %s: %s; nothing was written"
                                  % (option, shown, file_name, "; ".join(problems)))
        return digest


def _ca_of(block: MutableMapping[str, Any]) -> Optional[str]:
    """The PEM a block trusts for its URL: the modules' ``ca_bundle`` (PEM), or a manifest's ``caBundle`` (base64)."""
    if isinstance(block.get("ca_bundle"), str):
        return block["ca_bundle"]
    if isinstance(block.get("caBundle"), str):
        try:
            return base64.b64decode(block["caBundle"]).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            return None   # the manifest's own checks name a malformed caBundle
    return None


def manifest_checksum_blocks(manifest: Any, label: str) -> List[ChecksumBlock]:
    """The checksums of a manifest's ``spec.dataSource`` (``http`` and ``upload``), named from ``label``."""
    source = (((manifest if isinstance(manifest, MutableMapping) else {}).get("spec") or {}).get("dataSource") or {})
    return [ChecksumBlock(source[key], "%sspec.dataSource.%s.checksum" % (label, key)) for key in ("http", "upload")
            if isinstance(source.get(key), MutableMapping)]


class SumsUnavailable(Exception):
    """The sums file could not be read (HTTP error, network, TLS, too large)."""


def fetch(url: str, cadata: Optional[str], timeout: float) -> bytes:
    """GET the sums file through Ansible's ``open_url`` (proxies from the environment, ``~/.netrc`` credentials);
    TLS verified against the image's own CA bundle when it has one, else the system's trust store. Imported here:
    ``ansible.module_utils.urls`` costs a task a tenth of a second, and most tasks read no sums file."""
    # pylint: disable=import-outside-toplevel
    from ansible.module_utils.urls import ConnectionError as UrlConnectionError
    from ansible.module_utils.urls import open_url
    ca_file = None
    try:
        if cadata:
            handle, ca_file = tempfile.mkstemp(prefix="sums-ca-", suffix=".pem")
            with os.fdopen(handle, "w") as stream:
                stream.write(cadata)
        with contextlib.closing(open_url(url, timeout=timeout, ca_path=ca_file,
                                         http_agent="deckhouse.virtualization sums reader")) as reply:
            body = reply.read(MAX_SUMS_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise SumsUnavailable("HTTP %d %s" % (exc.code, exc.reason))
    except urllib.error.URLError as exc:
        raise SumsUnavailable(redact_text(str(exc.reason)))
    except (ValueError, http.client.InvalidURL):   # their messages quote the URL
        raise SumsUnavailable("the URL cannot be requested as written (spaces or control characters?)")
    except (OSError, http.client.HTTPException, UrlConnectionError) as exc:   # ssl.SSLError is an OSError
        raise SumsUnavailable(redact_text(str(exc) or type(exc).__name__))
    finally:
        if ca_file:
            os.unlink(ca_file)
    if len(body) > MAX_SUMS_BYTES:
        raise SumsUnavailable("larger than %d MiB, not a sums file" % (MAX_SUMS_BYTES // (1024 * 1024)))
    return body
