"""A small asyncio Kubernetes client: the controller is an ordinary API client.

It talks HTTPS with a bearer token and trusts only the sandbox CA, like any pod
with a service account would. Only what the controller needs:
list, watch, create, merge-patch (object and /status) and delete.
"""
from __future__ import annotations

import asyncio
import json
import ssl
from typing import Any, AsyncIterator

import aiohttp

from ..model.kinds import Kind

class ApiError(Exception):
    """An error answer of the API server (`status` its HTTP code, `body` its Status)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body.get('message') if isinstance(body, dict) else body}")
        self.status = status
        self.body = body


class Kube:
    """One authenticated session to the API server."""

    def __init__(self, url: str, token: str, cafile: str) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self._ssl = ssl.create_default_context(cafile=cafile)
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {self._token}"},
                connector=aiohttp.TCPConnector(ssl=self._ssl, limit=32),
                trust_env=False,
            )
        return self._session

    async def close(self) -> None:
        if self._session:
            await self._session.close()

    async def _call(self, method: str, path: str, body: Any = None, content_type: str = "application/json",
                    params: dict | None = None) -> Any:
        """One API call; 429/5xx and dropped connections are retried briefly, like client-go does."""
        data = json.dumps(body) if body is not None else None
        headers = {"Content-Type": content_type} if data is not None else {}
        for attempt in range(6):
            try:
                async with self.session.request(method, self.url + path, data=data, headers=headers,
                                                params=params, timeout=aiohttp.ClientTimeout(total=30)) as resp:
                    text = await resp.text()
                    status, retry_after = resp.status, resp.headers.get("Retry-After")
            except (aiohttp.ClientConnectionError, asyncio.TimeoutError):
                if attempt == 5:
                    raise
                await asyncio.sleep(0.1 * 2 ** attempt)
                continue
            try:
                payload = json.loads(text) if text else {}
            except json.JSONDecodeError:
                payload = {"message": text}
            if status in (429, 500, 502, 503, 504) and attempt < 5:
                try:
                    wait = min(float(retry_after), 2.0) if retry_after else 0.1 * 2 ** attempt
                except ValueError:
                    wait = 0.1 * 2 ** attempt
                await asyncio.sleep(wait)
                continue
            if status >= 400:
                raise ApiError(status, payload)
            return payload
        raise AssertionError("unreachable")

    async def list(self, kind: Kind, ns: str | None = None) -> dict:
        return await self._call("GET", kind.path(ns))

    async def create(self, kind: Kind, ns: str | None, body: dict) -> dict:
        return await self._call("POST", kind.path(ns), body)

    async def patch(self, kind: Kind, ns: str | None, name: str, patch: dict, sub: str | None = None) -> dict:
        return await self._call("PATCH", kind.path(ns, name, sub), patch, "application/merge-patch+json")

    async def delete(self, kind: Kind, ns: str | None, name: str) -> dict | None:
        """The server's answer: a `Status` when the object is gone, the object itself when a
        finalizer holds it; None when it was not there."""
        try:
            return await self._call("DELETE", kind.path(ns, name))
        except ApiError as exc:
            if exc.status != 404:
                raise
            return None

    async def watch(self, kind: Kind, resource_version: str) -> AsyncIterator[dict]:
        """Yield watch events until the server closes the stream (the caller re-lists)."""
        params = {"watch": "1", "resourceVersion": resource_version, "allowWatchBookmarks": "true"}
        async with self.session.get(self.url + kind.path(), params=params,
                                    timeout=aiohttp.ClientTimeout(total=None, sock_read=None)) as resp:
            if resp.status >= 400:
                raise ApiError(resp.status, await resp.text())
            while True:
                line = await resp.content.readline()
                if not line:
                    return
                if line.strip():
                    yield json.loads(line)
