# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The one API proxy: every request goes through here.

This is where check mode (server-side ``dryRun=All`` on writes), retries of
transient errors inside a total deadline, and the translation of API errors
into clear messages live. Nothing else talks to the API server.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple

from ansible.module_utils.common.warnings import warn

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.checks import check_pem_file
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ApiError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.redaction import redact_text

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.endpoint import endpoint_for
from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.transport import (
    HAS_URLLIB3, HttpResponse, endpoint_transport, response_lines,
)

if HAS_URLLIB3:
    import urllib3

RETRYABLE_STATUS = (429, 500, 502, 503, 504)
# One warning of a Warning header (RFC 7234: code, agent, quoted text); a header may carry several.
_WARNING_RE = re.compile(r'(\d{3})\s+\S+\s+"((?:[^"\\]|\\.)*)"')
VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
MERGE_PATCH = "application/merge-patch+json"
_WEBHOOK_DENIAL = "admission webhook \""


class Gone(Exception):
    """A watch's resourceVersion is too old (HTTP 410): list again and resume."""


def _status_message(body: Any) -> Tuple[str, str]:
    """(message, reason) from a ``kind: Status`` body, tolerating non-JSON."""
    try:
        status = json.loads(body) if isinstance(body, (str, bytes)) else (body or {})
    except ValueError:
        return (body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or ""))[:500], ""
    if not isinstance(status, dict):
        return str(status)[:500], ""
    return str(status.get("message") or ""), str(status.get("reason") or "")


