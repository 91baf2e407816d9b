# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Upload URLs are credentials (their random path is the only secret): the one place that hides them."""

from __future__ import annotations

import copy
from typing import Any, Dict, Mapping, Optional
from urllib.parse import urlsplit


def redact(url: str) -> str:
    """``scheme://host:port/<redacted>``: what may be shown of an upload URL."""
    parts = urlsplit(url)
    return "%s://%s/<redacted>" % (parts.scheme or "?", parts.netloc or "?")


def redact_image(obj: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    """A copy with ``status.imageUploadURLs`` replaced by their redacted form."""
    if obj is None:
        return None
    clean = copy.deepcopy(dict(obj))
    urls = (clean.get("status") or {}).get("imageUploadURLs")
    if isinstance(urls, dict):
        clean["status"]["imageUploadURLs"] = {k: redact(v) if v else v for k, v in urls.items()}
    return clean
