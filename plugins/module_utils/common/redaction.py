# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Upload URLs are credentials (their random path is the only secret): the one place that hides them.

Other URLs the collection names in messages (a vendor's sums file) keep their path, which says what was read, but
never their user information or query, where a token would be."""

from __future__ import annotations

import copy
import re
from typing import Any, Dict, Mapping, Optional
from urllib.parse import urlsplit

_URL_RE = re.compile(r"https?://[^\s\"'<>]+")
_WHOLE_URL_RE = re.compile(r"\Ahttps?://\S+\Z")


def redact(url: str) -> str:
    """``scheme://host:port/<redacted>``: what may be shown of an upload URL."""
    parts = urlsplit(url)
    return "%s://%s/<redacted>" % (parts.scheme or "?", _host(parts.netloc))


def redact_query(url: str) -> str:
    """``scheme://host:port/path``, with ``?<redacted>`` when the URL had a query: what may be shown of a URL the
    user gave (credentials in its user information or query are not shown)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<a malformed URL>"
    return "%s://%s%s%s" % (parts.scheme or "?", _host(parts.netloc), parts.path, "?<redacted>" if parts.query else "")


def _host(netloc: str) -> str:
    """The host and port of a URL's network location, without its user information."""
    return netloc.rpartition("@")[2] or "?"


def redact_text(text: str) -> str:
    """Free text (an API server's warning, say) with every URL's path hidden: it may be an upload URL."""
    return _URL_RE.sub(lambda match: redact(match.group(0)), text)


def redact_urls(value: Any) -> Any:
    """A copy of a result with every value that is a URL carrying user information or a query shown as
    ``redact_query`` shows it: the objects a result holds repeat what the user gave (an image's
    ``spec.dataSource.http.url``), and a token in a URL's query must not reach a registered result or a log."""
    if isinstance(value, dict):
        return {key: redact_urls(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_urls(item) for item in value]
    if isinstance(value, str) and _WHOLE_URL_RE.match(value):
        parts = value.partition("://")[2]
        if "?" in parts or "@" in parts.split("/", 1)[0]:
            return redact_query(value)
    return value


def redact_image(obj: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    """A copy with ``status.imageUploadURLs`` replaced by their redacted form."""
    if obj is None:
        return None
    clean = copy.deepcopy(dict(obj))
    urls = (clean.get("status") or {}).get("imageUploadURLs")
    if isinstance(urls, dict):
        clean["status"]["imageUploadURLs"] = {k: redact(v) if v else v for k, v in urls.items()}
    return clean
