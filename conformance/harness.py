"""Running one case against one server, and what is recorded from it.

A case is a function of a `Ctx`: it sends requests (`ctx.req`), runs kubectl (`ctx.kubectl`) or reads
watch streams (`ctx.watch`), and records what it saw under a step label. The same function runs on
both servers; the two recordings are compared after normalising only what is random by nature:
uids and resourceVersions become tokens numbered in order of first appearance (so "unchanged" and
"changed" still compare), timestamps become `<time>`, continue tokens `<continue>`.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .servers import Server

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
MERGE = "application/merge-patch+json"
JSONPATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
TIME_KEYS = {"creationTimestamp", "deletionTimestamp", "time", "lastTransitionTime"}
WARNING = re.compile(r'^\d{3} \S+ "(.*)"$')
WRITES = ("POST", "PUT", "PATCH", "DELETE")
RV_IN_TEXT = re.compile(r'(resourceVersion\\?":\\?"|ResourceVersion in (?:record|the precondition) \()(\d+)(\\?"|\))')
# An object quoted in a refusal (a strict merge patch's "Invalid value"): JSON, whose key order means nothing.
# (Upstream's merge patch, json-patch v4, sorts the keys; the reference build links Debian's json-patch v5, which
# keeps the document's order.)
QUOTED_OBJECT = re.compile(r'(Invalid value: )"(\{(?:[^"\\]|\\.)*\})"')


def _sorted_quoted_object(m: re.Match[str]) -> str:
    try:
        inner = json.loads('"' + m.group(2) + '"')
        canonical = json.dumps(json.loads(inner), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return m.group(0)
    return m.group(1) + json.dumps(canonical)


TIME_IN_TEXT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")


@dataclass
class Case:
    id: str
    title: str
    func: Callable[["Ctx"], None]
    needs_kubectl: bool = False


class Normaliser:
    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}
        self.counts: dict[str, int] = {}

    def token(self, kind: str, value: str) -> str:
        key = f"{kind}:{value}"
        if key not in self.tokens:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            self.tokens[key] = f"<{kind}{self.counts[kind]}>"
        return self.tokens[key]

    def text(self, s: str) -> str:
        for key, tok in self.tokens.items():
            kind, _, value = key.partition(":")
            if kind == "uid" and value:
                s = s.replace(value, tok)
        s = re.sub(r"too old resource version: \d+ \(\d+\)", "too old resource version: <n> (<n>)", s)
        # an object quoted inside a message (a strict patch's "Invalid value") or versions named in words
        s = QUOTED_OBJECT.sub(_sorted_quoted_object, s)
        s = RV_IN_TEXT.sub(lambda m: m.group(1) + self.token("rv", m.group(2)) + m.group(3), s)
        s = TIME_IN_TEXT.sub("<time>", s)
        return s

    def obj(self, node: Any, key: str = "") -> Any:
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k == "uid" and isinstance(v, str):
                    out[k] = self.token("uid", v)
                elif k == "resourceVersion" and isinstance(v, str) and v:
                    out[k] = self.token("rv", v)
                elif k in TIME_KEYS and isinstance(v, str):
                    out[k] = "<time>"
                elif k == "continue" and isinstance(v, str) and v:
                    out[k] = "<continue>"
                elif k in ("message", "error") and isinstance(v, str):
                    out[k] = self.text(v)
                elif k == "name" and isinstance(v, str) and _generated(v, node.get("generateName")):
                    out[k] = f"<generated from {node['generateName']}>"
                elif k == "managedFields" and isinstance(v, list):
                    # entries sort by the second they were written, then by manager: the order depends on the
                    # clock, the entries do not
                    out[k] = sorted(self.obj(v, k), key=lambda e: json.dumps(e, sort_keys=True))
                else:
                    out[k] = self.obj(v, k)
            return out
        if isinstance(node, list):
            return [self.obj(v, key) for v in node]
        return node


@dataclass
class Response:
    code: int
    body: Any
    warnings: list[str]
    headers: dict[str, str] = field(default_factory=dict)


def _response(r: Any) -> Response:
    try:
        decoded = r.json() if r.content else None
    except ValueError:
        decoded = r.text
    warnings = []
    for w in r.raw.headers.getlist("Warning") if hasattr(r.raw.headers, "getlist") else []:
        m = WARNING.match(w.strip())
        warnings.append(m.group(1).replace('\\"', '"') if m else w)
    return Response(r.status_code, decoded, warnings, dict(r.headers))


def object_path_of(path: str, body: Any, answer: Any) -> str | None:
    """The path of the one object a write to `path` is about (see Ctx.stored)."""
    parts = path.rstrip("/").split("/")
    if parts[-1] == "status" and len(parts) >= 2:
        parts = parts[:-1]
    # /apis/<group>/<version>/<plural>[/<name>] or .../namespaces/<ns>/<plural>[/<name>]
    rest = parts[4:]
    if rest[:1] == ["namespaces"]:
        rest = rest[2:]
    if len(rest) >= 2:
        return "/".join(parts)
    if isinstance(body, bytes):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    name = ((body or {}).get("metadata") or {}).get("name") if isinstance(body, dict) else None
    if not name and isinstance(answer, dict) and answer.get("kind") not in (None, "Status", "List") \
            and not str(answer.get("kind", "")).endswith("List"):
        name = (answer.get("metadata") or {}).get("name")
    if not name or not isinstance(body, dict) or body.get("kind") == "DeleteOptions":
        return None
    return "/".join(parts) + "/" + name


def _generated(name: str, prefix: Any) -> bool:
    """A name the server made from generateName: the prefix and five random characters."""
    return isinstance(prefix, str) and bool(prefix) and name.startswith(prefix) and len(name) == len(prefix) + 5


class RecordedStream:
    """A watch answer handed to the client: read through, and recorded once the client releases it."""

    def __init__(self, ctx: "Ctx", label: str, r: Any) -> None:
        self.ctx, self.label, self.r = ctx, label, r
        self.data = bytearray()
        self.released = False

    def stream(self, amt: Any = None, decode_content: bool = False) -> Any:
        for chunk in self.r.raw.stream(amt, decode_content=decode_content):
            self.data.extend(chunk)
            yield chunk

    def release_conn(self) -> None:
        if self.released:
            return
        self.released = True
        self.r.close()
        events = [json.loads(line) for line in bytes(self.data).decode().splitlines() if line.strip()]
        self.ctx.record(self.label, {"code": self.r.status_code,
                                     "events": watch_events([e for e in events if e.get("type") != "BOOKMARK"]),
                                     "bookmarks-well-formed": all(_bookmark_ok(e) for e in events
                                                                  if e.get("type") == "BOOKMARK")})


def _bookmark_ok(event: dict[str, Any]) -> bool:
    """A bookmark carries only the kind, apiVersion and a resourceVersion (and the initial-events annotation)."""
    obj = event.get("object") or {}
    md = obj.get("metadata") or {}
    return bool(md.get("resourceVersion")) and set(md) <= {"resourceVersion", "annotations", "creationTimestamp"}


def watch_events(evs: list[dict[str, Any]]) -> list[Any]:
    """What of watch events is compared: type and the object's identity, generation, labels, deletion."""
    out: list[Any] = []
    for e in evs:
        if "httpCode" in e:
            out.append(e)
            continue
        o = e.get("object", {})
        if e.get("type") == "ERROR":
            out.append({"type": "ERROR", "object": o})
        else:
            md = o.get("metadata", {})
            out.append({"type": e.get("type"), "name": md.get("name"), "generation": md.get("generation"),
                        "resourceVersion": md.get("resourceVersion"), "labels": md.get("labels"),
                        "deletion": "deletionTimestamp" in md})
    return out


