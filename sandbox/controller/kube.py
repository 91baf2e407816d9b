"""A small asyncio Kubernetes client: the controller is an ordinary API client.

It talks HTTPS with a bearer token and trusts only the sandbox CA, like any pod
with a service account would. Only what the controller needs: get, list, watch,
create, merge-patch (object and /status) and delete.
"""
from __future__ import annotations

import asyncio
import json
import logging
import ssl
from dataclasses import dataclass
from typing import Any, AsyncIterator

import aiohttp

log = logging.getLogger(__name__)

GROUP = "virtualization.deckhouse.io/v1alpha2"


@dataclass(frozen=True)
class Kind:
    """Where a resource lives in the API."""
    kind: str
    plural: str
    api: str  # "v1" for core, "group/version" otherwise
    namespaced: bool = True

    def path(self, ns: str | None = None, name: str | None = None, sub: str | None = None) -> str:
        base = "/api/v1" if self.api == "v1" else f"/apis/{self.api}"
        if self.namespaced and ns:
            base += f"/namespaces/{ns}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
        if sub:
            base += f"/{sub}"
        return base


VI = Kind("VirtualImage", "virtualimages", GROUP)
CVI = Kind("ClusterVirtualImage", "clustervirtualimages", GROUP, namespaced=False)
VD = Kind("VirtualDisk", "virtualdisks", GROUP)
VDSNAP = Kind("VirtualDiskSnapshot", "virtualdisksnapshots", GROUP)
VM = Kind("VirtualMachine", "virtualmachines", GROUP)
VMOP = Kind("VirtualMachineOperation", "virtualmachineoperations", GROUP)
SECRET = Kind("Secret", "secrets", "v1")
PVC = Kind("PersistentVolumeClaim", "persistentvolumeclaims", "v1")
EVENT = Kind("Event", "events", "v1")
STORAGECLASS = Kind("StorageClass", "storageclasses", "storage.k8s.io/v1", namespaced=False)


class ApiError(Exception):
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

    async def get(self, kind: Kind, ns: str | None, name: str) -> dict | None:
        try:
            return await self._call("GET", kind.path(ns, name))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    async def list(self, kind: Kind, ns: str | None = None) -> dict:
        return await self._call("GET", kind.path(ns))

    async def create(self, kind: Kind, ns: str | None, body: dict) -> dict:
        return await self._call("POST", kind.path(ns), body)

    async def patch(self, kind: Kind, ns: str | None, name: str, patch: dict, sub: str | None = None) -> dict:
        return await self._call("PATCH", kind.path(ns, name, sub), patch, "application/merge-patch+json")

    async def delete(self, kind: Kind, ns: str | None, name: str) -> None:
        try:
            await self._call("DELETE", kind.path(ns, name))
        except ApiError as exc:
            if exc.status != 404:
                raise

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


class Informer:
    """List + watch one kind into a cache, calling on_change(obj, deleted) for every change."""

    def __init__(self, kube: Kube, kind: Kind, on_change) -> None:
        self.kube = kube
        self.kind = kind
        self.on_change = on_change
        self.cache: dict[tuple[str, str], dict] = {}
        self.synced = asyncio.Event()

    @staticmethod
    def key(obj: dict) -> tuple[str, str]:
        md = obj["metadata"]
        return md.get("namespace", ""), md["name"]

    def get(self, ns: str | None, name: str) -> dict | None:
        return self.cache.get((ns or "", name))

    def items(self, ns: str | None = None) -> list[dict]:
        return [o for (n, _), o in list(self.cache.items()) if ns is None or n == ns]

    def _older(self, obj: dict) -> bool:
        """True when the cache already holds a newer version (our own write's reply came first)."""
        have = self.cache.get(self.key(obj))
        if have is None:
            return False
        try:
            return int(obj["metadata"]["resourceVersion"]) < int(have["metadata"]["resourceVersion"])
        except (KeyError, ValueError):
            return False

    async def run(self) -> None:
        while True:
            try:
                listed = await self.kube.list(self.kind)
                fresh = {self.key(o): o for o in listed.get("items", [])}
                gone = [o for k, o in self.cache.items() if k not in fresh]
                self.cache = fresh
                for obj in gone:
                    self.on_change(obj, True)
                for obj in fresh.values():
                    self.on_change(obj, False)
                self.synced.set()
                rv = listed.get("metadata", {}).get("resourceVersion", "0")
                async for ev in self.kube.watch(self.kind, rv):
                    typ, obj = ev.get("type"), ev.get("object") or {}
                    if typ == "ERROR":
                        break
                    if typ == "BOOKMARK" or "metadata" not in obj:
                        continue
                    if typ == "DELETED":
                        self.cache.pop(self.key(obj), None)
                        self.on_change(obj, True)
                    elif not self._older(obj):
                        self.cache[self.key(obj)] = obj
                        self.on_change(obj, False)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep watching through API restarts
                log.warning("watch %s: %s", self.kind.plural, exc)
                await asyncio.sleep(0.5)
