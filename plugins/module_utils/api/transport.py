# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The one HTTP path to the API server: urllib3 over an ``Endpoint``.

The client (``client.py``) takes any transport of this shape, so tests and the conformance suite put their own
in its place. This one keeps a connection pool per task, verifies TLS unless told not to, goes through a proxy
(the option's, the kubeconfig's ``proxy-url`` or ``HTTPS_PROXY``) unless ``no_proxy`` names the host, and never
retries by itself: retries are the client's, inside its deadline.
"""

from __future__ import annotations

import ipaddress
import json
import ssl
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Tuple
from urllib.parse import urlencode, urlsplit

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.endpoint import Endpoint

try:
    import urllib3
    HAS_URLLIB3 = True
    URLLIB3_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the module
    HAS_URLLIB3 = False
    URLLIB3_IMPORT_ERROR = exc


# The API server names a write's field manager after the User-Agent's first word: the objects' managedFields then
# say that this collection wrote them.
USER_AGENT = "deckhouse.virtualization/ansible"


class HttpResponse(NamedTuple):
    """What a transport returns: status, headers, and the body (bytes) or the raw stream."""

    status: int
    headers: Mapping[str, str]
    body: Any


def bypasses_proxy(url: str, no_proxy: Optional[str]) -> bool:
    """Whether ``no_proxy`` (hosts, ``.domains``, ``host:port``, IPs or CIDRs, or ``*``) names the URL's host."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        return True
    try:
        address: Any = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in (e.strip().lower() for e in (no_proxy or "").split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
        entry = entry.lstrip(".")
        netloc = parts.netloc.lower()
        if host == entry or host.endswith("." + entry) or netloc == entry or netloc.endswith("." + entry):
            return True
    return False


def _environment_proxy(host: str) -> Tuple[Optional[str], Optional[str]]:
    """The proxy and no_proxy of the environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), as kubectl reads them."""
    from urllib.request import getproxies  # pylint: disable=import-outside-toplevel
    proxies = getproxies()
    scheme = urlsplit(host).scheme or "https"
    return proxies.get(scheme), proxies.get("no")


def _ssl_context(endpoint: Endpoint) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=endpoint.ca_file)
    if not endpoint.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if endpoint.cert_file:
        context.load_cert_chain(endpoint.cert_file, endpoint.key_file)
    return context


def _pool(endpoint: Endpoint) -> Any:
    pool_args: Dict[str, Any] = {"retries": False, "maxsize": 8}
    if endpoint.host.startswith("https"):
        pool_args["ssl_context"] = _ssl_context(endpoint)
        if endpoint.tls_server_name:
            pool_args["server_hostname"] = endpoint.tls_server_name
        if not endpoint.verify:
            pool_args["assert_hostname"] = False
    proxy, no_proxy = endpoint.proxy, endpoint.no_proxy
    if not proxy:
        proxy, env_no_proxy = _environment_proxy(endpoint.host)
        no_proxy = no_proxy or env_no_proxy
    if proxy and not bypasses_proxy(endpoint.host, no_proxy):
        return urllib3.ProxyManager(proxy, proxy_headers=endpoint.proxy_headers or None, **pool_args)
    return urllib3.PoolManager(**pool_args)


def endpoint_transport(endpoint: Endpoint) -> Any:
    """A transport (see ``client.Transport``) sending to ``endpoint``: the Authorization header is asked of the
    endpoint before every request, bodies that are not bytes are sent as JSON, and a streamed answer (a watch)
    is handed back unread."""
    pool = _pool(endpoint)

    def send(method: str, path: str, query: List[Tuple[str, str]], headers: Dict[str, str], body: Any,
             stream: bool, timeout: Any) -> HttpResponse:
        url = endpoint.host + path + ("?" + urlencode(query) if query else "")
        sent = {"User-Agent": USER_AGENT}
        sent.update(endpoint.headers)
        sent.update(headers)
        authorization = endpoint.authorization()
        if authorization:
            sent["Authorization"] = authorization
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        resp = pool.request(method, url, body=data, headers=sent, preload_content=not stream,
                            timeout=urllib3.Timeout(connect=connect, read=read), redirect=False)
        if stream and 200 <= resp.status <= 299:
            return HttpResponse(resp.status, resp.headers, resp)
        if stream:
            payload = resp.data
            resp.release_conn()
            return HttpResponse(resp.status, resp.headers, payload)
        return HttpResponse(resp.status, resp.headers, resp.data)
    return send


def response_lines(resp: Any) -> Any:
    """The lines of a streamed answer as they arrive (a watch sends one JSON event per line)."""
    pending = b""
    for chunk in resp.stream(amt=None, decode_content=False):
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            if line.strip():
                yield line
    if pending.strip():
        yield pending
