"""Logging for the sandbox's own Python processes (API server, controller): one format, and no credential in any
line, traceback included.

Why a filter rather than care at each call site: the platform's credentials (bearer tokens, the user registry's
password, upload URLs, which are single-use credentials) travel through exceptions the sandbox did not write
(aiohttp, requests, skopeo's stderr), and one `log.exception` would print them. The filter replaces the values
the state records (`secrets()`, re-read for every record: logs are rare) and whatever has the shape of one:
upload URLs, Authorization values, `user:password@` in URLs.
"""
from __future__ import annotations

import logging
import re
from typing import Callable, Iterable

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "<redacted>"
_SHAPES = (
    (re.compile(r"https?://[^\s/\"']+/upload(?:/[A-Za-z0-9]+)?"), "<upload URL>"),   # both endpoints' URLs
    (re.compile(r"/upload/[a-z0-9]{32}"), "/upload/" + REDACTED),                     # an external URL's path alone
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    (re.compile(r"(--(?:src-|dest-)?creds[= ])\S+"), r"\1" + REDACTED),              # skopeo's command line
    (re.compile(r"://[^/\s:@]+:[^/\s@]+@"), "://" + REDACTED + "@"),
)


class Redactor(logging.Filter):
    """Rewrites a record's message (and traceback) with every secret replaced; never drops a record."""

    def __init__(self, secrets: Callable[[], Iterable[str]]) -> None:
        super().__init__()
        self.secrets = secrets
        self._formatter = logging.Formatter()

    def redact(self, text: str) -> str:
        for value in sorted((v for v in self.secrets() if v), key=len, reverse=True):
            text = text.replace(value, REDACTED)
        for pattern, replacement in _SHAPES:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def configure(secrets: Callable[[], Iterable[str]], level: int = logging.INFO) -> None:
    """Log to stderr (the supervisor sends it to logs/<name>.log) through a Redactor."""
    logging.basicConfig(level=level, format=FORMAT)
    for handler in logging.getLogger().handlers:
        handler.addFilter(Redactor(secrets))
