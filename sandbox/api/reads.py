"""get / list (selectors, pagination, resourceVersion semantics) and watch streams."""
from __future__ import annotations

import asyncio
import base64
import json
import posixpath
import re
import time
from dataclasses import dataclass
from typing import Any, Callable

from aiohttp import web

from . import errors, gojson, table
from .faults import Faults
from .resources import ResourceType
from .selectors import field_matcher, parse_label_selector
from .store import Event, Store, rid

# etcd3 store texts (k8s.io/apiserver/pkg/storage/etcd3/errors.go)
LIST_TOO_OLD = "The resourceVersion for the provided list is too old."
CONTINUE_TOO_OLD = ("The provided continue parameter is too old to display a consistent list "
                    "result. You can start a new list without the continue parameter, or use the "
                    "continue token in this response to retrieve the remainder of the results. "
                    "Continuing with the provided token results in an inconsistent list - objects "
                    "that were created, modified, or deleted between the time the first chunk was "
                    "returned and now may show up in the list.")
FRESH_WAIT = 1.0    # how long a list or watch waits for a newer resourceVersion (kube-apiserver: 3 s)
_UINT = re.compile(r"[0-9]+")
_INT = re.compile(r"[+-]?[0-9]+")
_BASE64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


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


def _go_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def parse_rv(value: str) -> int:
    """A resourceVersion as the storage layer parses it ("" and "0" are 0); its error text otherwise."""
    if value in ("", "0"):
        return 0
    reason = "invalid syntax" if not _UINT.fullmatch(value) else \
        "value out of range" if int(value) >= 2 ** 64 else ""
    if reason:
        raise ValueError(f"resourceVersion: Invalid value: {_go_quote(value)}: strconv.ParseUint: parsing "
                         f"{_go_quote(value)}: {reason}")
    return int(value)


def _parse_int(name: str, value: str) -> int:
    """An integer query parameter (limit, timeoutSeconds) as the parameter codec parses it."""
    if not _INT.fullmatch(value) or not -2 ** 63 <= int(value) < 2 ** 63:
        reason = "invalid syntax" if not _INT.fullmatch(value) else "value out of range"
        raise errors.bad_request(f"strconv.ParseInt: parsing {_go_quote(value)}: {reason}")
    return int(value)


def _key(r: ResourceType, ns: str, obj: dict[str, Any]) -> str:
    """An object's storage key below the list's prefix (etcd orders a list by it, byte-wise)."""
    md = obj["metadata"]
    if r.namespaced and not ns:
        return f"{md.get('namespace', '')}/{md['name']}"
    return md["name"]


