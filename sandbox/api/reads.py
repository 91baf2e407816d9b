"""get / list (selectors, pagination, resourceVersion semantics) and watch streams."""
from __future__ import annotations

import asyncio
import base64
import json
import time
from dataclasses import dataclass
from typing import Any, Callable

from aiohttp import web

from . import errors, table
from .faults import Faults
from .resources import ResourceType
from .selectors import field_matcher, label_matcher
from .store import Event, Store

CONTINUE_TOO_OLD = ("The provided continue parameter is too old to display a consistent list "
                    "result. You can start a new list without the continue parameter, or use the "
                    "continue token in this response to retrieve the remainder of the results. "
                    "Continuing with the provided token results in an inconsistent list - objects "
                    "that were created, modified, or deleted between the time the first chunk was "
                    "returned and now may show up in the list.")


@dataclass
class Output:
    """How the client wants objects: plain, Table or PartialObjectMetadata."""
    form: str = "json"             # json | table | partial
    include: str = "Metadata"      # Table rows: None | Metadata | Object

    @classmethod
    def from_request(cls, accept: str, query: dict[str, str]) -> "Output":
        include = query.get("includeObject") or "Metadata"
        for clause in accept.split(","):
            params = dict(p.strip().split("=", 1) for p in clause.split(";")[1:] if "=" in p)
            media = clause.split(";")[0].strip()
            if media not in ("application/json", "*/*", "application/*"):
                continue
            if params.get("as") == "Table" and params.get("g") == "meta.k8s.io":
                return cls("table", include)
            if params.get("as") in ("PartialObjectMetadata", "PartialObjectMetadataList"):
                return cls("partial", include)
            if "as" not in params:
                return cls("json", include)
        return cls("json", include)

    def one(self, r: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        if self.form == "table":
            return table.table(r, [obj], {"resourceVersion": obj["metadata"].get("resourceVersion", "")},
                               self.include)
        if self.form == "partial":
            return table.partial(obj)
        return obj


def _matchers(r: ResourceType, query: dict[str, str]) -> Callable[[dict[str, Any]], bool]:
    lm = label_matcher(query.get("labelSelector"))
    fm = field_matcher(query.get("fieldSelector"), r.field_labels, r.namespaced)
    return lambda o: lm(o) and fm(o)


def _encode_continue(rv: int, start: tuple[str, str]) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": list(start)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(raw["rv"]), (str(raw["start"][0]), str(raw["start"][1]))
    except (ValueError, KeyError, IndexError, TypeError):
        raise errors.bad_request(f"continue key is not valid: {token}") from None


async def list_objects(store: Store, r: ResourceType, ns: str, query: dict[str, str],
                       out: Output) -> dict[str, Any]:
    match = _matchers(r, query)
    rv_param = query.get("resourceVersion", "")
    if rv_param not in ("", "0"):
        try:
            want = int(rv_param)
        except ValueError:
            raise errors.bad_request(f'invalid resource version: {rv_param}') from None
        deadline = time.monotonic() + 1   # kube-apiserver waits up to 3 s
        while store.rv < want and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if store.rv < want:
            raise errors.ApiError(errors.status_body(
                504, "Timeout", f"Too large resource version: {want}, current: {store.rv}",
                {"causes": [{"reason": "ResourceVersionTooLarge",
                             "message": "Too large resource version"}], "retryAfterSeconds": 1}))
    list_rv = store.rv
    start: tuple[str, str] | None = None
    if query.get("continue"):
        list_rv, start = _decode_continue(query["continue"])
        if list_rv < store.compacted:
            raise errors.gone(CONTINUE_TOO_OLD)
    items = [o for k, o in store.iter_type(r, ns or None)
             if (start is None or (k[1], k[2]) > start) and match(o)]
    meta: dict[str, Any] = {"resourceVersion": str(list_rv)}
    limit = int(query.get("limit") or 0)
    if limit > 0 and len(items) > limit:
        last = items[limit - 1]["metadata"]
        meta["continue"] = _encode_continue(list_rv, (last.get("namespace", ""), last["name"]))
        if not query.get("labelSelector") and not query.get("fieldSelector"):
            # etcd-backed lists count what is left only when nothing filters the items
            meta["remainingItemCount"] = len(items) - limit
        items = items[:limit]
    items = [json.loads(json.dumps(o)) for o in items]
    if out.form == "table":
        return table.table(r, items, meta, out.include)
    if out.form == "partial":
        return {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
                "items": [table.partial(o) for o in items]}
    if r.custom:
        meta.setdefault("continue", "")     # the CRD handler's unstructured lists always carry it
    return {"kind": r.list_kind, "apiVersion": r.api_version, "metadata": meta, "items": items}


def _bookmark(r: ResourceType, rv: int, initial_end: bool = False) -> dict[str, Any]:
    md: dict[str, Any] = {"resourceVersion": str(rv)}
    if initial_end:
        md["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {"type": "BOOKMARK", "object": {"kind": r.kind, "apiVersion": r.api_version, "metadata": md}}


def _translate(ev: Event, r: ResourceType, ns: str, match: Callable[[dict[str, Any]], bool]
               ) -> str | None:
    """The event type this watcher sees (selector transitions become ADDED/DELETED), or None."""
    if ev.rtype is not r:
        return None
    if ns and ev.obj["metadata"].get("namespace", "") != ns:
        return None
    now_m = match(ev.obj)
    if ev.type == "MODIFIED":
        was_m = match(ev.old) if ev.old is not None else False
        if now_m and was_m:
            return "MODIFIED"
        return "ADDED" if now_m else "DELETED" if was_m else None
    return ev.type if now_m else None


def _payload(ev: Event, typ: str) -> dict[str, Any]:
    """What a watcher gets: an object leaving its selection arrives as DELETED with its last state
    that matched (the old object) at the event's resourceVersion, as kube-apiserver's watch cache sends."""
    if ev.type == "MODIFIED" and typ == "DELETED" and ev.old is not None:
        obj = json.loads(json.dumps(ev.old))
        obj["metadata"]["resourceVersion"] = str(ev.rv)
        return obj
    return ev.obj


async def watch(request: web.Request, store: Store, faults: Faults, r: ResourceType, ns: str,
                query: dict[str, str], out: Output) -> web.StreamResponse:
    match = _matchers(r, query)
    rv_param = query.get("resourceVersion", "")
    send_initial = query.get("sendInitialEvents") == "true"
    bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
    timeout = float(query.get("timeoutSeconds") or 1800)
    if faults.watch_limit() > 0:
        timeout = min(timeout, faults.watch_limit())
    deadline = time.monotonic() + timeout

    queue: asyncio.Queue[Event] = asyncio.Queue()
    store.watchers.add(queue)
    resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json",
                                                   "Cache-Control": "no-cache, private"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    headers_sent = [False]

    async def send(ev_type: str, obj: dict[str, Any]) -> None:
        if out.form == "table" and ev_type in ("ADDED", "MODIFIED", "DELETED"):
            body = table.table(r, [obj], {"resourceVersion": obj["metadata"].get("resourceVersion", "")},
                               out.include, headers=not headers_sent[0])
            headers_sent[0] = True
        elif out.form == "partial" and ev_type != "ERROR":
            body = table.partial(obj)
        else:
            body = obj
        await resp.write(json.dumps({"type": ev_type, "object": body}, separators=(",", ":")).encode() + b"\n")

    try:
        last = store.rv
        if rv_param in ("", "0") or send_initial:
            for _, obj in list(store.iter_type(r, ns or None)):
                if match(obj):
                    await send("ADDED", json.loads(json.dumps(obj)))
            if send_initial and bookmarks:
                await resp.write(json.dumps(_bookmark(r, last, True)).encode() + b"\n")
        else:
            try:
                since = int(rv_param)
            except ValueError:
                raise errors.bad_request(f"invalid resource version: {rv_param}") from None
            history = store.history_since(since)
            if history is None:
                status = errors.gone(f"too old resource version: {since} ({store.oldest_available()})").status
                await resp.write(json.dumps({"type": "ERROR", "object": status}).encode() + b"\n")
                return resp
            for ev in history:
                typ = _translate(ev, r, ns, match)
                if typ:
                    await send(typ, _payload(ev, typ))
            last = max(since, history[-1].rv if history else since)
        next_bookmark = time.monotonic() + faults.bookmark_interval()
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            wait = deadline - now
            if bookmarks:
                wait = min(wait, max(0.0, next_bookmark - now))
            try:
                ev = await asyncio.wait_for(queue.get(), timeout=wait)
            except asyncio.TimeoutError:
                if bookmarks and time.monotonic() >= next_bookmark:
                    while not queue.empty():
                        ev = queue.get_nowait()
                        if ev.rv > last:
                            typ = _translate(ev, r, ns, match)
                            if typ:
                                await send(typ, _payload(ev, typ))
                            last = ev.rv
                    await resp.write(json.dumps(_bookmark(r, last)).encode() + b"\n")
                    next_bookmark = time.monotonic() + faults.bookmark_interval()
                continue
            if ev.rv <= last:
                continue
            last = ev.rv
            typ = _translate(ev, r, ns, match)
            if typ:
                await send(typ, _payload(ev, typ))
    except ConnectionResetError:
        return resp
    finally:
        store.watchers.discard(queue)
    try:
        await resp.write_eof()
    except (ConnectionResetError, RuntimeError):
        pass
    return resp