def _resource_of(path: str) -> Tuple[str, Optional[str]]:
    """(resource, namespace) from an API path, for messages."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    namespace = None
    if "namespaces" in parts:
        idx = parts.index("namespaces")
        if idx + 1 < len(parts):
            namespace = parts[idx + 1]
            parts = parts[idx + 2:] or ["namespaces"]
    else:
        parts = parts[3:] if parts[0] == "apis" else parts[2:]
    return (parts[0] if parts else path), namespace


def translate(status: Optional[int], body: Any, method: str, path: str) -> ApiError:
    """An ApiError with a message that says what was refused and why."""
    message, reason = _status_message(body)
    resource, namespace = _resource_of(path)
    verb = VERBS.get(method, method.lower())
    where = " in namespace %s" % namespace if namespace else ""
    if not status:
        return ApiError("cannot talk to the API server to %s %s%s (TLS or connection failure, not retried): %s"
                        % (verb, resource, where, " ".join(str(body or "").split())[:500]),
                        status=None, reason="TLSError")
    if status == 401:
        return ApiError("Unauthorized (401): the API server rejected the credentials while trying to %s %s%s; "
                        "check api_key, the kubeconfig user or its token" % (verb, resource, where),
                        status=status, reason=reason or "Unauthorized")
    if status == 403 and message.startswith(_WEBHOOK_DENIAL):
        # the platform's validating webhook said no: a rule of the platform, not a missing permission
        return ApiError("the platform refused to %s %s%s: %s" % (verb, resource, where, message),
                        status=status, reason=reason or "Forbidden")
    if status == 403:
        return ApiError("Forbidden (403): not allowed to %s %s%s: %s" % (verb, resource, where, message),
                        status=status, reason=reason or "Forbidden")
    return ApiError("API error %s %s while trying to %s %s%s: %s"
                    % (status, reason or "", verb, resource, where, message),
                    status=status, reason=reason)


Transport = Callable[[str, str, List[Tuple[str, str]], Dict[str, str], Any, bool, Any], HttpResponse]


class Client:
    """The proxy: verbs over a transport, with dry-run, retries and clear errors."""

    def __init__(self, transport: Transport, check_mode: bool = False, request_timeout: float = 30.0,
                 retry_budget: float = 60.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.transport = transport
        self.check_mode = check_mode
        self.request_timeout = request_timeout
        self.retry_budget = retry_budget
        self.sleep = sleep
        self._warned: set = set()
        self._warned_lock = threading.Lock()  # the catalog's threads share one client

    # -- low level -------------------------------------------------------
    def _call(self, method: str, path: str, query: Optional[List[Tuple[str, str]]] = None,
              body: Any = None, content_type: Optional[str] = None, stream: bool = False,
              timeout: Any = None) -> Any:
        """One logical request, retried on 5xx/429/connection errors until the budget is spent."""
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        deadline = time.monotonic() + self.retry_budget
        attempt = 0
        while True:
            attempt += 1
            try:
                resp = self.transport(method, path, list(query or []), dict(headers), body, stream,
                                      timeout or self.request_timeout)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                cause = getattr(exc, "reason", None) or exc
                if isinstance(cause, (urllib3.exceptions.SSLError, ssl.SSLError)):
                    raise translate(0, "%s: %s" % (type(cause).__name__, cause), method, path)
                if self._backoff(attempt, deadline, None):
                    continue
                raise ApiError("cannot reach the API server to %s %s: %s"
                               % (VERBS.get(method, method), _resource_of(path)[0], type(exc).__name__),
                               status=None, reason="ConnectionError")
            self._relay_warnings(resp.headers)
            if 200 <= resp.status <= 299:
                if stream:
                    return resp.body
                return json.loads(resp.body) if resp.body else {}
            if resp.status in RETRYABLE_STATUS and self._backoff(attempt, deadline, resp.headers):
                continue
            raise translate(resp.status, resp.body, method, path)

    def _backoff(self, attempt: int, deadline: float, headers: Optional[Mapping[str, str]]) -> bool:
        """Sleep before the next attempt; False when the deadline does not allow one."""
        delay = min(0.25 * (2 ** (attempt - 1)), 8.0)
        retry_after = (headers or {}).get("Retry-After")
        if retry_after:
            try:
                delay = max(delay, float(retry_after))
            except ValueError:
                pass
        if time.monotonic() + delay > deadline:
            return False
        self.sleep(delay)
        return True

    def _relay_warnings(self, headers: Optional[Mapping[str, str]]) -> None:
        """Every Warning the API server sends (unknown fields, deprecations) becomes an Ansible warning, once per
        run, with URLs redacted: the server may quote what it was sent."""
        for _code, text in _WARNING_RE.findall((headers or {}).get("Warning") or ""):
            text = redact_text(re.sub(r"\\(.)", r"\1", text))
            with self._warned_lock:
                if text in self._warned:
                    continue
                self._warned.add(text)
            warn("the API server warns: %s" % text)

    def _write_query(self, dry_run: bool = False) -> List[Tuple[str, str]]:
        """Every write asks for strict field validation: a field the cluster's schema lacks is refused, never
        dropped in silence (the default would store the object without it and only warn)."""
        query = [("fieldValidation", "Strict")]
        return query + [("dryRun", "All")] if self.check_mode or dry_run else query

    # -- verbs -----------------------------------------------------------
    def get(self, path: str) -> Optional[Dict[str, Any]]:
        """The object, or None when it does not exist."""
        try:
            return self._call("GET", path)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def exists(self, path: str) -> Optional[bool]:
        """Whether the object exists: True, False (a NotFound Status), or None when this cannot be known: the user
        may not read it (403), the server does not serve the path at all (a 404 that is no Status, as from a
        server without the core API), or the request failed otherwise (TLS, credentials, the network). A caller
        that goes on then meets that failure in its own request, which names what it was doing."""
        try:
            self._call("GET", path)
        except ApiError as exc:
            return False if exc.status == 404 and exc.reason == "NotFound" else None
        return True

    def list(self, path: str, label_selector: Optional[str] = None,
             field_selector: Optional[str] = None) -> Dict[str, Any]:
        """A whole list, following ``continue`` tokens."""
        items: List[Dict[str, Any]] = []
        query: List[Tuple[str, str]] = [("limit", "500")]
        if label_selector:
            query.append(("labelSelector", label_selector))
        if field_selector:
            query.append(("fieldSelector", field_selector))
        token = None
        while True:
            page = self._call("GET", path, query + ([("continue", token)] if token else []))
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                page["items"] = items
                return page

    def create(self, collection_path: str, body: Dict[str, Any], dry_run: bool = False) -> Dict[str, Any]:
        """POST (dry-run in check mode, or when asked: a probe of what the server accepts)."""
        return self._call("POST", collection_path, self._write_query(dry_run), body, "application/json")

    def patch(self, path: str, patch: Dict[str, Any]) -> Dict[str, Any]:
        """JSON merge patch (dry-run in check mode)."""
        return self._call("PATCH", path, self._write_query(), patch, MERGE_PATCH)

    def delete(self, path: str) -> Optional[Dict[str, Any]]:
        """DELETE in the background; None when already gone."""
        try:
            options: Dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
            if self.check_mode:  # a DELETE with a body takes its options from the body alone: dryRun goes there
                options["dryRun"] = ["All"]
            return self._call("DELETE", path, [], options, "application/json")
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def watch(self, collection_path: str, name: str, resource_version: str,
              timeout: float) -> Iterator[Dict[str, Any]]:
        """Events for one object from ``resource_version``; raises Gone on 410.

        The stream ends when the server closes it (timeoutSeconds) or the
        connection drops; the caller resumes from the last version it saw.
        """
        seconds = max(1, int(timeout))
        query = [("watch", "true"), ("fieldSelector", "metadata.name=" + name),
                 ("resourceVersion", resource_version), ("allowWatchBookmarks", "true"),
                 ("timeoutSeconds", str(seconds))]
        try:
            resp = self._call("GET", collection_path, query, stream=True,
                              timeout=(self.request_timeout, seconds + self.request_timeout))
        except ApiError as exc:
            if exc.status == 410:
                raise Gone()
            raise
        try:
            for line in response_lines(resp):
                event = json.loads(line)
                if event.get("type") == "ERROR":
                    if (event.get("object") or {}).get("code") == 410:
                        raise Gone()
                    return
                yield event
        except (urllib3.exceptions.HTTPError, OSError, ValueError):
            return  # dropped stream: the caller re-reads and resumes
        finally:
            resp.release_conn()


def build_client(params: Mapping[str, Any], check_mode: bool = False) -> Client:
    """The Client for the module's connection options (kubernetes.core names)."""
    check_pem_file(params.get("ca_cert"), "ca_cert")
    endpoint = endpoint_for(params)
    if not endpoint.verify:
        warn("TLS verification of the API server is off (validate_certs: false or insecure-skip-tls-verify): "
             "anyone on the path can read the token and change answers; prefer ca_cert")
    return Client(endpoint_transport(endpoint), check_mode=check_mode,
                  request_timeout=params.get("request_timeout") or 30.0)
