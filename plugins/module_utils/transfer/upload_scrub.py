# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Keeping upload URLs out of what a task shows: an upload URL is a credential (whoever has it may send).

The URLs to hide are those the object published at any point of the run and the one the task was given, since an
error may quote one of them long after the object moved on to new ones.
"""

from __future__ import annotations

from typing import Any, List, Mapping, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import TaskError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.redaction import redact, redact_image
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload_rules import upload_urls


class UrlScrubber:
    """The upload URLs seen so far, and the text and errors with them replaced by their redacted form."""

    def __init__(self, given: Optional[str]) -> None:
        self.known: List[str] = [given] if given else []

    def remember(self, obj: Mapping[str, Any]) -> None:
        """Add the URLs the object publishes now."""
        for url in upload_urls(obj).values():
            if url not in self.known:
                self.known.append(url)

    def scrub(self, text: str) -> str:
        """``text`` with every known URL redacted (the longest first, so that no URL's tail is left over)."""
        for url in sorted(self.known, key=len, reverse=True):
            text = text.replace(url, redact(url))
        return text

    def scrub_error(self, exc: TaskError) -> None:
        """The error's message and the object in its details, scrubbed in place (the error is re-raised as is)."""
        exc.msg = self.scrub(exc.msg)
        exc.args = (exc.msg,)
        if "image" in exc.details:
            exc.details["image"] = redact_image(exc.details["image"])