def collection_client() -> Any:
    """The collection's client module, imported from this checkout (see collection.py)."""
    from .collection import client_module
    return client_module()


class Ctx:
    def __init__(self, server: Server, ns: str, kubectl: str | None, work: str) -> None:
        self.server = server
        self.ns = ns
        self.kubectl_bin = kubectl
        self.work = work
        self.session = server.session()
        self.norm = Normaliser()
        self.steps: list[tuple[str, Any]] = []
        server.ensure_namespace(ns)

    # -- recording ------------------------------------------------------------------------------------
    def record(self, label: str, value: Any) -> None:
        if any(lbl == label for lbl, _ in self.steps):
            raise ValueError(f"step {label!r} recorded twice: step labels are unique within a case")
        self.steps.append((label, self.norm.obj(value)))

    def observe(self, r: Response, keep_object: bool = True) -> dict[str, Any]:
        """What a response says: code, warnings and, for a Status, reason/message/causes; else the object."""
        out: dict[str, Any] = {"code": r.code}
        if r.warnings:
            out["warnings"] = r.warnings
        b = r.body
        if isinstance(b, dict) and b.get("kind") == "Status":
            out["status"] = {k: b.get(k) for k in ("status", "reason", "message", "code") if k in b}
            details = b.get("details") or {}
            if details:
                out["status"]["details"] = {k: details[k] for k in ("name", "group", "kind", "causes")
                                            if k in details}
        elif keep_object:
            out["body"] = b
        return out

    # -- requests ---------------------------------------------------------------------------------------
    def req(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None,
            ctype: str | None = None, accept: str | None = None, raw: bytes | None = None) -> Response:
        headers = {"Accept": accept or "application/json"}
        data = raw
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        if data is not None:
            headers["Content-Type"] = ctype or "application/json"
        r = self.session.request(method, self.server.url + path, data=data, params=params, headers=headers,
                                 verify=self.server.verify, timeout=30)
        return _response(r)

    def step(self, label: str, method: str, path: str, body: Any = None, keep_object: bool = True,
             pick: Callable[[Any], Any] | None = None, **kw: Any) -> Response:
        """req() and record it; `pick` chooses what of a successful body to compare."""
        r = self.req(method, path, body, **kw)
        seen = self.observe(r, keep_object=keep_object and pick is None)
        if pick is not None and r.code < 300:
            seen["body"] = pick(r.body)
        if method in WRITES:
            stored = self.stored(path, body, r)
            if stored is not None:
                seen["stored"] = stored
        self.record(label, seen)
        return r

    def stored(self, path: str, body: Any, r: Response) -> dict[str, Any] | None:
        """The object a write was about, read back after it: what the server kept is compared on every
        write step, whatever the step chose to compare of the answer (`pick`, `keep_object=False`).

        None for writes to a collection other than a create (a delete-collection) and for a create
        whose body names no object (the name is taken from the answer when the server made it up)."""
        object_path = object_path_of(path, body, r.body)
        if object_path is None:
            return None
        return self.observe(self.req("GET", object_path))

    def transport(self, prefix: str) -> Callable[..., Any]:
        """A transport for the collection's own client (plugins/module_utils/api/client.py) that sends what
        the client builds to this server and records each exchange as a step `<prefix>-<n>-<verb>`.

        So a case that drives the client compares the requests the collection really sends: a change of
        the client is compared too. A streamed answer (a watch) is recorded when the client lets go of it,
        as the events it read (bookmarks left out: when they come is the server's choice)."""
        counter = iter(range(1, 1_000_000))
        http_response = collection_client().HttpResponse

        def send(method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str], body: Any,
                 stream: bool, timeout: Any) -> Any:
            label = f"{prefix}-{next(counter)}-{method.lower()}"
            data = None if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
            r = self.session.request(method, self.server.url + path, params=query, data=data, headers=headers,
                                     verify=self.server.verify, timeout=timeout, stream=stream)
            if stream and 200 <= r.status_code <= 299:
                return http_response(r.status_code, r.headers, RecordedStream(self, label, r))
            resp = _response(r)
            seen = self.observe(resp)
            seen["query"] = sorted(k for k, _ in query)
            if method in WRITES:
                stored = self.stored(path, body, resp)
                if stored is not None:
                    seen["stored"] = stored
            self.record(label, seen)
            return http_response(r.status_code, r.headers, r.content)
        return send

    def watch(self, path: str, params: dict[str, Any], count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Up to `count` watch events (or until the server ends the stream / `timeout`)."""
        q = dict(params, watch="true", timeoutSeconds=str(int(timeout)))
        events: list[dict[str, Any]] = []
        with self.session.get(self.server.url + path, params=q, stream=True, verify=self.server.verify,
                              timeout=timeout + 5, headers={"Accept": "application/json"}) as r:
            if r.status_code != 200:
                return [{"httpCode": r.status_code, "body": r.json() if r.content else None}]
            deadline = time.monotonic() + timeout
            for line in r.iter_lines():
                if line:
                    events.append(json.loads(line))
                if len(events) >= count or time.monotonic() > deadline:
                    break
        return events

    # -- kubectl ------------------------------------------------------------------------------------------
    def kubectl(self, *args: str, stdin: str | None = None) -> dict[str, Any]:
        assert self.kubectl_bin
        env = dict(os.environ, KUBECONFIG=str(self.server.kubeconfig), KUBECTL_COMMAND_HEADERS="false")
        env.pop("KUBECTL_EXTERNAL_DIFF", None)
        res = subprocess.run([self.kubectl_bin, "--cache-dir", os.path.join(self.work, "kube-cache"),
                              "-n", self.ns, *args], input=stdin, capture_output=True, text=True, env=env,
                             timeout=60)
        return {"rc": res.returncode, "stdout": _kubectl_text(res.stdout, self.norm),
                "stderr": _kubectl_text(res.stderr, self.norm)}


AGE = re.compile(r"(?<![\w-])(\d+(\.\d+)?(ms|s|m|h|d|y)|<unknown>|<invalid>)(?![\w-])")


def _kubectl_text(s: str, norm: Normaliser) -> str:
    s = norm.text(s)
    s = re.sub(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "<uid>", s)
    s = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<time>", s)
    s = re.sub(r"(?m)^(Creation Timestamp:\s+).*$", r"\1<time>", s)
    s = re.sub(r"(?m)^(\s*)(Time|Resource Version|Uid|UID):(\s+).*$", r"\1\2:\3<x>", s)
    s = re.sub(r"resourceVersion: \"\d+\"", 'resourceVersion: "<rv>"', s)
    s = re.sub(r"(?m)^(\s*)(time|creationTimestamp|uid):.*$", r"\1\2: <x>", s)
    s = re.sub(r"/tmp/[\w./-]+", "<tmp>", s)
    s = re.sub(r"\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ [+-]\d{4}", "\t<time>", s)
    # Age columns: collapse the column's width too, since "3s" and "12s" differ in length.
    lines = []
    for line in s.splitlines():
        lines.append(re.sub(r"[ ]{2,}", "  ", AGE.sub("<age>", line)).rstrip())
    return "\n".join(lines)