def encode_continue(rv: int, start: str) -> str:
    """The continue token of kube-apiserver's storage layer: base64url (unpadded) JSON of
    {"v": "meta.k8s.io/v1", "rv": <list RV, -1: the latest>, "start": <the next key below the prefix>}."""
    raw = gojson.marshal({"v": "meta.k8s.io/v1", "rv": rv, "start": start}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _b64decode(token: str) -> bytes:
    """base64.RawURLEncoding.DecodeString, with its error text."""
    chars = [c for c in token if c not in "\r\n"]
    for i, c in enumerate(token):
        if c not in _BASE64URL and c not in "\r\n":
            raise ValueError(f"illegal base64 data at input byte {i}")
    if len(chars) % 4 == 1:
        raise ValueError(f"illegal base64 data at input byte {len(token) - 1}")
    text = "".join(chars)
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode_continue(token: str) -> tuple[int, str]:
    """(resourceVersion, start key) of a continue token; 400 BadRequest as kube-apiserver words it."""
    def invalid(why: str) -> errors.ApiError:
        return errors.bad_request(f"invalid continue token: continue key is not valid{why}")

    try:
        raw = _b64decode(token)
    except ValueError as exc:
        raise invalid(f": {exc}") from None
    try:
        value = gojson.loads(raw)
    except gojson.GoJSONError as exc:
        raise invalid(f": {exc}") from None
    if value is not None and not isinstance(value, dict):
        raise invalid(": " + gojson.cannot_unmarshal(value, "storage.continueToken"))
    value = value or {}
    for key, go_type, ok in (("v", "string", lambda v: isinstance(v, str)),
                             ("rv", "int64", lambda v: isinstance(v, int) and not isinstance(v, bool)),
                             ("start", "string", lambda v: isinstance(v, str))):
        if value.get(key) is not None and not ok(value[key]):
            raise invalid(": " + gojson.cannot_unmarshal_field(value[key], f"continueToken.{key}", go_type))
    version, rv, start = value.get("v") or "", value.get("rv") or 0, value.get("start") or ""
    if version != "meta.k8s.io/v1":
        raise invalid(f": server does not recognize this encoded version {version}")
    if rv == 0:
        raise invalid(": incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
    if not start:
        raise invalid(": encoded start key empty (version meta.k8s.io/v1)")
    key = start if start.startswith("/") else "/" + start
    if posixpath.normpath(key) != key or key.startswith("//"):
        raise invalid(f": {start}")
    return rv, key[1:]


@dataclass
class ListOptions:
    rv: str = ""                 # resourceVersion as given
    match: str = ""              # resourceVersionMatch
    limit: int = 0
    token: str = ""              # continue
    label: str = ""
    field: str = ""


def list_options(r: ResourceType, query: dict[str, str], watch: bool = False
                 ) -> tuple[ListOptions, Callable[[dict[str, Any]], bool]]:
    """The list/watch options and the selector, checked in the order kube-apiserver checks them:
    parameter decoding (integers, then selectors: 400), ListOptions validation (422), then field labels."""
    opts = ListOptions(rv=query.get("resourceVersion", ""), match=query.get("resourceVersionMatch", ""),
                       token=query.get("continue", ""), label=query.get("labelSelector", ""),
                       field=query.get("fieldSelector", ""))
    for name in ("timeoutSeconds", "limit"):
        if query.get(name):
            value = _parse_int(name, query[name])
            if name == "limit":
                opts.limit = value
    reqs = parse_label_selector(opts.label)
    causes = []
    initial = query.get("sendInitialEvents")
    if watch:
        if initial is not None and opts.match != "NotOlderThan":
            causes.append(errors.cause("resourceVersionMatch", "FieldValueForbidden",
                                       "Forbidden: sendInitialEvents requires setting resourceVersionMatch "
                                       "to NotOlderThan"))
        if opts.match:
            if initial is None:
                causes.append(errors.cause("resourceVersionMatch", "FieldValueForbidden",
                                           "Forbidden: resourceVersionMatch is forbidden for watch unless "
                                           "sendInitialEvents is provided"))
            if opts.match != "NotOlderThan":
                causes.append(errors.cause("resourceVersionMatch", "FieldValueNotSupported",
                                           f"Unsupported value: {_go_quote(opts.match)}: supported values: "
                                           f'"NotOlderThan"'))
            if opts.token:
                causes.append(errors.cause("resourceVersionMatch", "FieldValueForbidden",
                                           "Forbidden: resourceVersionMatch is forbidden when continue is "
                                           "provided"))
    else:
        if opts.match:
            if not opts.rv:
                causes.append(errors.cause("resourceVersionMatch", "FieldValueForbidden",
                                           "Forbidden: resourceVersionMatch is forbidden unless resourceVersion "
                                           "is provided"))
            if opts.token:
                causes.append(errors.cause("resourceVersionMatch", "FieldValueForbidden",
                                           "Forbidden: resourceVersionMatch is forbidden when continue is "
                                           "provided"))
            if opts.match not in ("Exact", "NotOlderThan"):
                causes.append(errors.cause("resourceVersionMatch", "FieldValueNotSupported",
                                           f"Unsupported value: {_go_quote(opts.match)}: supported values: "
                                           f'"Exact", "NotOlderThan", ""'))
            if opts.match == "Exact" and opts.rv == "0":
                causes.append(errors.cause("resourceVersionMatch", "FieldValueForbidden",
                                           'Forbidden: resourceVersionMatch "exact" is forbidden for '
                                           'resourceVersion "0"'))
        if initial is not None:
            causes.append(errors.cause("sendInitialEvents", "FieldValueForbidden",
                                       "Forbidden: sendInitialEvents is forbidden for list"))
    if causes:
        raise errors.invalid("ListOptions", "meta.k8s.io", "", causes)
    fm = field_matcher(opts.field, r.field_labels, r.namespaced)
    return opts, lambda o: all(q.matches((o.get("metadata") or {}).get("labels") or {}) for q in reqs) and fm(o)


def _ordered(objects: dict[Any, dict[str, Any]], r: ResourceType, ns: str) -> list[tuple[str, dict[str, Any]]]:
    """(storage key, object) of one resource type (in namespace `ns`, if given), in storage key order."""
    res = rid(r)
    return sorted(((_key(r, ns, o), o) for k, o in objects.items() if k[0] == res and (not ns or k[1] == ns)),
                  key=lambda kv: kv[0].encode())


def _too_large(want: int, current: int, retry: bool) -> errors.ApiError:
    details: dict[str, Any] = {"causes": [{"reason": "ResourceVersionTooLarge",
                                           "message": "Too large resource version"}]}
    if retry:
        details["retryAfterSeconds"] = 1
    return errors.ApiError(errors.status_body(
        504, "Timeout", f"Timeout: Too large resource version: {want}, current: {current}", details))


async def list_objects(store: Store, r: ResourceType, ns: str, query: dict[str, str],
                       out: Output) -> dict[str, Any]:
    """A list with kube-apiserver's resourceVersion semantics:

    - no resourceVersion: the latest state; `limit` pages it, `continue` tokens carry the list's RV;
    - resourceVersion=0 (any match): the latest state, whole (the watch cache ignores `limit`);
    - resourceVersionMatch=NotOlderThan, or a resourceVersion without a match and without `limit`:
      the latest state once it is at least that new (504 after waiting);
    - resourceVersionMatch=Exact, or a resourceVersion with `limit` and no match: the state at exactly
      that resourceVersion, read from the history (410 Expired when it is older than what is kept);
    - `continue`: the next page of the state the token was made at (410 Expired with a token to the
      latest state when that is no longer kept).
    """
    opts, match = list_options(r, query)
    start = ""
    token_rv = 0
    if opts.token:
        token_rv, start = decode_continue(opts.token)
        if opts.rv not in ("", "0"):
            raise errors.bad_request("specifying resource version is not allowed when using continue")
    try:
        want = parse_rv(opts.rv)
    except ValueError as exc:
        raise errors.bad_request(f"invalid resource version: {exc}") from None
    limit = opts.limit if opts.limit > 0 else 0
    exact = opts.match == "Exact" or (opts.match == "" and limit > 0 and want > 0)
    snapshot: dict[Any, dict[str, Any]] | None = None
    if opts.token:
        if token_rv > 0:
            snapshot = store.snapshot(token_rv)
            if snapshot is None:
                err = errors.gone(CONTINUE_TOO_OLD)
                err.status["metadata"]["continue"] = encode_continue(-1, start)
                raise err
            list_rv = token_rv
        else:
            list_rv = store.rv
    elif exact and want > 0:
        if want > store.rv:
            raise _too_large(want, store.rv, retry=False)
        snapshot = store.snapshot(want)
        if snapshot is None:
            raise errors.gone(LIST_TOO_OLD)
        list_rv = want
    else:
        if want > 0:
            deadline = time.monotonic() + FRESH_WAIT
            while store.rv < want and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if store.rv < want:
                raise _too_large(want, store.rv, retry=True)
        if opts.rv == "0":
            limit = 0
        list_rv = store.rv
    candidates = [(k, o) for k, o in _ordered(snapshot if snapshot is not None else store.objects, r, ns)
                  if k.encode() >= start.encode()]
    items: list[dict[str, Any]] = []
    meta: dict[str, Any] = {"resourceVersion": str(list_rv)}
    for i, (key, obj) in enumerate(candidates):
        if not match(obj):
            continue
        items.append(obj)
        if limit and len(items) == limit:
            if i < len(candidates) - 1:      # anything after the last item, selected or not
                meta["continue"] = encode_continue(list_rv, key + "\x00")
                if not opts.label and not opts.field:
                    # etcd counts what is left only when nothing filters the items
                    meta["remainingItemCount"] = len(candidates) - limit
            break
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
    opts, match = list_options(r, query, watch=True)
    rv_param = opts.rv
    try:
        since = parse_rv(rv_param)
    except ValueError as exc:
        # the watch cache hands the storage error up unconverted: a 500 without a reason
        raise errors.ApiError({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                               "message": str(exc), "code": 500}) from None
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
            for _, obj in _ordered(store.objects, r, ns):
                if match(obj):
                    await send("ADDED", json.loads(json.dumps(obj)))
            if send_initial and bookmarks:
                await resp.write(json.dumps(_bookmark(r, last, True)).encode() + b"\n")
        else:
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
